/**
 * RDS DB instance classes for PostgreSQL (some are offered only in some regions and engine versions;
 * RDS says so at create time). Source: the RDS user guide's "Supported DB engines for DB instance
 * classes" table, as of 2026. Refresh: `aws rds describe-orderable-db-instance-options --engine postgres
 * --query 'OrderableDBInstanceOptions[].DBInstanceClass' --output text | tr '\t' '\n' | sort -u` in each region you use.
 */
const BURSTABLE = ["micro", "small", "medium", "large", "xlarge", "2xlarge"];
const UP_TO_16 = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"];
const UP_TO_24 = [...UP_TO_16, "24xlarge"];
const UP_TO_32 = [...UP_TO_24, "32xlarge"];
const UP_TO_48 = [...UP_TO_24, "48xlarge"];

const SIZES_BY_FAMILY: Record<string, readonly string[]> = {
  t3: BURSTABLE,
  t4g: BURSTABLE,
  m5: UP_TO_24,
  m5d: UP_TO_24,
  m6g: UP_TO_16,
  m6gd: UP_TO_16,
  m6i: UP_TO_32,
  m6id: UP_TO_32,
  m6idn: UP_TO_32,
  m6in: UP_TO_32,
  m7g: UP_TO_16,
  m7i: UP_TO_48,
  m8g: UP_TO_48,
  r5: UP_TO_24,
  r5b: UP_TO_24,
  r5d: UP_TO_24,
  r6g: UP_TO_16,
  r6gd: UP_TO_16,
  r6i: UP_TO_32,
  r6id: UP_TO_32,
  r6idn: UP_TO_32,
  r6in: UP_TO_32,
  r7g: UP_TO_16,
  r7i: UP_TO_48,
  r8g: UP_TO_48,
  x2g: UP_TO_16,
  x2iedn: ["xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "24xlarge", "32xlarge"],
};

export const POSTGRES_INSTANCE_CLASSES: readonly string[] = Object.entries(SIZES_BY_FAMILY).flatMap(([family, sizes]) =>
  sizes.map((size) => `db.${family}.${size}`),
);
