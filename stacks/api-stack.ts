import { Construct } from "constructs";
import { Annotations, App, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AlarmTopic } from "../lib/observability/alarm-topic";
import { Alarms } from "../lib/observability/alarms";
import { Autoscaling } from "../lib/compute/autoscaling";
import { Budget, warnOverBudget } from "../lib/observability/budget";
import { Dashboard } from "../lib/observability/dashboard";
import { ServiceEvents } from "../lib/observability/service-events";
import { CiAccess } from "../lib/ci/ci-access";
import { DeployPermissions } from "../lib/core/deploy-permissions";
import { PermissionsBoundary } from "../lib/core/permissions-boundary";
import { Cluster, FARGATE_ONLY_SETTINGS } from "../lib/compute/cluster";
import { Database } from "../lib/database/database";
import { EncryptionKey } from "../lib/core/encryption-key";
import { EnvironmentContext, pascal } from "../lib/core/environment";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { isReservedDomain, LoadBalancer } from "../lib/edge/load-balancer";
import { Network } from "../lib/network/network";
import { guardAccount } from "../lib/core/account-guard";
import { refuseExampleAtPlan } from "../lib/core/example-refusal";
import { Registry } from "../lib/registry/registry";
import { Service } from "../lib/compute/service";
import { drainEnvironment, MIGRATION_VARIABLE, migrationSeconds, shutdownTimeoutMs, stopTimings } from "../lib/compute/stop-timings";
import { TaskDefinition } from "../lib/compute/task-definition";
import type { Connection, ITaskResource } from "../lib/core/connection";
import type { IWatchable } from "../lib/core/watchable";
import { WebAcl } from "../lib/edge/web-acl";
import { Job, scheduleGroup } from "../lib/workers/job";
import { Queue, QueueScaling } from "../lib/workers/queue";
import { grantOneOffTaskDeploy } from "../lib/workers/one-off-task";
import { check } from "../lib/settings/validate";
import { parseSettings, type EnvironmentConfig, type JobEntryConfig, type ServiceEntryConfig } from "../lib/settings/environment/schema";
import type { SchedulerScheduleGroup } from "@cdktf/provider-aws/lib/scheduler-schedule-group";
import { AWS_TARGET, OFFLINE_TARGET, type DeploymentTarget } from "../lib/core/deployment-target";
import type { EnvironmentSettings, RunOptions } from "../lib/settings/environment/settings";

/** A service of the stack with its recipe and scaling. */
export interface StackService {
  readonly taskDefinition: TaskDefinition;
  readonly service: Service;
  readonly autoscaling?: Autoscaling;
  /** The queue it owns and consumes, for a queue-fed worker. */
  readonly queue?: Queue;
}

/** A scheduled job of the stack with its recipe. */
export interface StackJob {
  readonly taskDefinition: TaskDefinition;
  readonly job: Job;
}

/** The account an offline plan shows in ARNs (AWS's documentation account). */
export { OFFLINE_ACCOUNT_ID } from "../lib/core/deployment-target";

/** One environment of the REST API: network, registry, cluster, services, load balancer, database. */
export class ApiStack extends TerraformStack {
  /** What every construct of the stack shares: prefix, region, account, tags, key (`EnvironmentContext.of(construct)`). */
  readonly environment: EnvironmentContext;
  /** The environment's KMS key: every log group, the repository, the alarm topic. */
  readonly encryptionKey: EncryptionKey;
  readonly network: Network;
  readonly registry: Registry;
  readonly cluster: Cluster;
  readonly loadBalancer: LoadBalancer;
  /** The default API's task definition. */
  readonly taskDefinition: TaskDefinition;
  /** The default API, which takes every request no other service's rule matches. */
  readonly service: Service;
  readonly autoscaling?: Autoscaling;
  /** The services of `services`, by key. */
  readonly services: Readonly<Record<string, StackService>>;
  /** The scheduled jobs of `jobs`, by key. */
  readonly jobs: Readonly<Record<string, StackJob>>;
  readonly database?: Database;
  /** AWS WAF in front of the load balancer, when `waf.enabled`. */
  readonly webAcl?: WebAcl;
  /** Where alarms and service events report, when `alarms.enabled`. */
  readonly alarmTopic?: AlarmTopic;
  readonly alarms?: Alarms;
  /** The GitHub Actions deploy role, when `ci` is set. */
  readonly ciAccess?: CiAccess;
  /** The environment's AWS Budgets budget, when `budget.enabled`. */
  readonly budget?: Budget;
  /** The most any role of the stack may do: every role it creates carries it. */
  readonly permissionsBoundary: PermissionsBoundary;
  /** What services and jobs may ask for by name (`service.uses`): a fork's own resources, handed over by `use`. */
  private readonly used = new Map<string, ITaskResource>();

  /** `<project>-<environment>`, the prefix of every resource name. */
  get prefix(): string {
    return this.environment.prefix;
  }

  constructor(scope: Construct, id: string, settings: EnvironmentSettings, options: RunOptions = {}) {
    super(scope, id);
    // Every setting is checked and defaulted before any construct sees it: the constructs get complete
    // values and hold no defaults of their own.
    const config = parseSettings(settings);
    const { project, region, name } = config;

    const target = deploymentTarget(options);
    const accountId = target.accountId ?? new DataAwsCallerIdentity(this, "Account").accountId;
    // The environment's scope, in a fixed order, before any construct: its context (plain data), what deploying it
    // calls (with CI access: every construct adds its calls, lib/core/deploy-permissions.ts), the boundary every
    // role it creates carries, and its key. Asking for one before it is made is an error naming the construct.
    this.environment = new EnvironmentContext(this, {
      project,
      environment: name,
      region,
      accountId,
      production: config.production,
      tags: config.tags,
      collectsDeployPermissions: config.ci !== undefined,
    });
    if (config.ci) new DeployPermissions(this);
    const provider = new AwsProvider(this, "Aws", {
      region,
      defaultTags: [{ tags: this.environment.tags }],
      ...target.provider,
    });
    if (target.statePath) new LocalBackend(this, { path: target.statePath(App.of(this).outdir, name) });
    else configureState(this, config.state, name);

    this.permissionsBoundary = new PermissionsBoundary(this, "PermissionsBoundary");
    this.encryptionKey = new EncryptionKey(this, "EncryptionKey", config.encryption);
    this.network = new Network(this, "Network", { ...config.network, availabilityZones: config.availabilityZones });
    // The first resource of every stack carries the refusal of an example account.
    const againstAws = target.real;
    const guardExamples = options.guardExampleDomains ?? againstAws;
    guardAccount(this, config, { againstAws, guardExamples }, provider, this.network.vpc);
    this.registry = new Registry(this, "Registry", config.registry);

    // Sized once, by the schema, for every service's and job's tasks at their maximum counts.
    const ec2 = config.compute.mode === "ec2" ? config.compute.ec2 : undefined;
    this.cluster = new Cluster(this, "Cluster", {
      ...config.cluster,
      execLogging: config.allServices.some((s) => s.service.enableExecuteCommand),
      ec2: ec2 && { ...ec2, vpcId: this.network.vpc.id, subnetIds: this.network.privateSubnetIds },
    });
    // Switching compute.mode alone must keep working, so the Fargate split is ignored with a warning, not refused.
    const fargateOnly = FARGATE_ONLY_SETTINGS.filter((key) => settings.cluster?.[key] !== undefined);
    if (ec2 && fargateOnly.length) {
      Annotations.of(this.cluster).addWarning(
        `${fargateOnly.map((key) => `cluster.${key}`).join(", ")} split tasks between Fargate and Fargate Spot; compute.mode "ec2" runs every task on the Auto Scaling group, so they do not apply`,
      );
    }

    this.loadBalancer = new LoadBalancer(this, "LoadBalancer", {
      ...config.loadBalancer,
      vpcId: this.network.vpc.id,
      publicSubnetIds: this.network.publicSubnetIds,
      privateSubnetIds: this.network.privateSubnetIds,
    });

    const domainName = config.loadBalancer.https?.domainName;
    if (domainName && isReservedDomain(domainName)) refuseExampleDomain(this.loadBalancer, name, domainName, guardExamples);

    if (config.waf.enabled) {
      this.webAcl = new WebAcl(this, "WebAcl", { ...config.waf, loadBalancer: this.loadBalancer });
    }

    this.database = config.database.enabled
      ? new Database(this, "Database", { ...config.database, vpcId: this.network.vpc.id, subnetIds: this.network.privateSubnetIds })
      : undefined;

    // A fork's own resources go here, before the services and jobs that use them: this.use("<name>", ...).

    // `npm run task` (scripts/task.ts): the pipeline's migrations run as one-off tasks before its deploy.
    grantOneOffTaskDeploy(this.cluster);
    // Queues before the services and jobs that consume or publish to them.
    const queues = new Map<string, Queue>();
    for (const entry of config.allServices)
      if (entry.key !== undefined && entry.queue)
        queues.set(entry.key, new Queue(this, `${pascal(entry.key)}Queue`, { ...entry.queue, name: entry.name, key: entry.key }));
    const [api, ...others] = config.allServices.map((entry) => buildService(this, entry, config, options, queues));
    ({ taskDefinition: this.taskDefinition, service: this.service, autoscaling: this.autoscaling } = api);
    this.services = Object.fromEntries(others.map((built, i) => [config.allServices[i + 1].key!, built]));
    const group = config.allJobs.length ? scheduleGroup(this, "ScheduleGroup") : undefined;
    this.jobs = Object.fromEntries(config.allJobs.map((entry) => [entry.key, buildJob(this, entry, options, queues, group!)]));

    if (config.alarms.enabled) ({ topic: this.alarmTopic, alarms: this.alarms } = this.watch(config));
    if (config.budget.enabled) {
      this.budget = new Budget(this, "Budget", { ...config.budget, topic: this.alarmTopic, emails: config.alarms.emails });
      new TerraformOutput(this, "BudgetName", { value: this.budget.budget.name, description: "The environment's monthly AWS Budgets budget" });
    }
    // Synth warns when the estimate of what this stack costs passes budget.monthlyUsd (npm run cost exits 1).
    warnOverBudget(this, name, config.budget.monthlyUsd);

    if (config.ci) {
      const { state } = config;
      this.ciAccess = new CiAccess(this, "CiAccess", {
        ...config.ci,
        repositoryName: this.registry.name,
        state: state.backend === "s3" ? { bucket: state.bucket, key: state.key, kmsKeyId: state.kmsKeyId } : undefined,
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
    new TerraformOutput(this, "ServiceName", { value: this.service.serviceName });
    new TerraformOutput(this, "LogGroupName", { value: this.taskDefinition.logGroup.name, description: "The app's logs" });
    for (const [key, { service, taskDefinition, queue }] of Object.entries(this.services)) {
      new TerraformOutput(this, `${pascal(key)}ServiceName`, { value: service.serviceName });
      new TerraformOutput(this, `${pascal(key)}LogGroupName`, { value: taskDefinition.logGroup.name, description: `The ${key} service's logs` });
      if (queue) new TerraformOutput(this, `${pascal(key)}QueueUrl`, { value: queue.queue.url, description: `The ${key} worker's queue` });
    }
    for (const [key, { job, taskDefinition }] of Object.entries(this.jobs)) {
      new TerraformOutput(this, `${pascal(key)}JobSchedule`, { value: job.schedule.name, description: `The ${key} job's schedule` });
      new TerraformOutput(this, `${pascal(key)}JobLogGroupName`, { value: taskDefinition.logGroup.name, description: `The ${key} job's logs` });
    }
    if (this.alarmTopic) {
      new TerraformOutput(this, "AlarmTopicArn", { value: this.alarmTopic.topicArn, description: "Subscribe to hear of alarms and failed deployments" });
    }
    if (this.database) {
      new TerraformOutput(this, "DatabaseEndpoint", { value: this.database.instance.endpoint, description: "host:port of PostgreSQL" });
      new TerraformOutput(this, "DatabaseSecretArn", {
        value: this.database.secretArn,
        description: "Secrets Manager secret with the master username and password, managed by RDS",
      });
    }
  }

  /**
   * Hands `resource` to every service and job whose settings ask for `name` (`service.uses`, `jobs.<key>.uses`):
   * its connection and network access, and its alarms with the rest when it is watchable (`IWatchable`). None
   * (the environment does not set it) hands nothing. Before the services and jobs are built.
   */
  use(name: string, resource: ITaskResource | undefined): void {
    if (!resource) return;
    if (this.used.has(name)) throw new Error(`${this.node.path}: "${name}" is handed to the tasks twice (ApiStack.use)`);
    if (Object.keys(this.services ?? {}).length || this.service)
      throw new Error(`${this.node.path}: use("${name}") after the services were built; call it before them, where the stack says a fork's own resources go`);
    this.used.set(name, resource);
  }

  /** What a service or job asks for by name, as handed over by `use`. */
  usedResource(name: string, setting: string): ITaskResource {
    const resource = this.used.get(name);
    if (!resource)
      throw new Error(
        `${setting}: "${name}" is set in the environment, but the stack hands it to no task; add this.use("${name}", ...) to stacks/api-stack.ts where a fork's own resources go`,
      );
    return resource;
  }

  /** Alarms on the load balancer, every service and the database; service events; the dashboard. */
  private watch(config: EnvironmentConfig): { topic: AlarmTopic; alarms: Alarms } {
    const topic = new AlarmTopic(this, "AlarmTopic", {
      emails: config.alarms.emails,
      // The budget (made next, named like the environment) publishes its alerts here too.
      budgetName: config.budget.enabled ? this.prefix : undefined,
    });
    const alarms = new Alarms(this, "Alarms", { ...config.alarms, topic });
    // In this order, which the dashboard follows: the load balancer, each service, the database, each queue, each job.
    const others = Object.values(this.services);
    for (const watched of [
      this.loadBalancer,
      this.service,
      ...others.map((s) => s.service),
      ...(this.database ? [this.database] : []),
      ...others.flatMap((s) => (s.queue ? [s.queue] : [])),
      ...Object.values(this.jobs).map((j) => j.job),
      ...[...this.used.values()].filter((r): r is ITaskResource & IWatchable => "alarmSpecs" in r),
    ])
      alarms.watch(watched);
    new ServiceEvents(this, "ServiceEvents", { cluster: this.cluster, topic });
    if (config.alarms.dashboard) new Dashboard(this, "Dashboard", { alarms });
    return { topic, alarms };
  }
}

/** What every task definition of the environment shares beyond the environment's own: repository, release, and where tasks run. */
function recipeContext(stack: ApiStack, options: RunOptions) {
  return {
    repository: stack.registry,
    imageTagOverride: options.imageTag,
    release: options.release,
    compatibility: stack.cluster.capacity.compatibility,
  };
}

/**
 * One service: its recipe, the service itself with its route on the load balancer (none for a worker),
 * its scaling and its database access. The default API keeps the ids it always had.
 */
function buildService(
  stack: ApiStack,
  entry: ServiceEntryConfig,
  config: EnvironmentConfig,
  options: RunOptions,
  queues: ReadonlyMap<string, Queue>,
): StackService {
  const id = entry.key === undefined ? "" : pascal(entry.key);
  const database = entry.database ? stack.database : undefined;
  const used = entry.service.uses.map((name) => stack.usedResource(name, entry.key === undefined ? "service.uses" : `services.${entry.key}.service.uses`));
  // What the load balancer's health check and idle timeout ask of a stopping task (lib/compute/stop-timings.ts),
  // and the migrations' share of the grace period; the schema has checked they fit.
  const route = entry.route;
  const timings: Connection | undefined = route && {
    environment: {
      ...drainEnvironment(stopTimings(route.healthCheck, shutdownTimeoutMs(entry.task.environment)), config.loadBalancer.idleTimeoutSeconds),
      ...(database ? { [MIGRATION_VARIABLE]: String(migrationSeconds(entry.service.healthCheckGracePeriodSeconds) * 1000) } : {}),
    },
    secrets: [],
    decryptKeyArns: [],
  };
  const taskDefinition = new TaskDefinition(stack, `${id}TaskDefinition`, {
    ...entry.task,
    name: entry.name,
    ...recipeContext(stack, options),
    http: entry.route && { healthCheckPath: entry.route.healthCheck.path },
    enableExecuteCommand: entry.service.enableExecuteCommand,
    execLogGroup: stack.cluster.execLogGroup,
    // Traces (tracing.enabled): every service, the API and its workers; jobs are not traced.
    tracing: config.tracing.enabled
      ? { cpu: config.tracing.collectorCpu, memoryMib: config.tracing.collectorMemoryMib, sampleRatio: config.tracing.sampleRatio }
      : undefined,
    connections: [
      ...(database ? [database.connection] : []),
      ...(timings ? [timings] : []),
      ...queueConnections(entry, queues),
      ...used.map((resource) => resource.connection),
    ],
  });
  const service = new Service(stack, `${id}Service`, {
    ...entry.service,
    name: entry.name,
    key: entry.key,
    cluster: stack.cluster,
    taskDefinition,
    network: stack.network,
    ...(entry.route ? { loadBalancer: stack.loadBalancer, route: entry.route } : {}),
  });
  if (database) service.connections.allowTo(database);
  for (const resource of used) service.connections.allowTo(resource);
  const autoscaling = entry.autoscaling.enabled ? service.autoScaleTaskCount(entry.autoscaling) : undefined;
  const queue = entry.key === undefined ? undefined : queues.get(entry.key);
  if (queue && autoscaling) new QueueScaling(stack, `${id}QueueScaling`, { queue, service });
  return { taskDefinition, service, autoscaling, queue };
}

/** What a service or job is given of the queues: its own to consume, and those it publishes to. */
function queueConnections(entry: { readonly key?: string; readonly publishesTo: readonly string[] }, queues: ReadonlyMap<string, Queue>): Connection[] {
  const own = entry.key === undefined ? undefined : queues.get(entry.key);
  return [...(own ? [own.consumer] : []), ...entry.publishesTo.map((key) => queues.get(key)!.publisher)];
}

/**
 * One scheduled job: its recipe (no port, no load balancer), its schedule and scheduler role, its
 * database access and the queues it publishes to.
 */
function buildJob(stack: ApiStack, entry: JobEntryConfig, options: RunOptions, queues: ReadonlyMap<string, Queue>, group: SchedulerScheduleGroup): StackJob {
  const id = `${pascal(entry.key)}Job`;
  const database = entry.database ? stack.database : undefined;
  const used = entry.uses.map((name) => stack.usedResource(name, `jobs.${entry.key}.uses`));
  const taskDefinition = new TaskDefinition(stack, `${id}TaskDefinition`, {
    ...entry.task,
    name: entry.name,
    ...recipeContext(stack, options),
    job: true,
    connections: [
      ...(database ? [database.connection] : []),
      ...queueConnections({ publishesTo: entry.publishesTo }, queues),
      ...used.map((resource) => resource.connection),
    ],
  });
  const job = new Job(stack, id, {
    ...entry,
    cluster: stack.cluster,
    network: stack.network,
    taskDefinition,
    group,
  });
  if (database) job.connections.allowTo(database);
  for (const resource of used) job.connections.allowTo(resource);
  return { taskDefinition, job };
}

/** A reserved example domain (the shipped prod's) cannot be served: see refuseExampleAtPlan. */
function refuseExampleDomain(loadBalancer: LoadBalancer, env: string, domainName: string, guard: boolean): void {
  const message =
    `${env}: loadBalancer.https.domainName = "${domainName}" is a reserved example domain, which no certificate can validate. ` +
    `Allowed: your own domain with the Route 53 hosted zone that serves it (domainName and hostedZoneId), or certificateArn, set in environments/environments.ts.`;
  refuseExampleAtPlan({ scope: loadBalancer, localId: "HttpsDomainName", value: domainName, anchor: loadBalancer.listener, message, guard });
}

/** The target `options` ask for: offline, the one given, or AWS. */
function deploymentTarget(options: RunOptions): DeploymentTarget {
  if (!options.offline) return options.target ?? AWS_TARGET;
  const other = options.target?.setting;
  check(
    !options.target,
    other?.name ?? "OFFLINE",
    other?.value ?? true,
    `OFFLINE is set too; a stack is planned offline or deployed to ${options.target?.name}, not both`,
    `unset OFFLINE${other ? ` or ${other.name}` : ""}`,
  );
  return OFFLINE_TARGET;
}

/** The environment's own state (its `state` setting), where a target keeps none of its own. */
function configureState(stack: TerraformStack, state: EnvironmentConfig["state"], env: string): void {
  // The schema checked the state settings before this, so a bad one fails offline exactly as online.
  if (state.backend === "local") {
    // Relative to cdktf.out/stacks/<env>: the project folder, with no absolute path in the output.
    new LocalBackend(stack, { path: `../../../terraform.${env}.tfstate` });
    return;
  }
  new S3Backend(stack, {
    bucket: state.bucket,
    key: state.key,
    region: state.region,
    encrypt: true,
    ...(state.kmsKeyId ? { kmsKeyId: state.kmsKeyId } : {}),
  });
  // S3-native locking (Terraform >= 1.10): no DynamoDB table to create or pay for.
  stack.addOverride("terraform.backend.s3.use_lockfile", true);
}
