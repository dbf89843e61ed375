/**
 * AWS regions this starter can deploy to, by partition (the ARN prefix).
 * Source: botocore 1.43.11 `data/endpoints.json` (the AWS SDK's own region list); the isolated
 * ISO partitions are left out. Refresh: `python3 -c "import botocore, json, os; print(json.dumps({p['partition']: sorted(p['regions']) for p in json.load(open(os.path.join(os.path.dirname(botocore.__file__), 'data', 'endpoints.json')))['partitions']}, indent=1))"`
 */
export const REGIONS_BY_PARTITION = {
  aws: [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
  ],
  "aws-cn": ["cn-north-1", "cn-northwest-1"],
  "aws-us-gov": ["us-gov-east-1", "us-gov-west-1"],
  "aws-eusc": ["eusc-de-east-1"],
} as const;

export const REGIONS: readonly string[] = Object.values(REGIONS_BY_PARTITION).flat();
