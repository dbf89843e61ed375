import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { EnvironmentContext } from "../core/environment";
import { checkName } from "../settings/validate";
import { jsonString } from "../core/hcl";
import { holdings, ResourceKind } from "../core/resource-kind";

/** The access log bucket and its settings (encryption, ownership, public access block, lifecycle, policy). */
export const LOG_BUCKET = new ResourceKind({
  name: "S3 access log bucket",
  file: __filename,
  types: [
    "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
  ],
  // PutBucketTagging replaces the bucket's whole tag set (S3's DeleteBucketTagging is authorized as it too).
  deploy: { services: ["s3"], tag: ["s3:PutBucketTagging"] },
  endpoints: ["s3"],
  price: { why: "billed by the logs stored (usage); the lifecycle rule expires them" },
  inventory: async (aws) =>
    holdings(
      "s3",
      "bucket",
      ((await aws("s3", "ListBuckets")).Buckets ?? []).map((b: { Name?: string }) => b.Name),
    ),
  alarms: { why: "a bucket that refuses the load balancer's logs loses logs, not requests; the dashboard shows the gap" },
});

/**
 * Regions older than August 2022 deliver ALB logs from a regional ELB account; newer ones from the
 * log delivery service principal. Kept here so no lookup is needed at plan time.
 */
const ELB_ACCOUNT_BY_REGION: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-south-1": "718504428378",
  "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887",
  "ap-northeast-3": "383597477331",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-southeast-3": "589379963580",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-west-3": "009996457667",
  "eu-south-1": "635631232127",
  "eu-north-1": "897822967062",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
  "us-gov-west-1": "048591011584",
  "us-gov-east-1": "190560391635",
  "cn-north-1": "638102146993",
  "cn-northwest-1": "037604701340",
};

/**
 * The bucket is named after the environment, and its load balancers (ELB writes under
 * `AWSLogs/<account>/`) are the environment's region and account (`EnvironmentContext`).
 */
export interface AccessLogsProps {
  /** Days before log objects expire. */
  readonly expiryDays: number;
  /** Let `destroy` empty the bucket. */
  readonly forceDestroy: boolean;
}

/** A private, encrypted, TLS-only bucket that receives the load balancer's access logs. */
export class AccessLogs extends Construct {
  readonly bucket: S3Bucket;
  /** The bucket policy; the load balancer must wait for it, or AWS rejects the log configuration. */
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: AccessLogsProps) {
    super(scope, id);
    const { prefix: name, region, partition, accountId } = EnvironmentContext.of(this);
    const expiry = props.expiryDays;
    // A prefix, not a name: S3 names are global, and AWS appends a unique suffix.
    const bucketPrefix = checkName("project and name", `${name}-lb-logs-`, 37, "access log bucket prefix");
    grantAccessLogsDeploy(this, bucketPrefix);
    this.bucket = new S3Bucket(this, "Bucket", { bucketPrefix, forceDestroy: props.forceDestroy });
    const access = new S3BucketPublicAccessBlock(this, "PublicAccessBlock", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "Ownership", { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    // ALB access logs support SSE-S3 only.
    new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket: this.bucket.id,
      rule: [{ id: "expire-logs", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: expiry }] }],
    });

    const account = ELB_ACCOUNT_BY_REGION[region];
    const writer = account ? { AWS: `arn:${partition}:iam::${account}:root` } : { Service: "logdelivery.elasticloadbalancing.amazonaws.com" };
    this.policy = new S3BucketPolicy(this, "Policy", {
      bucket: this.bucket.id,
      policy: jsonString({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "LoadBalancerWrites",
            Effect: "Allow",
            Principal: writer,
            Action: "s3:PutObject",
            Resource: `${this.bucket.arn}/AWSLogs/${accountId}/*`,
          },
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      dependsOn: [access],
    });
  }
}

/**
 * What the deploy role needs for the bucket: S3 checks no tags of a bucket (unless ABAC is turned on for
 * it), so by name, `<project>-<environment>-lb-logs-*`, which no other environment's bucket starts with.
 * Its objects only to empty it for `destroy`, and not in production.
 */
function grantAccessLogsDeploy(scope: Construct, bucketPrefix: string): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  const bucket = `arn:${deploy.partition}:s3:::${bucketPrefix}*`;
  deploy.allow([
    {
      Sid: "AccessLogBucket",
      Action: [
        "s3:CreateBucket",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucket*",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        ...(deploy.props.production ? [] : ["s3:DeleteBucket", "s3:DeleteBucketPolicy"]),
      ],
      Resource: bucket,
    },
    ...(deploy.props.production
      ? []
      : [{ Sid: "AccessLogObjects", Action: ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"], Resource: [bucket, `${bucket}/*`] }]),
  ]);
  // S3 evaluates no aws:RequestTag or aws:TagKeys for PutBucketTagging, so the CI role's retag deny cannot check it: the bucket is scoped by its name.
  deploy.kind(LOG_BUCKET);
}
