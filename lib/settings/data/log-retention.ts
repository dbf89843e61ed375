/**
 * The retention periods, in days, that CloudWatch Logs accepts (`PutRetentionPolicy`).
 * Source: the `Days` shape's documentation in botocore 1.43's `logs/2014-03-28/service-2.json.gz`.
 * Refresh: `python3 -c "import botocore, gzip, json, os; p = os.path.join(os.path.dirname(botocore.__file__), 'data/logs/2014-03-28/service-2.json.gz'); print(json.load(gzip.open(p))['shapes']['Days']['documentation'])"`
 */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
