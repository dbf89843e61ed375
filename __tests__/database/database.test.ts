import { Construct } from "constructs";
import { Connections, type IConnectable } from "../../lib/core/connections";
import { container, env, only, ref, resources, rolePolicy, synth, TfJson } from "../support/helpers";
import { resolved, testApp, testKey } from "../support/bare-stack";
import { Testing, TerraformStack } from "cdktf";
import { CONNECTION_VARIABLES, Database, DatabaseSettingsSchema } from "../../lib/database/database";

/** Every key named `password`, anywhere in the synthesized JSON. */
function passwordKeys(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => passwordKeys(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(/password$/i.test(k) && k !== "manage_master_user_password" ? [`${path}.${k}`] : []),
      ...passwordKeys(v, `${path}.${k}`),
    ]);
  }
  return [];
}

const secretArnRef = (tf: TfJson) => `${ref(tf, "aws_db_instance", only(tf, "aws_db_instance"), "master_user_secret[0].secret_arn")}`;

/** The database's own key (the environment's key encrypts logs). */
function dbKey(tf: TfJson): Record<string, any> {
  const found = resources(tf, "aws_kms_key").filter((k) => String(k.description).includes("database"));
  if (found.length !== 1) throw new Error(`expected one database key, found ${found.length}`);
  return found[0];
}

describe("Database", () => {
  const tf = synth(env());
  const db = only(tf, "aws_db_instance");

  test("is PostgreSQL in a subnet group over the private subnets", () => {
    expect(db).toMatchObject({ engine: "postgres", engine_version: "17", instance_class: "db.t4g.micro", port: 5432 });
    const privateIds = Object.entries(tf.resource.aws_subnet)
      .filter(([, s]) => s.tags.Tier === "private")
      .map(([n]) => `\${aws_subnet.${n}.id}`);
    expect(only(tf, "aws_db_subnet_group").subnet_ids).toEqual(privateIds);
  });

  test("no password anywhere: RDS makes and rotates the master secret itself", () => {
    expect(db.manage_master_user_password).toBe(true);
    expect(passwordKeys(tf)).toEqual([]);
    expect(tf.resource.random_password).toBeUndefined();
  });

  test("the security group admits PostgreSQL from the service's security group only", () => {
    const dbSg = resources(tf, "aws_security_group").find((g) => g.name.endsWith("-db"))!;
    const tasksSg = resources(tf, "aws_security_group").find((g) => g.name.endsWith("-tasks"))!;
    const rules = resources(tf, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === ref(tf, "aws_security_group", dbSg, "id"));
    expect(rules).toEqual([
      expect.objectContaining({
        ip_protocol: "tcp",
        from_port: 5432,
        to_port: 5432,
        referenced_security_group_id: ref(tf, "aws_security_group", tasksSg, "id"),
      }),
    ]);
    expect(dbSg.ingress).toBeUndefined();
    expect(db.vpc_security_group_ids).toEqual([ref(tf, "aws_security_group", dbSg, "id")]);
  });

  test("storage, master secret and Performance Insights are encrypted with a rotating KMS key of their own", () => {
    const key = dbKey(tf);
    expect(key.enable_key_rotation).toBe(true);
    const keyArn = ref(tf, "aws_kms_key", key, "arn");
    expect(db).toMatchObject({ storage_encrypted: true, kms_key_id: keyArn, master_user_secret_kms_key_id: keyArn, performance_insights_kms_key_id: keyArn });
  });

  test("its key has an explicit policy: the account administers it through IAM, no role is named in it", () => {
    expect(JSON.parse(dbKey(tf).policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministersThroughIam",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::${data.aws_caller_identity.Account.account_id}:root" },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    });
  });

  test("safe defaults: private, minor upgrades on, backups kept, tags copied to snapshots, IAM auth on", () => {
    expect(db).toMatchObject({
      publicly_accessible: false,
      auto_minor_version_upgrade: true,
      backup_retention_period: 7,
      copy_tags_to_snapshot: true,
      iam_database_authentication_enabled: true,
      deletion_protection: false,
      skip_final_snapshot: false,
      final_snapshot_identifier: "rest-api-test-final",
    });
  });

  test("exports PostgreSQL logs to log groups the stack owns, with retention", () => {
    expect(db.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    const names = resources(tf, "aws_cloudwatch_log_group").map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining(["/aws/rds/instance/rest-api-test/postgresql", "/aws/rds/instance/rest-api-test/upgrade"]));
    expect(db.depends_on).toHaveLength(2);
  });

  test("Performance Insights and enhanced monitoring with its own role", () => {
    expect(db).toMatchObject({ performance_insights_enabled: true, performance_insights_retention_period: 7, monitoring_interval: 60 });
    const role = resources(tf, "aws_iam_role").find((r) => r.name === "rest-api-test-rds-monitoring")!;
    expect(db.monitoring_role_arn).toBe(ref(tf, "aws_iam_role", role, "arn"));
    expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: "monitoring.rds.amazonaws.com" });
    expect(only(tf, "aws_iam_role_policy_attachment").policy_arn).toBe("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole");
  });

  test("a parameter group of the engine's family forces TLS", () => {
    const pg = only(tf, "aws_db_parameter_group");
    expect(pg.family).toBe("postgres17");
    expect(pg.parameter).toContainEqual({ name: "rds.force_ssl", value: "1" });
    expect(db.parameter_group_name).toBe(ref(tf, "aws_db_parameter_group", pg, "name"));
  });

  describe("wiring into the app", () => {
    test("host, port and name arrive as plain environment variables", () => {
      const vars = Object.fromEntries(container(tf).environment.map((e: { name: string; value: string }) => [e.name, e.value]));
      expect(vars).toMatchObject({ DB_HOST: ref(tf, "aws_db_instance", db, "address"), DB_PORT: "5432", DB_NAME: "app" });
    });

    test("the app logs in as its own role: DB_IAM_USER names it, no secret and no secret ARN reach the app container", () => {
      const vars = Object.fromEntries(container(tf).environment.map((e: { name: string; value: string }) => [e.name, e.value]));
      expect(vars.DB_IAM_USER).toBe("app");
      expect(vars.DB_SECRET_ARN).toBeUndefined();
      expect(container(tf).secrets).toEqual([]);
      expect(JSON.stringify(container(tf))).not.toContain("master_user_secret");
    });

    test("the task role may only rds-db:connect as the app's role of this instance (its resource id), and read no secret", () => {
      const { Statement } = rolePolicy(tf, "-task", "Connections");
      expect(Statement).toEqual([
        {
          Sid: "DatabaseConnect",
          Effect: "Allow",
          Action: "rds-db:connect",
          Resource: `arn:aws:rds-db:${env().region}:\${data.aws_caller_identity.Account.account_id}:dbuser:${ref(tf, "aws_db_instance", db, "resource_id")}/app`,
        },
      ]);
    });

    test("the owner's login goes to the migrate container alone, as ECS secrets of the master secret's keys, read by the execution role", () => {
      const migrate = JSON.parse(only(tf, "aws_ecs_task_definition").container_definitions).find((c: { name: string }) => c.name === "migrate");
      expect(migrate).toMatchObject({ essential: false });
      expect(migrate.secrets).toEqual([
        { name: "DB_USERNAME", valueFrom: `${secretArnRef(tf)}:username::` },
        { name: "DB_PASSWORD", valueFrom: `${secretArnRef(tf)}:password::` },
      ]);
      expect(container(tf).dependsOn).toEqual([{ containerName: "migrate", condition: "SUCCESS" }]);
      const { Statement } = rolePolicy(tf, "-execution", "Policy");
      expect(Statement.map((s) => s.Sid)).toEqual(["EcrAuth", "EcrPull", "Logs", "Secrets", "Decrypt"]);
      expect(Statement.find((s) => s.Sid === "Secrets")).toMatchObject({ Action: "secretsmanager:GetSecretValue", Resource: [secretArnRef(tf)] });
      expect(Statement.find((s) => s.Sid === "Decrypt")).toMatchObject({ Resource: [ref(tf, "aws_kms_key", dbKey(tf), "arn")] });
    });

    test("the app's role is a PostgreSQL name of its own: never the master user", () => {
      expect(() => synth(env({ database: { appUsername: "app_admin" } }))).toThrow(
        'Invalid setting database.appUsername = "app_admin": the master user, which the app must not log in as.',
      );
      expect(() => synth(env({ database: { appUsername: "App" } }))).toThrow("database.appUsername");
      const vars = (t: typeof tf) => Object.fromEntries(container(t).environment.map((e: { name: string; value: string }) => [e.name, e.value]));
      expect(vars(synth(env({ database: { appUsername: "notes_rw" } }))).DB_IAM_USER).toBe("notes_rw");
    });

    test("outputs the endpoint and the secret's ARN", () => {
      expect(tf.output!.DatabaseEndpoint.value).toBe(ref(tf, "aws_db_instance", db, "endpoint"));
      expect(tf.output!.DatabaseSecretArn.value).toBe(secretArnRef(tf));
    });
  });

  test("dev-style settings destroy cleanly: no final snapshot, automated backups dropped", () => {
    const dev = only(synth(env({ database: { skipFinalSnapshot: true, keyDeletionWindowDays: 7 } })), "aws_db_instance");
    expect(dev).toMatchObject({ skip_final_snapshot: true, delete_automated_backups: true });
    expect(dev.final_snapshot_identifier).toBeUndefined();
  });

  test("prod-style settings: Multi-AZ, deletion protection and a final snapshot", () => {
    const prod = only(synth(env({ database: { multiAz: true, deletionProtection: true } })), "aws_db_instance");
    expect(prod).toMatchObject({ multi_az: true, deletion_protection: true, skip_final_snapshot: false, delete_automated_backups: false });
  });

  test("deletion protection also refuses a destroy at plan time, before anything else is removed", () => {
    expect(only(synth(env({ database: { deletionProtection: true } })), "aws_db_instance").lifecycle).toEqual({ prevent_destroy: true });
    expect(only(synth(env({ database: { deletionProtection: false } })), "aws_db_instance").lifecycle).toBeUndefined();
  });

  test("turned off, it leaves no database resource and no DB_ variable, and the rest still synthesizes", () => {
    const off = synth(env({ database: { enabled: false } }));
    expect(Object.keys(off.resource).filter((t) => t.startsWith("aws_db_"))).toEqual([]);
    expect(resources(off, "aws_kms_key").map((k) => k.description)).toEqual(["rest-api-test environment key"]);
    expect(container(off).environment.map((e: { name: string }) => e.name)).toEqual([
      "APP_ENV",
      "DRAIN_QUIET_MS",
      "DRAIN_TIMEOUT_MS",
      "KEEP_ALIVE_TIMEOUT_MS",
      "PORT",
    ]);
    expect(container(off).secrets).toEqual([]);
    expect(off.output!.DatabaseEndpoint).toBeUndefined();
  });

  describe("rejects bad settings at synth", () => {
    test("storage below the engine minimum", () => {
      expect(() => synth(env({ database: { allocatedStorageGb: 10 } }))).toThrow(
        "Invalid setting database.allocatedStorageGb = 10: below PostgreSQL's minimum on gp3. Allowed: a whole number of GiB from 20 to 65536.",
      );
    });
    test("an unknown engine version format", () => {
      expect(() => synth(env({ database: { engineVersion: "v16-latest" } }))).toThrow(
        /Invalid setting database\.engineVersion = "v16-latest": unknown engine version format/,
      );
    });
    test("an unsupported major version", () => {
      expect(() => synth(env({ database: { engineVersion: "9.6" } }))).toThrow(
        /PostgreSQL 9 is not a major version this starter supports\. Allowed: 14, 15, 16, 17/,
      );
    });
    test("a storage ceiling below the storage", () => {
      expect(() => synth(env({ database: { allocatedStorageGb: 100, maxAllocatedStorageGb: 50 } }))).toThrow(
        /database\.maxAllocatedStorageGb = 50: not above database\.allocatedStorageGb \(100\)/,
      );
    });
    test("a reserved username", () => {
      expect(() => synth(env({ database: { username: "postgres" } }))).toThrow(/database\.username = "postgres": not a usable PostgreSQL name/);
    });
    test("an enhanced monitoring interval RDS does not offer", () => {
      expect(() => synth(env({ database: { monitoringIntervalSeconds: 20 } }))).toThrow(/database\.monitoringIntervalSeconds = 20: not a supported value/);
    });
  });
});

test("given one subnet, when the construct is built on its own, then it is refused: RDS subnet groups span two AZs", () => {
  // The stack always has 2+ AZs, so exercise the construct directly.
  const stack = new TerraformStack(testApp(), "s");
  const settings = DatabaseSettingsSchema.parse({ multiAz: true });
  expect(() => {
    testKey(stack);
    return new Database(stack, "Db", { ...settings, vpcId: "vpc-1", subnetIds: ["subnet-1"] });
  }).toThrow("Invalid setting availabilityZones = 1: RDS subnet groups span at least two AZs. Allowed: two or more zones.");
});

test("given a database, when a task asks for its connection, then it gets exactly the variables the settings schema keeps for the stack", () => {
  const stack = new TerraformStack(testApp(), "s");
  testKey(stack);
  const db = new Database(stack, "Db", { ...DatabaseSettingsSchema.parse({}), vpcId: "vpc-1", subnetIds: ["a", "b"] });
  const { environment, secrets } = db.connection;
  expect([...Object.keys(environment), ...secrets.map((s) => s.name)]).toEqual([...CONNECTION_VARIABLES]);
});

describe("Database.connections, on a bare stack", () => {
  const ingress = (stack: TerraformStack) => Object.values(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_ingress_rule ?? {}) as any[];
  /** A service's tasks, as the database sees them: their security group. */
  const tasks = (stack: TerraformStack, securityGroupId: string): IConnectable => ({
    connections: new Connections(new Construct(stack, securityGroupId), {
      securityGroupId,
      kind: "Service",
      ingressDescription: () => "unused",
      egressDescription: "unused",
    }),
  });
  const bare = () => {
    const stack = new TerraformStack(testApp(), "s");
    testKey(stack);
    return { stack, db: new Database(stack, "Db", { ...DatabaseSettingsSchema.parse({}), vpcId: "vpc-1", subnetIds: ["subnet-1", "subnet-2"] }) };
  };

  test("given an API and a worker, when both are granted, then both may connect on 5432 and nothing else may", () => {
    const { stack, db } = bare();
    db.connections.allowFrom(tasks(stack, "sg-api"));
    db.connections.allowFrom(tasks(stack, "sg-worker"));
    expect(
      ingress(stack)
        .map((r) => [r.referenced_security_group_id, r.from_port, r.to_port])
        .sort(),
    ).toEqual([
      ["sg-api", 5432, 5432],
      ["sg-worker", 5432, 5432],
    ]);
  });

  test("given a source already granted, when it is granted again, then nothing is added", () => {
    const { stack, db } = bare();
    const api = tasks(stack, "sg-api");
    db.connections.allowFrom(api);
    api.connections.allowTo(db);
    expect(ingress(stack)).toHaveLength(1);
  });
});

test("given a database, when its free storage metric is asked for, then it names its own instance, averaged over 5 minutes", () => {
  const stack = new TerraformStack(testApp(), "s");
  testKey(stack);
  const db = new Database(stack, "Db", { ...DatabaseSettingsSchema.parse({}), vpcId: "vpc-1", subnetIds: ["subnet-1", "subnet-2"] });
  const [instance] = Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_db_instance);
  expect(resolved(stack, db.metricFreeStorageSpace())).toEqual({
    namespace: "AWS/RDS",
    metricName: "FreeStorageSpace",
    dimensions: { DBInstanceIdentifier: `\${aws_db_instance.${instance}.identifier}` },
    statistic: "Average",
    period: 300,
  });
});
