import { Construct } from "constructs";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { partitionOf, ServiceRole } from "./iam";
import { securityGroup } from "./security-group";
import { logGroup } from "./log-group";
import { check, checkInt, checkListed, checkOneOf } from "./validate";
import { POSTGRES_INSTANCE_CLASSES } from "./data/rds-instance-classes";

export interface DatabaseSettings {
  /** PostgreSQL on RDS wired into the app. @default true */
  readonly enabled?: boolean;
  /** PostgreSQL 14–17: a major (`"17"`) takes AWS's default minor and its upgrades; or pin `major.minor`. @default "17" */
  readonly engineVersion?: string;
  /** Instance class. @default "db.t4g.micro" */
  readonly instanceClass?: string;
  /** Storage in GiB, 20 or more (gp3's minimum for PostgreSQL). @default 20 */
  readonly allocatedStorageGb?: number;
  /** Storage autoscaling ceiling; 0 = off. @default 100 */
  readonly maxAllocatedStorageGb?: number;
  /** Database the app uses. @default "app" */
  readonly databaseName?: string;
  /** Master user (password managed by RDS). @default "app_admin" */
  readonly username?: string;
  /** Standby in a second AZ. @default false */
  readonly multiAz?: boolean;
  /** Refuse deletion (AWS protection and Terraform `prevent_destroy`, so `destroy` stops before removing anything). @default false */
  readonly deletionProtection?: boolean;
  /** Days of automated backups, 1–35. @default 7 */
  readonly backupRetentionDays?: number;
  /** Delete without a final snapshot (sandboxes only). @default false */
  readonly skipFinalSnapshot?: boolean;
  /** Performance Insights, 7 days. @default true */
  readonly performanceInsights?: boolean;
  /** Enhanced monitoring; 0 = off. @default 60 */
  readonly monitoringIntervalSeconds?: number;
  /** Days exported PostgreSQL logs are kept. @default 30 */
  readonly logRetentionDays?: number;
  /** Apply changes now instead of in the maintenance window. @default false */
  readonly applyImmediately?: boolean;
  /** Days the KMS key waits before deletion, 7–30. @default 30 */
  readonly keyDeletionWindowDays?: number;
}

export interface DatabaseProps extends DatabaseSettings {
  readonly name: string;
  readonly region: string;
  readonly vpcId: string;
  /** Private subnets, in two or more AZs. */
  readonly subnetIds: string[];
}

const SUPPORTED_MAJORS = [14, 15, 16, 17];
const PORT = 5432;
const RESERVED_NAMES = ["postgres", "template0", "template1", "rdsadmin", "admin", "public"];

/**
 * PostgreSQL on RDS, with no password anywhere Terraform can see: RDS creates and rotates the master
 * secret in Secrets Manager, and the app reads it through ECS secrets.
 */
export class Database extends Construct {
  private readonly allowedSources: string[] = [];
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  /** Encrypts storage, the master secret and Performance Insights. */
  readonly key: KmsKey;
  readonly port = PORT;
  readonly databaseName: string;
  /** The RDS-managed secret holding `username` and `password` as JSON keys. */
  readonly secretArn: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const version = props.engineVersion ?? "17";
    const major = checkEngineVersion(version);
    const storage = props.allocatedStorageGb ?? 20;
    check(
      Number.isInteger(storage) && storage >= 20 && storage <= 65536,
      "database.allocatedStorageGb",
      storage,
      storage < 20 ? "below PostgreSQL's minimum on gp3" : "out of range or not a whole number",
      "a whole number of GiB from 20 to 65536",
    );
    const maxStorage = checkInt("database.maxAllocatedStorageGb", props.maxAllocatedStorageGb ?? 100, 0, 65536);
    check(
      maxStorage === 0 || maxStorage > storage,
      "database.maxAllocatedStorageGb",
      maxStorage,
      `not above database.allocatedStorageGb (${storage})`,
      `0 (no storage autoscaling) or more than ${storage}`,
    );
    const instanceClass = props.instanceClass ?? "db.t4g.micro";
    checkListed("database.instanceClass", instanceClass, POSTGRES_INSTANCE_CLASSES, "RDS instance class for PostgreSQL", "lib/data/rds-instance-classes.ts");
    this.databaseName = checkIdentifier("database.databaseName", props.databaseName ?? "app");
    const username = checkIdentifier("database.username", props.username ?? "app_admin");
    const multiAz = props.multiAz ?? false;
    check(
      !multiAz || props.subnetIds.length >= 2,
      "database.multiAz",
      multiAz,
      `a standby needs a second AZ, but the database has ${props.subnetIds.length} subnet(s)`,
      "two or more availabilityZones",
    );
    check(props.subnetIds.length >= 2, "availabilityZones", props.subnetIds.length, "RDS subnet groups span at least two AZs", "two or more zones");
    const monitoring = checkOneOf("database.monitoringIntervalSeconds", props.monitoringIntervalSeconds ?? 60, [0, 1, 5, 10, 15, 30, 60]);
    const skipFinal = props.skipFinalSnapshot ?? false;

    this.key = new KmsKey(this, "Key", {
      description: `${props.name} database: storage, master secret, Performance Insights`,
      enableKeyRotation: true,
      deletionWindowInDays: checkInt("database.keyDeletionWindowDays", props.keyDeletionWindowDays ?? 30, 7, 30),
    });
    new KmsAlias(this, "KeyAlias", { name: `alias/${props.name}-db`, targetKeyId: this.key.keyId });

    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-db`,
      description: `Database of ${props.name}: PostgreSQL from the service only`,
      vpcId: props.vpcId,
    });

    const subnetGroup = new DbSubnetGroup(this, "SubnetGroup", {
      name: props.name,
      description: `Private subnets of ${props.name}`,
      subnetIds: props.subnetIds,
    });
    const parameters = new DbParameterGroup(this, "Parameters", {
      // The family is in the name so a major upgrade creates a new group beside the old one.
      name: `${props.name}-postgres${major}`,
      family: `postgres${major}`,
      description: `${props.name}: TLS required, slow queries logged`,
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    // RDS creates these itself, never expiring and never deleted; owning them sets retention.
    const logGroups = ["postgresql", "upgrade"].map((log) =>
      logGroup(this, `${log[0].toUpperCase()}${log.slice(1)}LogGroup`, {
        name: `/aws/rds/instance/${props.name}/${log}`,
        retentionDays: props.logRetentionDays ?? 30,
        retentionSetting: "database.logRetentionDays",
      }),
    );

    let monitoringRoleArn: string | undefined;
    if (monitoring > 0) {
      const role = new ServiceRole(this, "MonitoringRole", { name: `${props.name}-rds-monitoring`, service: "monitoring.rds.amazonaws.com" });
      new IamRolePolicyAttachment(this, "MonitoringPolicy", {
        role: role.role.name,
        policyArn: `arn:${partitionOf(props.region)}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
      });
      monitoringRoleArn = role.arn;
    }

    const insights = props.performanceInsights ?? true;
    this.instance = new DbInstance(this, "Instance", {
      identifier: props.name,
      engine: "postgres",
      engineVersion: version,
      instanceClass,
      allocatedStorage: storage,
      maxAllocatedStorage: maxStorage,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: this.key.arn,
      dbName: this.databaseName,
      username,
      port: PORT,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.key.arn,
      iamDatabaseAuthenticationEnabled: true,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: parameters.name,
      publiclyAccessible: false,
      multiAz,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      backupRetentionPeriod: checkInt("database.backupRetentionDays", props.backupRetentionDays ?? 7, 1, 35),
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection ?? false,
      skipFinalSnapshot: skipFinal,
      finalSnapshotIdentifier: skipFinal ? undefined : `${props.name}-final`,
      deleteAutomatedBackups: skipFinal,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      performanceInsightsEnabled: insights,
      performanceInsightsKmsKeyId: insights ? this.key.arn : undefined,
      performanceInsightsRetentionPeriod: insights ? 7 : undefined,
      monitoringInterval: monitoring,
      monitoringRoleArn,
      applyImmediately: props.applyImmediately ?? false,
      dependsOn: logGroups,
      // AWS's protection alone fails only the database's delete, after terraform has already destroyed
      // everything that does not depend on it (proven on the emulator). prevent_destroy refuses the plan.
      lifecycle: props.deletionProtection ? { preventDestroy: true } : undefined,
    });
    // One token for the secret, so every policy that names it names the same ARN once.
    this.secretArn = this.instance.masterUserSecret.get(0).secretArn;
  }

  /** Admits PostgreSQL connections from a security group; each call adds one, a repeated one is a no-op. */
  allowFrom(securityGroupId: string): void {
    if (this.allowedSources.includes(securityGroupId)) return;
    this.allowedSources.push(securityGroupId);
    // The first rule keeps the id it always had, so existing stacks plan no replacement.
    new VpcSecurityGroupIngressRule(this, this.allowedSources.length === 1 ? "IngressFromService" : `IngressFromService${this.allowedSources.length}`, {
      securityGroupId: this.securityGroup.id,
      description: "PostgreSQL from the service's tasks",
      ipProtocol: "tcp",
      fromPort: PORT,
      toPort: PORT,
      referencedSecurityGroupId: securityGroupId,
    });
  }
}

function checkEngineVersion(version: string): number {
  const match = /^(\d+)(\.\d+)?$/.exec(version);
  check(Boolean(match), "database.engineVersion", version, "unknown engine version format", 'a major version such as "17", or major.minor such as "17.4"');
  const major = Number(match![1]);
  check(
    SUPPORTED_MAJORS.includes(major),
    "database.engineVersion",
    version,
    `PostgreSQL ${major} is not a major version this starter supports`,
    SUPPORTED_MAJORS.join(", "),
  );
  return major;
}

function checkIdentifier(setting: string, value: string): string {
  check(
    /^[a-z][a-z0-9_]{0,62}$/.test(value) && !RESERVED_NAMES.includes(value) && !/^(rds|pg_)/.test(value),
    setting,
    value,
    "not a usable PostgreSQL name",
    `1-63 lowercase letters, digits and _, starting with a letter; not ${RESERVED_NAMES.join(", ")}, nor starting with rds or pg_`,
  );
  return value;
}
