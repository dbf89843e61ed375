import { Construct } from "constructs";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { ServiceRole } from "../core/iam";
import { securityGroup } from "../core/security-group";
import type { Connection } from "../core/connection";
import { logGroup } from "../core/log-group";
import { accountAdministers } from "../core/encryption-key";
import { EnvironmentContext } from "../core/environment";
import { alarmMetric, metricOf, type Metric, type MetricOptions } from "../core/metric";
import { jsonString } from "../core/hcl";
import * as z from "zod/mini";
import { fail, flag, int, listed, matching, oneOfNumbers, retention, rule, withDefault } from "../settings/rules";
import { check } from "../settings/validate";
import { DeployPermissions } from "../core/deploy-permissions";
import { PermissionsBoundary } from "../core/permissions-boundary";
import { grantKeyDeploy } from "../core/encryption-key";
import { POSTGRES_INSTANCE_CLASSES } from "../settings/data/rds-instance-classes";
import { POSTGRES_RESERVED_WORDS } from "../settings/data/postgres-reserved-words";
import { Connections } from "../core/connections";
import type { AlarmSpec, AlarmThresholds, IWatchable } from "../core/watchable";
import { holdings, ResourceKind } from "../core/resource-kind";
import { databaseCost } from "../calculators/cost";

/**
 * PostgreSQL on RDS: the instance, its parameter and subnet groups, and the master secret RDS keeps for it
 * (its tags RDS's to set). A destroy outside production leaves no final snapshot; one left behind is a leftover.
 */
export const DATABASE = new ResourceKind({
  name: "PostgreSQL on RDS",
  file: __filename,
  types: ["aws_db_instance", "aws_db_parameter_group", "aws_db_subnet_group"],
  deploy: {
    services: ["rds", "secretsmanager"],
    tag: ["rds:AddTagsToResource", "secretsmanager:TagResource"],
    untag: ["rds:RemoveTagsFromResource", "secretsmanager:UntagResource"],
  },
  endpoints: ["rds", "secretsmanager"],
  price: databaseCost,
  inventory: async (aws) => [
    ...holdings(
      "rds",
      "db-instance",
      ((await aws("rds", "DescribeDBInstances")).DBInstances ?? []).map((d: { DBInstanceIdentifier?: string }) => d.DBInstanceIdentifier),
    ),
    ...holdings(
      "rds",
      "db-subnet-group",
      ((await aws("rds", "DescribeDBSubnetGroups")).DBSubnetGroups ?? [])
        .map((g: { DBSubnetGroupName?: string }) => g.DBSubnetGroupName)
        .filter((name: string | undefined) => name !== "default"),
    ),
    ...holdings(
      "rds",
      "db-parameter-group",
      ((await aws("rds", "DescribeDBParameterGroups")).DBParameterGroups ?? [])
        .map((g: { DBParameterGroupName?: string }) => g.DBParameterGroupName)
        .filter((name: string | undefined) => !name?.startsWith("default.")),
    ),
    ...holdings(
      "rds",
      "db-snapshot",
      ((await aws("rds", "DescribeDBSnapshots", { SnapshotType: "manual" })).DBSnapshots ?? []).map(
        (s: { DBSnapshotIdentifier?: string }) => s.DBSnapshotIdentifier,
      ),
    ),
    ...holdings(
      "secretsmanager",
      "secret",
      ((await aws("secrets-manager", "ListSecrets")).SecretList ?? []).map((s: { Name?: string }) => s.Name),
    ),
  ],
  alarms: { namespace: "AWS/RDS" },
});

const SUPPORTED_MAJORS = [14, 15, 16, 17];
/** The variables `connection` gives a task: where the database is and the app's role, which logs in with an IAM token. */
export const CONNECTION_VARIABLES = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_IAM_USER"] as const;
/**
 * The owner's login, which `connection` gives the API task's migrate container alone (ECS `secrets` of the master secret's keys);
 * reserved beside the connection, so a task cannot set a fixed login of its own.
 */
export const LOCAL_LOGIN_VARIABLES = ["DB_USERNAME", "DB_PASSWORD"] as const;
const PORT = 5432;
const RESERVED_NAMES = ["postgres", "template0", "template1", "rdsadmin", "admin", "public"];

const engineVersion = z.string().check(
  rule<string>((v) => /^(\d+)(\.\d+)?$/.test(v), "unknown engine version format", 'a major version such as "17", or major.minor such as "17.4"'),
  rule<string>(
    (v) => !/^\d/.test(v) || SUPPORTED_MAJORS.includes(majorOf(v)),
    (v) => `PostgreSQL ${majorOf(v)} is not a major version this starter supports`,
    SUPPORTED_MAJORS.join(", "),
  ),
);

const identifier = matching(
  new RegExp(`^(?!(${RESERVED_NAMES.join("|")})$)(?!rds|pg_)[a-z][a-z0-9_]{0,62}$`),
  "not a usable PostgreSQL name",
  `1-63 lowercase letters, digits and _, starting with a letter; not ${RESERVED_NAMES.join(", ")}, nor starting with rds or pg_`,
).check(
  rule<string>(
    (v) => !POSTGRES_RESERVED_WORDS.includes(v),
    "a PostgreSQL reserved word, which RDS refuses as the master user or database name",
    "a name that is not one of PostgreSQL's reserved words (lib/settings/data/postgres-reserved-words.ts)",
  ),
);

export const DatabaseSettingsSchema = z
  .strictObject({
    /** PostgreSQL on RDS wired into the app. @default true */
    enabled: withDefault(flag, true),
    /** PostgreSQL 14–17: a major (`"17"`) takes AWS's default minor and its upgrades; or pin `major.minor`. @default "17" */
    engineVersion: withDefault(engineVersion, "17"),
    /** Instance class. @default "db.t4g.micro" */
    instanceClass: withDefault(
      listed(POSTGRES_INSTANCE_CLASSES, "RDS instance class for PostgreSQL", "lib/settings/data/rds-instance-classes.ts"),
      "db.t4g.micro",
    ),
    /** Storage in GiB, 20 or more (gp3's minimum for PostgreSQL). @default 20 */
    allocatedStorageGb: withDefault(
      z.number().check(
        rule<number>(
          (v) => Number.isInteger(v) && v >= 20 && v <= 65536,
          (v) => (v < 20 ? "below PostgreSQL's minimum on gp3" : "out of range or not a whole number"),
          "a whole number of GiB from 20 to 65536",
        ),
      ),
      20,
    ),
    /** Storage autoscaling ceiling; 0 = off. @default 100 */
    maxAllocatedStorageGb: withDefault(int(0, 65536), 100),
    /** Database the app uses: 1–63 lowercase letters, digits and _, not a PostgreSQL reserved word. @default "app" */
    databaseName: withDefault(identifier, "app"),
    /** Master user (password managed by RDS): as `databaseName`, 1–63 lowercase letters, digits and _, not a reserved word. @default "app_admin" */
    username: withDefault(identifier, "app_admin"),
    /**
     * The app's own PostgreSQL role, which the API, workers and jobs log in as with IAM database authentication: it reads and writes the app's
     * tables and nothing else; the API task's migrate container (the master user) creates and grants it. As `username`, and not the master user.
     * @default "app"
     */
    appUsername: withDefault(identifier, "app"),
    /** Standby in a second AZ. @default false */
    multiAz: withDefault(flag, false),
    /** Refuse deletion (AWS protection and Terraform `prevent_destroy`, so `destroy` stops before removing anything). @default false */
    deletionProtection: withDefault(flag, false),
    /** Days of automated backups, 1–35. @default 7 */
    backupRetentionDays: withDefault(int(1, 35), 7),
    /** Delete without a final snapshot (sandboxes only). @default false */
    skipFinalSnapshot: withDefault(flag, false),
    /** Performance Insights, 7 days. @default true */
    performanceInsights: withDefault(flag, true),
    /** Enhanced monitoring; 0 = off. @default 60 */
    monitoringIntervalSeconds: withDefault(oneOfNumbers([0, 1, 5, 10, 15, 30, 60]), 60),
    /** Days exported PostgreSQL logs are kept. @default 30 */
    logRetentionDays: withDefault(retention(), 30),
    /** Apply changes now instead of in the maintenance window. @default false */
    applyImmediately: withDefault(flag, false),
    /** Days the KMS key waits before deletion, 7–30. @default 30 */
    keyDeletionWindowDays: withDefault(int(7, 30), 30),
  })
  .check(
    z.superRefine((s, ctx) => {
      // The app's role must not be the owner: that is the whole point of it.
      if (s.appUsername === s.username)
        fail(ctx, ["appUsername"], s.appUsername, "the master user, which the app must not log in as", "a role name of its own, not database.username");
      // RDS refuses a storage autoscaling ceiling less than 10 % above the allocation.
      const least = Math.ceil(s.allocatedStorageGb * 1.1);
      if (s.maxAllocatedStorageGb !== 0 && s.maxAllocatedStorageGb < least)
        fail(
          ctx,
          ["maxAllocatedStorageGb"],
          s.maxAllocatedStorageGb,
          s.maxAllocatedStorageGb <= s.allocatedStorageGb
            ? `not above database.allocatedStorageGb (${s.allocatedStorageGb})`
            : `less than 10 % above database.allocatedStorageGb (${s.allocatedStorageGb}), which RDS refuses for storage autoscaling`,
          `0 (no storage autoscaling) or ${least} or more`,
        );
    }),
  );
/** The database's settings as written in an environment. */
export type DatabaseSettings = z.input<typeof DatabaseSettingsSchema>;
/** The same, checked and with every default applied. */
export type DatabaseConfig = z.output<typeof DatabaseSettingsSchema>;

function majorOf(version: string): number {
  return Number(version.split(".")[0]);
}

/** The instance is named after the environment, and its log groups use the environment's key (`EnvironmentContext`). */
export interface DatabaseProps extends DatabaseConfig {
  readonly vpcId: string;
  /** Private subnets, in two or more AZs. */
  readonly subnetIds: string[];
}

/**
 * PostgreSQL on RDS, with no password anywhere Terraform can see: RDS creates and rotates the master
 * secret in Secrets Manager, and the app reads it with its task role when it connects.
 */
export class Database extends Construct implements IWatchable {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  /** Network access to it: `service.connections.allowTo(database)` admits the service's tasks on PostgreSQL's port. */
  readonly connections: Connections;
  /** Encrypts storage, the master secret and Performance Insights. */
  readonly key: KmsKey;
  readonly port = PORT;
  readonly databaseName: string;
  /** The RDS-managed secret holding `username` and `password` as JSON keys. */
  readonly secretArn: string;
  /** The app's own role (`appUsername`), logged in with IAM database authentication. */
  readonly appUsername: string;
  private readonly region: string;
  private readonly accountId: string;
  private readonly partition: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const environment = EnvironmentContext.of(this);
    const name = environment.prefix;
    this.region = environment.region;
    this.accountId = environment.accountId;
    this.partition = environment.partition;
    this.appUsername = props.appUsername;
    const version = props.engineVersion;
    const major = majorOf(version);
    const storage = props.allocatedStorageGb;
    const maxStorage = props.maxAllocatedStorageGb;
    const instanceClass = props.instanceClass;
    this.databaseName = props.databaseName;
    const username = props.username;
    const multiAz = props.multiAz;
    // The subnets are a construct prop, not a setting: RDS subnet groups span two AZs or more.
    check(props.subnetIds.length >= 2, "availabilityZones", props.subnetIds.length, "RDS subnet groups span at least two AZs", "two or more zones");
    const monitoring = props.monitoringIntervalSeconds;
    const skipFinal = props.skipFinalSnapshot;
    grantDatabaseDeploy(this, monitoring > 0, props.appUsername);

    this.key = new KmsKey(this, "Key", {
      description: `${name} database: storage, master secret, Performance Insights`,
      enableKeyRotation: true,
      deletionWindowInDays: props.keyDeletionWindowDays,
      // Written out, as the environment key's is; RDS and Secrets Manager use it on behalf of callers
      // whose IAM policies allow it.
      policy: jsonString({ Version: "2012-10-17", Statement: [accountAdministers(environment.partition, environment.accountId)] }),
    });
    new KmsAlias(this, "KeyAlias", { name: `alias/${name}-db`, targetKeyId: this.key.keyId });

    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${name}-db`,
      description: `Database of ${name}: PostgreSQL from the service only`,
      vpcId: props.vpcId,
    });
    this.connections = new Connections(this, {
      securityGroupId: this.securityGroup.id,
      kind: "Database",
      defaultPort: PORT,
      // As first written, for every source: a rule's description cannot change without replacing it.
      ingressDescription: () => "PostgreSQL from the service tasks",
      egressDescription: "PostgreSQL to the database",
    });

    const subnetGroup = new DbSubnetGroup(this, "SubnetGroup", {
      name: name,
      description: `Private subnets of ${name}`,
      subnetIds: props.subnetIds,
    });
    const parameters = new DbParameterGroup(this, "Parameters", {
      // The family is in the name so a major upgrade creates a new group beside the old one.
      name: `${name}-postgres${major}`,
      family: `postgres${major}`,
      description: `${name}: TLS required, slow queries logged`,
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    // RDS creates these itself, never expiring and never deleted; owning them sets retention.
    const logGroups = ["postgresql", "upgrade"].map((log) =>
      logGroup(this, `${log[0].toUpperCase()}${log.slice(1)}LogGroup`, {
        name: `/aws/rds/instance/${name}/${log}`,
        retentionDays: props.logRetentionDays,
      }),
    );

    let monitoringRoleArn: string | undefined;
    if (monitoring > 0) {
      const { accountId, partition } = environment;
      const role = new ServiceRole(this, "MonitoringRole", {
        name: `${name}-rds-monitoring`,
        service: "monitoring.rds.amazonaws.com",
        // Confused deputy: "Setting up and enabling Enhanced Monitoring" (Protecting against the confused
        // deputy problem), https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html:
        // aws:SourceAccount and the DB instance's ARN as aws:SourceArn.
        trust: { sourceAccount: accountId, sourceArn: `arn:${partition}:rds:${this.region}:${accountId}:db:${name}` },
      });
      new IamRolePolicyAttachment(this, "MonitoringPolicy", {
        role: role.role.name,
        policyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
      });
      monitoringRoleArn = role.arn;
    }

    const insights = props.performanceInsights;
    this.instance = new DbInstance(this, "Instance", {
      identifier: name,
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
      backupRetentionPeriod: props.backupRetentionDays,
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection,
      skipFinalSnapshot: skipFinal,
      finalSnapshotIdentifier: skipFinal ? undefined : `${name}-final`,
      deleteAutomatedBackups: skipFinal,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      performanceInsightsEnabled: insights,
      performanceInsightsKmsKeyId: insights ? this.key.arn : undefined,
      performanceInsightsRetentionPeriod: insights ? 7 : undefined,
      monitoringInterval: monitoring,
      monitoringRoleArn,
      applyImmediately: props.applyImmediately,
      dependsOn: logGroups,
      // AWS's protection alone fails only the database's delete, after terraform has already destroyed
      // everything that does not depend on it (proven on the emulator). prevent_destroy refuses the plan.
      lifecycle: props.deletionProtection ? { preventDestroy: true } : undefined,
    });
    // One token for the secret, so every policy that names it names the same ARN once.
    this.secretArn = this.instance.masterUserSecret.get(0).secretArn;
  }

  /**
   * What a task needs to use the database. The app logs in as its own role (`appUsername`), never the
   * master user: plain variables (`DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_IAM_USER`) and, for the task role,
   * `rds-db:connect` as that user of this instance only (arn:…:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>,
   * "Actions, resources, and condition keys for Amazon RDS IAM Authentication",
   * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsiamauthentication.html):
   * a token made when a connection opens, so there is no password to rotate or go stale. The owner's login
   * (the master secret's `username` and `password` keys) goes only to a container that migrates before the
   * app (`owner`: the API task's migrate container), resolved by the execution role when the task starts
   * ("Pass Secrets Manager secrets through Amazon ECS environment variables",
   * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html): RDS's
   * rotation never reaches a running task, as that container has finished long before. Network access is
   * granted apart, with `connections`.
   */
  get connection(): Connection {
    // The boundary names RDS's secrets by their name pattern (rds!db-…): see WiredSecret.boundaryArn.
    const boundaryArn = `arn:${this.partition}:secretsmanager:${this.region}:${this.accountId}:secret:rds!db-*`;
    const owner = (name: string, key: string) => ({ name, valueFrom: `${this.secretArn}:${key}::`, resourceArn: this.secretArn, boundaryArn });
    return {
      environment: { DB_HOST: this.instance.address, DB_PORT: String(this.port), DB_NAME: this.databaseName, DB_IAM_USER: this.appUsername },
      secrets: [],
      decryptKeyArns: [],
      taskStatements: [{ Sid: "DatabaseConnect", Action: "rds-db:connect", Resource: this.appUserArn }],
      owner: { secrets: [owner("DB_USERNAME", "username"), owner("DB_PASSWORD", "password")], decryptKeyArns: [this.key.arn] },
    };
  }

  /** The app's role on this instance, as `rds-db:connect` names it: the instance's resource id (DbiResourceId) and the user. */
  get appUserArn(): string {
    return `arn:${this.partition}:rds-db:${this.region}:${this.accountId}:dbuser:${this.instance.resourceId}/${this.appUsername}`;
  }

  /** The instance's CPU, in %; Average over 5 minutes. */
  metricCpuUtilization(options?: MetricOptions): Metric {
    return this.metric("CPUUtilization", options);
  }

  /** Bytes of storage left; Average over 5 minutes. */
  metricFreeStorageSpace(options?: MetricOptions): Metric {
    return this.metric("FreeStorageSpace", options);
  }

  /** Bytes of memory left; Average over 5 minutes. */
  metricFreeableMemory(options?: MetricOptions): Metric {
    return this.metric("FreeableMemory", options);
  }

  /** Open connections; Average over 5 minutes. */
  metricDatabaseConnections(options?: MetricOptions): Metric {
    return this.metric("DatabaseConnections", options);
  }

  private metric(metricName: string, options?: MetricOptions): Metric {
    return metricOf("AWS/RDS", metricName, { DBInstanceIdentifier: this.instance.identifier }, "Average", options);
  }

  /** Its alarms: CPU, free storage, freeable memory and connections. */
  alarmSpecs(t: AlarmThresholds): AlarmSpec[] {
    const watches: [id: string, what: string, metric: Metric, above: boolean, threshold: number, periods: number, description: string][] = [
      [
        "DatabaseCpu",
        "db-cpu",
        this.metricCpuUtilization(),
        true,
        t.databaseCpuPercent,
        3,
        `The database's CPU above ${t.databaseCpuPercent} % over 15 minutes`,
      ],
      [
        "DatabaseFreeStorage",
        "db-free-storage",
        this.metricFreeStorageSpace(),
        false,
        t.databaseFreeStorageGb * 1024 ** 3,
        1,
        `The database's free storage below ${t.databaseFreeStorageGb} GiB`,
      ],
      [
        "DatabaseFreeMemory",
        "db-free-memory",
        this.metricFreeableMemory(),
        false,
        t.databaseFreeMemoryMb * 1024 ** 2,
        3,
        `The database's freeable memory below ${t.databaseFreeMemoryMb} MiB for 15 minutes`,
      ],
      [
        "DatabaseConnections",
        "db-connections",
        this.metricDatabaseConnections(),
        true,
        t.databaseConnections,
        1,
        `More than ${t.databaseConnections} open database connections over 5 minutes`,
      ],
    ];
    return watches.map(([id, what, metric, above, threshold, evaluationPeriods, alarmDescription]) => ({
      id,
      what,
      body: {
        ...alarmMetric(metric),
        alarmDescription,
        comparisonOperator: above ? "GreaterThanThreshold" : "LessThanThreshold",
        threshold,
        evaluationPeriods,
        treatMissingData: "missing",
      },
    }));
  }
}

/** The AWS-managed policy the monitoring role carries, as the boundary must allow it: RDS's OS metrics in `RDS*` log groups. */
const ENHANCED_MONITORING: readonly [actions: string[], resource: string][] = [
  [["logs:CreateLogGroup", "logs:PutRetentionPolicy"], "log-group:RDS*"],
  [["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:PutLogEvents"], "log-group:RDS*:log-stream:*"],
];

/**
 * The boundary for the app's login (`rds-db:connect` as the app's role on any instance of the account and
 * region: the resource id is RDS's to pick, so the user name is what the boundary can hold it to; the
 * task role names its own instance) and for enhanced monitoring; and what the deploy role needs: the instance, its parameter and subnet
 * groups, tagged; its secret and key only through RDS and Secrets Manager, acting for the deploy.
 */
function grantDatabaseDeploy(scope: Construct, monitoring: boolean, appUsername: string): void {
  const boundary = PermissionsBoundary.of(scope);
  boundary?.allow([
    // The master secret is read only by the migrate container's execution role, which the task definition
    // allows by its exact ARN (TaskSecrets); no role under the boundary reads any other rds! secret.
    { Sid: "DatabaseConnect", Action: "rds-db:connect", Resource: boundary.arnOf("rds-db", `dbuser:*/${appUsername}`) },
    ...(monitoring
      ? ENHANCED_MONITORING.map(([actions, resource], i) => ({ Sid: `EnhancedMonitoring${i}`, Action: actions, Resource: boundary.arnOf("logs", resource) }))
      : []),
  ]);
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  grantKeyDeploy(scope);
  deploy.service("Rds", {
    // The provider reads the instance by its resource id with a filter, which RDS authorizes against db:* (no tags):
    // hashicorp/terraform-provider-aws#35737. A read of configuration, listed in docs/security.md's exceptions.
    read: ["rds:DescribeDBEngineVersions", "rds:DescribeDBInstances"],
    kind: DATABASE,
    create: ["rds:AddTagsToResource", "rds:CreateDBInstance", "rds:CreateDBParameterGroup", "rds:CreateDBSubnetGroup"],
    manage: [
      // The parameter and subnet groups a new instance names.
      "rds:CreateDBInstance",
      "rds:AddTagsToResource",
      "rds:DeleteDBParameterGroup",
      "rds:DeleteDBSubnetGroup",
      "rds:DescribeDBParameterGroups",
      "rds:DescribeDBParameters",
      "rds:DescribeDBSubnetGroups",
      "rds:ListTagsForResource",
      "rds:ModifyDBInstance",
      "rds:ModifyDBParameterGroup",
      "rds:ModifyDBSubnetGroup",
      "rds:RemoveTagsFromResource",
    ],
    destroy: ["rds:DeleteDBInstance"],
  });
  // The secret's tags are RDS's to set; removing them is declared with the kind too, so the CI role's deny refuses taking off its Environment or Project.
  deploy.allow([
    // RDS creates, rotates and deletes the master secret (named rds!…) with the caller's permissions
    // (forward access sessions): only through an AWS service, never called by the role itself.
    {
      Sid: "DatabaseSecretThroughRds",
      Action: [
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:RotateSecret",
        "secretsmanager:TagResource",
      ],
      Resource: deploy.arn("secretsmanager", "secret:rds!*"),
      Condition: { Bool: { "aws:ViaAWSService": "true" } },
    },
    // RDS and Secrets Manager use the database key for storage and the secret, as the caller.
    {
      Sid: "DatabaseKeyThroughRds",
      Action: [
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ],
      Resource: deploy.arn("kms", "key/*"),
      Condition: {
        StringEquals: {
          ...deploy.ownResource.StringEquals,
          "kms:ViaService": [`rds.${deploy.region}.amazonaws.com`, `secretsmanager.${deploy.region}.amazonaws.com`],
        },
      },
    },
  ]);
  if (monitoring) {
    deploy.passRole("EnhancedMonitoring", ["rds-monitoring"], "monitoring.rds.amazonaws.com");
    deploy.attachPolicies(["service-role/AmazonRDSEnhancedMonitoringRole"]);
  }
  deploy.serviceLinkedRole("rds.amazonaws.com");
}
