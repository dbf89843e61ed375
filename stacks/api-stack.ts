import { Construct } from "constructs";
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Autoscaling, capacityRange } from "../lib/autoscaling";
import { CiAccess } from "../lib/ci-access";
import { Cluster } from "../lib/cluster";
import { Database } from "../lib/database";
import { LoadBalancer } from "../lib/load-balancer";
import { Network } from "../lib/network";
import { Registry } from "../lib/registry";
import { Service } from "../lib/service";
import { TASK_DEFAULTS, TaskDefinition } from "../lib/task-definition";
import { check, checkInt, checkListed, checkOneOf } from "../lib/validate";
import { REGIONS } from "../lib/data/regions";
import { checkSettingsShape } from "./schema";
import { FARGATE_SPOT_ARCHITECTURES } from "../lib/fargate-sizes";
import { emulatorProviderConfig, emulatorStatePath } from "./emulator";
import type { EnvironmentSettings, RunOptions, StateSettings } from "./settings";

const NAME_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;

/** One environment of the REST API: network, registry, cluster, service, load balancer, database. */
export class ApiStack extends TerraformStack {
  /** `<project>-<environment>`, the prefix of every resource name. */
  readonly prefix: string;
  readonly network: Network;
  readonly registry: Registry;
  readonly cluster: Cluster;
  readonly loadBalancer: LoadBalancer;
  readonly taskDefinition: TaskDefinition;
  readonly service: Service;
  readonly autoscaling?: Autoscaling;
  readonly database?: Database;
  /** The GitHub Actions deploy role, when `ci` is set. */
  readonly ciAccess?: CiAccess;

  constructor(scope: Construct, id: string, settings: EnvironmentSettings, options: RunOptions = {}) {
    super(scope, id);
    // Shape first (unknown keys, wrong types), so every check below reads values of the right kind.
    checkSettingsShape(settings);
    const project = settings.project ?? "rest-api";
    const region = settings.region ?? "us-east-1";
    const azs = settings.availabilityZones ?? [`${region}a`, `${region}b`];
    checkIdentity(settings.name, project, region, azs, settings.tags ?? {});
    this.prefix = `${project}-${settings.name}`;
    const tags = { ...settings.tags, Project: project, Environment: settings.name, ManagedBy: "cdktf" };

    check(
      !(options.offline && options.emulatorUrl),
      "AWS_EMULATOR_URL",
      options.emulatorUrl,
      "OFFLINE is set too; a stack is planned offline or deployed to the emulator, not both",
      "unset OFFLINE or AWS_EMULATOR_URL",
    );
    new AwsProvider(this, "Aws", {
      region,
      defaultTags: [{ tags }],
      ...(options.emulatorUrl ? emulatorProviderConfig(options.emulatorUrl) : {}),
      ...(options.offline
        ? {
            accessKey: "offline",
            secretKey: "offline",
            skipCredentialsValidation: true,
            skipRequestingAccountId: true,
            skipMetadataApiCheck: "true",
          }
        : {}),
    });
    configureState(this, settings.state ?? { backend: "local" }, project, settings.name, region, options);

    this.network = new Network(this, "Network", {
      ...settings.network,
      name: this.prefix,
      availabilityZones: azs,
    });
    this.registry = new Registry(this, "Registry", { ...settings.registry, name: this.prefix });

    const serviceSettings = settings.service ?? {};
    const scaling = settings.autoscaling ?? {};
    const autoscaled = scaling.enabled ?? true;
    const desiredCount = serviceSettings.desiredCount ?? 1;
    const maxTasks = autoscaled ? capacityRange(scaling, desiredCount)[1] : desiredCount;
    const mode = checkOneOf("compute.mode", settings.compute?.mode ?? "fargate", ["fargate", "ec2"] as const);
    const containerPort = checkInt("task.containerPort", settings.task?.containerPort ?? TASK_DEFAULTS.containerPort, 1, 65535);

    const architecture = settings.task?.cpuArchitecture ?? TASK_DEFAULTS.cpuArchitecture;
    check(
      mode === "ec2" || (settings.cluster?.spotWeight ?? 0) === 0 || FARGATE_SPOT_ARCHITECTURES.includes(architecture),
      "cluster.spotWeight",
      settings.cluster?.spotWeight,
      `Fargate Spot runs only ${FARGATE_SPOT_ARCHITECTURES.join(", ")} tasks, and task.cpuArchitecture is ${architecture}`,
      `0 with task.cpuArchitecture ${architecture}, or task.cpuArchitecture "X86_64"`,
    );
    this.cluster = new Cluster(this, "Cluster", {
      ...settings.cluster,
      name: this.prefix,
      execLogging: serviceSettings.enableExecuteCommand,
      ec2: mode === "ec2" ? this.ec2Props(settings, region, tags, maxTasks) : undefined,
    });

    this.loadBalancer = new LoadBalancer(this, "LoadBalancer", {
      ...settings.loadBalancer,
      name: this.prefix,
      region,
      vpcId: this.network.vpc.id,
      publicSubnetIds: this.network.publicSubnetIds,
      privateSubnetIds: this.network.privateSubnetIds,
      targetPort: containerPort,
    });

    const db = settings.database ?? {};
    this.database =
      (db.enabled ?? true)
        ? new Database(this, "Database", {
            ...db,
            name: this.prefix,
            region,
            vpcId: this.network.vpc.id,
            subnetIds: this.network.privateSubnetIds,
          })
        : undefined;

    this.taskDefinition = new TaskDefinition(this, "TaskDefinition", {
      ...settings.task,
      name: this.prefix,
      region,
      environmentName: settings.name,
      repository: this.registry.repository,
      imageTagOverride: options.imageTag,
      release: options.release,
      healthCheckPath: this.loadBalancer.healthCheckPath,
      compatibility: mode === "ec2" ? "EC2" : "FARGATE",
      enableExecuteCommand: serviceSettings.enableExecuteCommand,
      execLogGroup: this.cluster.execLogGroup,
      ...(this.database ? databaseWiring(this.database) : {}),
    });

    this.service = new Service(this, "Service", {
      ...serviceSettings,
      name: this.prefix,
      clusterArn: this.cluster.cluster.arn,
      taskDefinitionArn: this.taskDefinition.taskDefinition.arn,
      strategy: this.cluster.strategy,
      vpcId: this.network.vpc.id,
      subnetIds: this.network.appSubnetIds,
      assignPublicIp: mode === "fargate" && this.network.appNeedsPublicIp,
      containerPort,
      targetGroupArn: this.loadBalancer.targetGroup.arn,
      loadBalancerSecurityGroupId: this.loadBalancer.securityGroup.id,
      autoscaled,
      spreadAcrossZones: mode === "ec2",
      dependsOn: [this.loadBalancer.listener, this.cluster.capacityProviders],
    });
    this.loadBalancer.allowTo(this.service.securityGroup.id, containerPort);
    this.database?.allowFrom(this.service.securityGroup.id);

    if (autoscaled) {
      this.autoscaling = new Autoscaling(this, "Autoscaling", {
        ...scaling,
        name: this.prefix,
        clusterName: this.cluster.cluster.name,
        serviceName: this.service.service.name,
        requestCountLabel: `${this.loadBalancer.loadBalancer.arnSuffix}/${this.loadBalancer.targetGroup.arnSuffix}`,
      });
    }

    if (settings.ci) {
      const state = settings.state ?? { backend: "local" };
      const https = settings.loadBalancer?.https;
      this.ciAccess = new CiAccess(this, "CiAccess", {
        ...settings.ci,
        name: this.prefix,
        environmentName: settings.name,
        region,
        repository: this.registry.repository,
        state:
          state.backend === "s3"
            ? { bucket: state.bucket, key: state.key ?? `${project}/${settings.name}/terraform.tfstate`, kmsKeyId: state.kmsKeyId }
            : undefined,
        uses: {
          database: Boolean(this.database),
          ec2Capacity: mode === "ec2",
          accessLogs: settings.loadBalancer?.accessLogs ?? false,
          certificate: Boolean(https && !https.certificateArn),
          hostedZoneId: https?.domainName ? https.hostedZoneId : undefined,
        },
      });
      new TerraformOutput(this, "CiRoleArn", {
        value: this.ciAccess.role.arn,
        description: "Set as the AWS_ROLE_ARN variable of this environment's GitHub environment",
      });
    }

    new TerraformOutput(this, "ServiceUrl", { value: this.loadBalancer.url, description: "Where the API answers" });
    new TerraformOutput(this, "RepositoryUrl", {
      value: this.registry.repositoryUrl,
      description: "Push the API image here, then record it with `npm run release -- <env> <tag>` and deploy",
    });
    new TerraformOutput(this, "ClusterName", { value: this.cluster.cluster.name });
    new TerraformOutput(this, "ServiceName", { value: this.service.service.name });
    new TerraformOutput(this, "LogGroupName", { value: this.taskDefinition.logGroup.name, description: "The app's logs" });
    if (this.database) {
      new TerraformOutput(this, "DatabaseEndpoint", { value: this.database.instance.endpoint, description: "host:port of PostgreSQL" });
      new TerraformOutput(this, "DatabaseSecretArn", {
        value: this.database.secretArn,
        description: "Secrets Manager secret with the master username and password, managed by RDS",
      });
    }
  }

  private ec2Props(settings: EnvironmentSettings, region: string, tags: Record<string, string>, maxTasks: number) {
    check(
      this.network.natMode !== "none",
      "compute.mode",
      "ec2",
      'EC2 tasks in awsvpc mode get no public IP, so with network.natMode "none" they could not reach the internet',
      'network.natMode "single" or "per-az" with compute.mode "ec2", or compute.mode "fargate"',
    );
    return {
      ...settings.compute?.ec2,
      region,
      vpcId: this.network.vpc.id,
      subnetIds: this.network.privateSubnetIds,
      task: {
        cpu: settings.task?.cpu ?? TASK_DEFAULTS.cpu,
        memory: settings.task?.memory ?? TASK_DEFAULTS.memory,
        cpuArchitecture: settings.task?.cpuArchitecture ?? TASK_DEFAULTS.cpuArchitecture,
      },
      maxTasks,
      instanceTags: tags,
    };
  }
}

/** The app finds the database in plain variables and its credentials in ECS secrets, never in plain text. */
function databaseWiring(db: Database) {
  return {
    wiredEnvironment: { DB_HOST: db.instance.address, DB_PORT: String(db.port), DB_NAME: db.databaseName },
    wiredSecrets: ["username", "password"].map((key) => ({
      name: `DB_${key.toUpperCase()}`,
      valueFrom: `${db.secretArn}:${key}::`,
      resourceArn: db.secretArn,
    })),
    decryptKeyArns: [db.key.arn],
  };
}

function checkIdentity(name: string, project: string, region: string, azs: readonly string[], tags: Readonly<Record<string, string>>): void {
  check(
    NAME_PATTERN.test(name) && name.length <= 16,
    "name",
    name,
    "not a short lowercase name",
    "2 to 16 lowercase letters, digits and hyphens, starting with a letter",
  );
  check(
    NAME_PATTERN.test(project) && project.length <= 24,
    "project",
    project,
    "not a short lowercase name",
    "2 to 24 lowercase letters, digits and hyphens, starting with a letter",
  );
  checkListed("region", region, REGIONS, "AWS region", "lib/data/regions.ts");
  check(
    azs.length >= 2 && azs.length <= 6,
    "availabilityZones",
    azs,
    `${azs.length} zones given; the load balancer and the database need two or more`,
    "2 to 6 zones",
  );
  for (const az of azs) {
    check(new RegExp(`^${region}[a-z]$`).test(az), "availabilityZones", azs, `"${az}" is not a zone of region ${region}`, `zone names such as "${region}a"`);
  }
  check(new Set(azs).size === azs.length, "availabilityZones", azs, "a zone is listed twice", "distinct zones");
  for (const [key, value] of Object.entries(tags)) {
    check(
      key.length >= 1 && key.length <= 128 && !key.toLowerCase().startsWith("aws:") && value.length <= 256,
      "tags",
      { [key]: value },
      "not a valid AWS tag",
      'keys of 1-128 characters not starting with "aws:", values of at most 256 characters',
    );
    check(
      !["Project", "Environment", "ManagedBy"].includes(key),
      "tags",
      { [key]: value },
      `"${key}" is set by the stack from project and name`,
      "any other key",
    );
  }
}

function configureState(stack: TerraformStack, state: StateSettings, project: string, env: string, region: string, options: RunOptions): void {
  // Checked before the offline and emulator branches, so a bad state setting fails the same everywhere.
  if (state.backend === "s3") {
    check(
      /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(state.bucket ?? ""),
      "state.bucket",
      state.bucket,
      "not an S3 bucket name",
      "an existing bucket's name: 3-63 lowercase letters, digits, dots and hyphens",
    );
    if (state.region !== undefined) checkListed("state.region", state.region, REGIONS, "AWS region", "lib/data/regions.ts");
    if (state.key !== undefined)
      check(
        /^[^/].{0,1023}$/.test(state.key) && !state.key.endsWith("/"),
        "state.key",
        state.key,
        "not an object key",
        'a path such as "rest-api/dev/terraform.tfstate", not starting or ending with /',
      );
  }
  if (options.offline) {
    // A fresh state that never exists, so an offline plan cannot read (and refresh) real state.
    new LocalBackend(stack, { path: "offline.tfstate" });
    return;
  }
  if (options.emulatorUrl) {
    new LocalBackend(stack, { path: emulatorStatePath(env) });
    return;
  }
  if (state.backend === "local") {
    // Relative to cdktf.out/stacks/<env>: the project folder, with no absolute path in the output.
    new LocalBackend(stack, { path: `../../../terraform.${env}.tfstate` });
    return;
  }
  new S3Backend(stack, {
    bucket: state.bucket,
    key: state.key ?? `${project}/${env}/terraform.tfstate`,
    region: state.region ?? region,
    encrypt: true,
    ...(state.kmsKeyId ? { kmsKeyId: state.kmsKeyId } : {}),
  });
  // S3-native locking (Terraform >= 1.10): no DynamoDB table to create or pay for.
  stack.addOverride("terraform.backend.s3.use_lockfile", true);
}
