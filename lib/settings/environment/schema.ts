import * as z from "zod/mini";
import { ciArnProblems, type CiConfig } from "../../ci/ci-access";
import { CONNECTION_VARIABLES, LOCAL_LOGIN_VARIABLES } from "../../database/database";
import { AutoscalingSettingsSchema, type AutoscalingConfig } from "../../compute/autoscaling";
import { resolveEc2, type Ec2Config } from "../../compute/ec2/ec2-capacity";
import type { HostedWorkload } from "../../calculators/ec2-sizing";
import { describeMemoryFor, FARGATE_MEMORY_BY_CPU, FARGATE_SPOT_ARCHITECTURES } from "../../calculators/fargate-sizes";
import { partitionOf } from "../../core/iam";
import { parseCidr } from "../../calculators/cidr";
import { SMALLEST_SUBNET_PREFIX, subnetPrefix } from "../../network/network";
import { ZONE_LETTERS } from "../data/availability-zones";
import { fail, type RuleParams } from "../rules";
import { ServiceSettingsSchema, type ServiceConfig, type ServiceRoute } from "../../compute/service";
import type { JobConfig } from "../../workers/job";
import type { QueueConfig } from "../../workers/queue";
import { checkWorkers, publishersOf } from "./worker-rules";
import {
  DRAIN_VARIABLES,
  LB_PROPAGATION_SECONDS,
  MIGRATION_VARIABLE,
  MIN_MIGRATION_SECONDS,
  migrationSeconds,
  shutdownTimeoutMs,
  SPOT_WARNING_SECONDS,
  START_MARGIN_SECONDS,
  stopTimings,
} from "../../compute/stop-timings";
import { FIRST_PRIORITY, PRIORITY_STEP, type TargetHealthCheckConfig } from "../../edge/target-group";
import type { TaskConfig } from "../../compute/task-definition";
import { APP_MIN_CPU, APP_MIN_MEMORY_MIB, tracingEnvironment } from "../../compute/tracing";
import { SettingError, closest } from "../validate";
import { extraSections } from "../sections";
import { EnvironmentSettingsSchema, resourcePrefix, type EnvironmentSettings } from "./settings";

/**
 * One environment's settings, checked and complete: what the stack and its constructs are built from.
 * Every default is applied here, including the ones that follow from other settings (zones from the
 * region, `APP_ENV` from the name, the state key, the EC2 instance type and count from the task).
 */
type Parsed = z.output<typeof EnvironmentSettingsSchema>;

/** One service of the environment, checked and complete: the default API, or one of `services`. */
export interface ServiceEntryConfig {
  /** Its key in `services`; none for the default API. */
  readonly key?: string;
  /** `<project>-<environment>`, and `-<key>` for the others: its resource names. */
  readonly name: string;
  readonly task: TaskConfig;
  readonly service: ServiceConfig;
  readonly autoscaling: AutoscalingConfig;
  /** How the load balancer reaches it: the default action (no rule) for the default API, a rule for routed services; none for a worker. */
  readonly route?: ServiceRoute;
  /** It gets the database's connection. */
  readonly database: boolean;
  /** The queue it owns and consumes (a worker). @default none */
  readonly queue?: QueueConfig;
  /** The keys of the services whose queues it may send to. */
  readonly publishesTo: readonly string[];
}

/** One scheduled job of `jobs`, checked and complete. */
export interface JobEntryConfig extends Omit<JobConfig, "task"> {
  readonly key: string;
  /** `<project>-<environment>-<key>`: its resource names. */
  readonly name: string;
  readonly task: TaskConfig;
  /** The keys of the services whose queues it may send to. */
  readonly publishesTo: readonly string[];
}

export type EnvironmentConfig = Omit<Parsed, "availabilityZones" | "task" | "state" | "compute" | "ci"> & {
  readonly availabilityZones: readonly string[];
  readonly task: TaskConfig;
  /** Every service, complete: the default API first, then `services` in key order. */
  readonly allServices: readonly ServiceEntryConfig[];
  /** Every scheduled job of `jobs`, complete, in key order. */
  readonly allJobs: readonly JobEntryConfig[];
  readonly state:
    | { readonly backend: "local" }
    | { readonly backend: "s3"; readonly bucket: string; readonly key: string; readonly region: string; readonly kmsKeyId?: string };
  readonly compute: { readonly mode: "fargate" } | { readonly mode: "ec2"; readonly ec2: Ec2Config };
  readonly ci?: CiConfig;
  /** The sections a fork's constructs add (lib/settings/sections.ts), checked by their own schemas, by name; only those the environment sets. */
  readonly sections: Readonly<Record<string, unknown>>;
};

type Context = Parameters<typeof fail>[0];

/** `<project>-<name>` is the first part of every resource name; a target group's (`<prefix>-tg`) is the shortest AWS allows, 32. */
const LONGEST_PREFIX = 32 - "-tg".length;
/** E-mail subscribers an AWS Budgets notification takes beside its one SNS topic (Budgets API `NotificationWithSubscribers`). */
const MAX_BUDGET_EMAILS = 10;
/** Target groups one Application Load Balancer takes (ELB quotas, not adjustable): the default API's and one per routed service. */
const MAX_TARGET_GROUPS = 100;

/**
 * Variables the stack sets itself: the port and drain timings of a service the load balancer reaches,
 * the database's connection (and the migrations' budget of a routed service) where it is given.
 */
function stackVariables(routed: boolean, database: boolean): string[] {
  return [
    ...(routed ? ["PORT", ...DRAIN_VARIABLES] : []),
    ...(database ? [...CONNECTION_VARIABLES, ...LOCAL_LOGIN_VARIABLES] : []),
    ...(routed && database ? [MIGRATION_VARIABLE] : []),
  ];
}

/** A service's sections as parsed, before the rules across sections. */
interface ParsedService {
  readonly path: readonly string[];
  readonly key?: string;
  readonly task: Parsed["task"];
  readonly service: Parsed["service"];
  readonly autoscaling: Parsed["autoscaling"];
  readonly routed: boolean;
  readonly database: boolean;
}

/**
 * The rules that join settings across sections. Each section's own rules (ranges, AWS's lists, the
 * rules within one section) live with its schema in lib/; these run once every value has passed them.
 */
function resolve(s: Parsed, ctx: Context): Omit<EnvironmentConfig, "sections"> {
  const azs = s.availabilityZones ?? [`${s.region}a`, `${s.region}b`];
  if (s.availabilityZones) {
    if (azs.length < 2 || azs.length > 6)
      fail(ctx, ["availabilityZones"], azs, `${azs.length} zones given; the load balancer and the database need two or more`, "2 to 6 zones");
    const foreign = azs.find((az) => !new RegExp(`^${s.region}[a-z]$`).test(az));
    if (foreign !== undefined) fail(ctx, ["availabilityZones"], azs, `"${foreign}" is not a zone of region ${s.region}`, `zone names such as "${s.region}a"`);
    if (new Set(azs).size !== azs.length) fail(ctx, ["availabilityZones"], azs, "a zone is listed twice", "distinct zones");
    const letters = ZONE_LETTERS[s.region];
    const absent = letters === undefined ? undefined : azs.find((az) => !letters.includes(az.slice(s.region.length)));
    if (absent !== undefined)
      fail(
        ctx,
        ["availabilityZones"],
        azs,
        `${s.region} has no zone "${absent}"`,
        `zones of ${s.region}: ${[...letters].map((l) => `"${s.region}${l}"`).join(", ")}`,
      );
  }

  const prefix = resourcePrefix(s);
  if (prefix.length > LONGEST_PREFIX)
    fail(
      ctx,
      ["project"],
      s.project,
      `resource names start with "${prefix}" (${prefix.length} characters), and the target group's, "${prefix}-tg", would pass AWS's limit of 32`,
      `project and name of ${LONGEST_PREFIX - 1} characters together at most`,
    );
  if (prefix.startsWith("internal-"))
    fail(ctx, ["project"], s.project, `the load balancer name "${prefix}" starts with "internal-", which AWS reserves`, 'a project name other than "internal"');
  if (prefix.includes("--"))
    fail(ctx, ["project"], s.project, `resource names such as "${prefix}" contain "--", which load balancer names may not`, "names without a double hyphen");
  if (prefix.startsWith("sg-"))
    fail(ctx, ["project"], s.project, `security group names such as "${prefix}-tasks" start with "sg-", which EC2 refuses`, 'a project name other than "sg"');
  if (s.loadBalancer.accessLogs && /^(sthree-|amzn-s3-demo-)/.test(prefix))
    fail(
      ctx,
      ["project"],
      s.project,
      `the access log bucket's name would start with "${prefix}-lb-logs-", and S3 reserves names starting with "sthree-" or "amzn-s3-demo-"`,
      'a project and name whose "<project>-<name>" starts otherwise, or loadBalancer.accessLogs false',
    );
  const budgetEmails = new Set(s.alarms.emails).size;
  if (s.budget.enabled && !s.alarms.enabled && budgetEmails > MAX_BUDGET_EMAILS)
    fail(
      ctx,
      ["alarms", "emails"],
      s.alarms.emails,
      `with alarms.enabled false the budget e-mails these ${budgetEmails} addresses itself, and an AWS Budgets notification takes at most ${MAX_BUDGET_EMAILS}`,
      `${MAX_BUDGET_EMAILS} addresses or fewer, or alarms.enabled true (the budget then alerts the alarm topic, which takes any number)`,
    );

  const cidr = parseCidr(s.network.cidr)!;
  const subnetBits = subnetPrefix(cidr.prefix, azs.length);
  if (subnetBits > SMALLEST_SUBNET_PREFIX)
    fail(
      ctx,
      ["network", "cidr"],
      s.network.cidr,
      `too small for ${azs.length * 2} subnets (${azs.length} AZs x public and private); each would be a /${subnetBits}, and a load balancer subnet needs /${SMALLEST_SUBNET_PREFIX} or larger`,
      `a VPC of /${SMALLEST_SUBNET_PREFIX - (subnetBits - cidr.prefix)} or larger for ${azs.length} AZs, or fewer availabilityZones`,
    );

  const { compute } = s;
  const keys = Object.keys(s.services).sort();
  const parsed: ParsedService[] = [
    { path: [], task: s.task, service: s.service, autoscaling: s.autoscaling, routed: true, database: s.database.enabled },
    ...keys.map((key) => {
      const entry = s.services[key];
      return { path: ["services", key], key, ...entry, routed: entry.route !== undefined };
    }),
  ];
  for (const entry of parsed) checkService(ctx, s, entry);
  const routedKeys = keys.filter((key) => s.services[key].route !== undefined);
  if (routedKeys.length + 1 > MAX_TARGET_GROUPS)
    fail(
      ctx,
      ["services"],
      routedKeys,
      `${routedKeys.length} services with a route and the default API need ${routedKeys.length + 1} target groups on the one load balancer, and it takes at most ${MAX_TARGET_GROUPS}`,
      `at most ${MAX_TARGET_GROUPS - 1} services with a route`,
    );
  const publishes = publishersOf(s);
  const services = resolveServices(ctx, s, prefix, parsed).map((entry) => ({
    ...entry,
    queue: entry.key === undefined ? undefined : s.services[entry.key].queue,
    publishesTo: publishes.get(entry.key ?? "") ?? [],
  }));
  // Jobs: their tasks follow a service's task rules; queues and publishers follow their own (lib/settings/environment/worker-rules.ts).
  const jobs = resolveJobs(ctx, s, prefix);
  checkWorkers(ctx, s);

  if (s.production && !s.loadBalancer.https)
    fail(
      ctx,
      ["loadBalancer", "https"],
      undefined,
      "the environment is marked production: true, which serves HTTPS only",
      "https with certificateArn (an existing ACM certificate), or domainName with hostedZoneId (a new DNS-validated certificate)",
    );

  const certificateArn = s.loadBalancer.https?.certificateArn;
  const certificateRegion = certificateArn?.split(":")[3];
  if (certificateRegion !== undefined && certificateRegion !== s.region)
    fail(
      ctx,
      ["loadBalancer", "https", "certificateArn"],
      certificateArn,
      `a certificate in ${certificateRegion}, but a load balancer can only use one from its own region`,
      `a certificate in ${s.region}`,
    );

  let resolvedCompute: EnvironmentConfig["compute"] = { mode: "fargate" };
  if (compute.mode === "ec2") {
    if (s.network.natMode === "none")
      fail(
        ctx,
        ["compute", "mode"],
        "ec2",
        'EC2 tasks in awsvpc mode get no public IP, so with network.natMode "none" they could not reach the internet',
        'network.natMode "single" or "per-az" with compute.mode "ec2", or compute.mode "fargate"',
      );
    if (/^(aws|ecs|fargate)/i.test(`${prefix}-ec2`))
      fail(
        ctx,
        ["project"],
        s.project,
        `the capacity provider name "${prefix}-ec2" starts with a prefix AWS reserves`,
        'a project name not starting with "aws", "ecs" or "fargate"',
      );
    const workloads: HostedWorkload[] = [
      ...parsed.map(({ path, task, service, autoscaling }) => ({
        task,
        maxTasks: autoscaling.enabled ? autoscaling.maxCapacity : service.desiredCount,
        setting: [...path, "task"].join("."),
      })),
      ...jobs.map((job) => ({ task: job.task, maxTasks: 1, setting: `jobs.${job.key}.task` })),
    ];
    const other = [...parsed, ...jobs.map((job) => ({ path: ["jobs", job.key], task: job.task }))].find(
      (p) => p.task.cpuArchitecture !== s.task.cpuArchitecture,
    );
    if (other)
      fail(
        ctx,
        [...other.path, "task", "cpuArchitecture"],
        other.task.cpuArchitecture,
        `compute.mode "ec2" runs every service on one Auto Scaling group of ${s.task.cpuArchitecture} instances (task.cpuArchitecture)`,
        `"${s.task.cpuArchitecture}", or compute.mode "fargate"`,
      );
    const ec2 = resolveEc2(compute.ec2, workloads);
    if ("config" in ec2) resolvedCompute = { mode: "ec2", ec2: ec2.config };
    else fail(ctx, ["compute", "ec2", ec2.setting], ec2.value, ec2.problem, ec2.allowed);
  }

  let ci: CiConfig | undefined;
  if (s.ci) {
    ci = { ...s.ci, environments: s.ci.environments ?? [s.name] };
    for (const [field, value, problem, allowed] of ciArnProblems(s.ci, partitionOf(s.region))) fail(ctx, ["ci", field], value, problem, allowed);
  }

  return {
    ...s,
    availabilityZones: azs,
    task: services[0].task,
    allServices: services,
    allJobs: jobs,
    state:
      s.state.backend === "s3" ? { ...s.state, key: s.state.key ?? `${s.project}/${s.name}/terraform.tfstate`, region: s.state.region ?? s.region } : s.state,
    compute: resolvedCompute,
    ci,
  };
}

/** The rules across one service's sections: its task's size on Fargate, ECS Exec, its count, its variables, its route. */
function checkService(ctx: Context, s: Parsed, entry: ParsedService): void {
  const { path, task, service, autoscaling } = entry;
  const at = (...rest: string[]) => [...path, ...rest];
  const name = (...rest: string[]) => at(...rest).join(".");
  if (s.compute.mode === "fargate") {
    const memories = FARGATE_MEMORY_BY_CPU[task.cpu];
    if (memories === undefined) fail(ctx, at("task", "cpu"), task.cpu, "not a Fargate CPU size", Object.keys(FARGATE_MEMORY_BY_CPU).join(", "));
    else if (!memories.includes(task.memory))
      fail(
        ctx,
        at("task", "memory"),
        task.memory,
        `not a valid Fargate memory size for ${name("task", "cpu")} = ${task.cpu}`,
        `${describeMemoryFor(task.cpu)} (MiB)`,
      );
    if (s.cluster.spotWeight > 0 && !FARGATE_SPOT_ARCHITECTURES.includes(task.cpuArchitecture))
      fail(
        ctx,
        ["cluster", "spotWeight"],
        s.cluster.spotWeight,
        `Fargate Spot runs only ${FARGATE_SPOT_ARCHITECTURES.join(", ")} tasks, and ${name("task", "cpuArchitecture")} is ${task.cpuArchitecture}`,
        `0 with ${name("task", "cpuArchitecture")} ${task.cpuArchitecture}, or ${name("task", "cpuArchitecture")} "X86_64"`,
      );
  }
  if (task.scratchSizeMib > task.memory / 2)
    fail(
      ctx,
      at("task", "scratchSizeMib"),
      task.scratchSizeMib,
      `the scratch tmpfs takes the task's memory as it fills, and ${name("task", "memory")} is ${task.memory}`,
      `at most ${Math.floor(task.memory / 2)} (half of ${name("task", "memory")})`,
    );
  if (s.tracing.enabled) checkTracing(ctx, s, entry);
  if (service.enableExecuteCommand && task.readonlyRootFilesystem)
    fail(
      ctx,
      at("service", "enableExecuteCommand"),
      true,
      `ECS Exec needs a writable root filesystem for its agent, but ${name("task", "readonlyRootFilesystem")} is true`,
      `${name("service", "enableExecuteCommand")} false, or ${name("task", "readonlyRootFilesystem")} false`,
    );
  if (autoscaling.enabled && (service.desiredCount < autoscaling.minCapacity || service.desiredCount > autoscaling.maxCapacity))
    fail(
      ctx,
      at("service", "desiredCount"),
      service.desiredCount,
      `outside the autoscaling range [${autoscaling.minCapacity}, ${autoscaling.maxCapacity}]`,
      `a count from ${autoscaling.minCapacity} to ${autoscaling.maxCapacity}`,
    );
  if (!entry.routed) {
    if (autoscaling.enabled && autoscaling.requestsPerTarget !== undefined)
      fail(
        ctx,
        at("autoscaling", "requestsPerTarget"),
        autoscaling.requestsPerTarget,
        "a worker (a service without a route) gets no requests from the load balancer to scale on",
        "no requestsPerTarget (a worker scales on CPU and memory), or a route",
      );
  }
  if (entry.routed) checkStopTimings(ctx, s, entry);
  if (entry.key !== undefined && entry.database && !s.database.enabled)
    fail(ctx, at("database"), true, "the environment has no database (database.enabled is false)", "false, or database.enabled true");

  const environment = task.environment ?? { APP_ENV: s.name };
  const reserved = stackVariables(entry.routed, entry.database);
  for (const [field, names] of [
    ["environment", Object.keys(environment)],
    ["secrets", Object.keys(task.secrets)],
  ] as const) {
    const taken = names.find((variable) => reserved.includes(variable));
    if (taken !== undefined)
      fail(
        ctx,
        at("task", field, taken),
        field === "environment" ? environment[taken] : task.secrets[taken],
        "the stack sets this variable itself",
        "another name",
      );
  }
  const secretClash = Object.keys(task.secrets).find((variable) => variable in environment);
  if (secretClash !== undefined)
    fail(ctx, at("task", "secrets", secretClash), task.secrets[secretClash], "the name is already an environment variable", "a distinct name");
}

/** A traced service's task holds the collector sidecar beside its app, inside its CPU and memory; the stack sets the OTEL_ variables. */
function checkTracing(ctx: Context, s: Parsed, entry: ParsedService): void {
  const { task, path } = entry;
  const name = (field: string) => [...path, "task", field].join(".");
  const { collectorCpu, collectorMemoryMib } = s.tracing;
  if (collectorCpu + APP_MIN_CPU > task.cpu)
    fail(
      ctx,
      ["tracing", "collectorCpu"],
      collectorCpu,
      `the collector sidecar runs inside each traced task, and ${name("cpu")} is ${task.cpu}: ${collectorCpu} leaves the app less than ${APP_MIN_CPU}`,
      `at most ${task.cpu - APP_MIN_CPU} (${name("cpu")} less ${APP_MIN_CPU} for the app), or a larger ${name("cpu")}`,
    );
  if (collectorMemoryMib + task.scratchSizeMib + APP_MIN_MEMORY_MIB > task.memory)
    fail(
      ctx,
      ["tracing", "collectorMemoryMib"],
      collectorMemoryMib,
      `the collector sidecar runs inside each traced task, and ${name("memory")} is ${task.memory}: with ${name("scratchSizeMib")} (${task.scratchSizeMib}) it leaves the app less than ${APP_MIN_MEMORY_MIB} MiB`,
      `at most ${task.memory - task.scratchSizeMib - APP_MIN_MEMORY_MIB} (${name("memory")} less ${name("scratchSizeMib")} and ${APP_MIN_MEMORY_MIB} for the app), or a larger ${name("memory")}`,
    );
  const environment = task.environment ?? {};
  const taken = Object.keys(tracingEnvironment("", 1)).find((variable) => variable in environment || variable in task.secrets);
  if (taken !== undefined)
    fail(
      ctx,
      [...path, "task", taken in environment ? "environment" : "secrets", taken],
      environment[taken] ?? task.secrets[taken],
      "the stack sets this variable itself when tracing.enabled is true",
      "another name, or tracing.enabled false",
    );
}

/**
 * A routed task's stop: drain (the health check seen failing, and every load balancer node acting on it:
 * LB_PROPAGATION_SECONDS), then finish what is in flight, within
 * the stop timeout, itself within Spot's two-minute warning; migrations within the grace period.
 */
function checkStopTimings(ctx: Context, s: Parsed, entry: ParsedService): void {
  const { path, task, service, key } = entry;
  const name = (...rest: string[]) => [...path, ...rest].join(".");
  const healthCheckSetting = key === undefined ? "loadBalancer.healthCheck" : `services.${key}.route.healthCheck`;
  const healthCheck: TargetHealthCheckConfig = key === undefined ? s.loadBalancer.healthCheck : s.services[key].route!.healthCheck;
  const shutdownMs = shutdownTimeoutMs(task.environment);
  if (shutdownMs === undefined || shutdownMs < 100 || shutdownMs > 110_000) {
    fail(
      ctx,
      [...path, "task", "environment", "SHUTDOWN_TIMEOUT_MS"],
      task.environment?.SHUTDOWN_TIMEOUT_MS,
      "not a whole number of milliseconds from 100 to 110000",
      'e.g. "10000"',
    );
    return;
  }
  const t = stopTimings(healthCheck, shutdownMs);
  const drain =
    `${healthCheckSetting}: unhealthyThreshold ${healthCheck.unhealthyThreshold} x intervalSeconds ${healthCheck.intervalSeconds} + timeoutSeconds ${healthCheck.timeoutSeconds}` +
    `, then ${LB_PROPAGATION_SECONDS} s for every load balancer node to act on it (LB_PROPAGATION_SECONDS) = ${t.drainSeconds} s`;
  const parts = `the drain (${drain}), SHUTDOWN_TIMEOUT_MS ${shutdownMs} ms and 2 s to exit`;
  if (t.requiredStopSeconds > SPOT_WARNING_SECONDS)
    fail(
      ctx,
      [...healthCheckSetting.split("."), "unhealthyThreshold"],
      healthCheck.unhealthyThreshold,
      `a stopping task needs ${t.requiredStopSeconds} s for ${parts}, more than the ${SPOT_WARNING_SECONDS} s Fargate allows a stop and Fargate Spot warns before reclaiming a task`,
      `health check and shutdown settings that add up to ${SPOT_WARNING_SECONDS} s or less, e.g. unhealthyThreshold 2, intervalSeconds 10, timeoutSeconds 5`,
    );
  else if (task.stopTimeoutSeconds < t.requiredStopSeconds)
    fail(
      ctx,
      [...path, "task", "stopTimeoutSeconds"],
      task.stopTimeoutSeconds,
      `ECS would kill a stopping task before it is done: it needs ${t.requiredStopSeconds} s for ${parts}`,
      `${t.requiredStopSeconds} to ${SPOT_WARNING_SECONDS}, or a faster health check (${healthCheckSetting})`,
    );
  if (entry.database && migrationSeconds(service.healthCheckGracePeriodSeconds) < MIN_MIGRATION_SECONDS)
    fail(
      ctx,
      [...path, "service", "healthCheckGracePeriodSeconds"],
      service.healthCheckGracePeriodSeconds,
      `migrations run at start within the grace period less ${START_MARGIN_SECONDS} s to start listening, which leaves under ${MIN_MIGRATION_SECONDS} s`,
      `${START_MARGIN_SECONDS + MIN_MIGRATION_SECONDS} or more (${name("service", "healthCheckGracePeriodSeconds")})`,
    );
}

/** Every job complete (names, `APP_ENV`), its task held to a service's task rules. */
function resolveJobs(ctx: Context, s: Parsed, prefix: string): JobEntryConfig[] {
  const publishes = publishersOf(s);
  const service = ServiceSettingsSchema.parse({});
  const autoscaling = AutoscalingSettingsSchema.parse({ enabled: false });
  return Object.keys(s.jobs)
    .sort()
    .map((key) => {
      const job = s.jobs[key];
      checkService(ctx, s, { path: ["jobs", key], key, task: job.task, service, autoscaling, routed: false, database: job.database });
      return {
        ...job,
        key,
        name: `${prefix}-${key}`,
        task: { ...job.task, environment: job.task.environment ?? { APP_ENV: s.name } },
        publishesTo: publishes.get(key) ?? [],
      };
    });
}

/** Every service complete: names, `APP_ENV`, and each routed service's rule with its priority. */
function resolveServices(ctx: Context, s: Parsed, prefix: string, parsed: readonly ParsedService[]): Omit<ServiceEntryConfig, "publishesTo">[] {
  const priorities = new Map<number, string>();
  let next = FIRST_PRIORITY;
  return parsed.map((entry) => {
    const { key, task, service, autoscaling, database } = entry;
    const name = key === undefined ? prefix : `${prefix}-${key}`;
    const complete = { key, name, task: { ...task, environment: task.environment ?? { APP_ENV: s.name } }, service, autoscaling, database };
    if (key === undefined) return { ...complete, route: { healthCheck: s.loadBalancer.healthCheck } };
    const route = s.services[key].route;
    if (!route) return complete;
    if (`${name}-tg`.length > 32)
      fail(
        ctx,
        ["services", key],
        key,
        `its target group would be named "${name}-tg" (${name.length + 3} characters), past AWS's limit of 32`,
        `a key of at most ${Math.max(1, 32 - prefix.length - 4)} characters with this project and name`,
      );
    let priority = route.priority;
    if (priority === undefined) {
      while ([...priorities.keys(), ...parsed.map((p) => (p.key ? s.services[p.key].route?.priority : undefined))].includes(next)) next += PRIORITY_STEP;
      priority = next;
    }
    const holder = priorities.get(priority);
    if (holder !== undefined)
      fail(ctx, ["services", key, "route", "priority"], priority, `the listener rule priority of services.${holder} too`, "a priority no other service has");
    priorities.set(priority, key);
    return { ...complete, route: { healthCheck: route.healthCheck, rule: { priority, pathPatterns: route.pathPatterns, hostHeaders: route.hostHeaders } } };
  });
}

/**
 * What a service's task takes from the environment's `task` unless it sets it (docs/settings.md's "as `task`"):
 * its size, cpu and memory together (a worker in dev is as small as dev's API), its CPU architecture (every service runs the
 * environment's one image, built for one architecture) and how long its logs are kept. The rest (the
 * command, variables, health check, port) is the service's own, with `task`'s defaults.
 */
export const INHERITED_TASK_FIELDS = ["cpu", "memory", "cpuArchitecture", "logRetentionDays"] as const;

/** The input with each service's task filled from the environment's, field by field, where the service leaves it out. */
function inheritTaskFields(input: unknown): unknown {
  const written = input as EnvironmentSettings;
  if (
    typeof input !== "object" ||
    input === null ||
    typeof written.services !== "object" ||
    written.services === null ||
    typeof written.task !== "object" ||
    written.task === null
  )
    return input;
  const task = written.task as Record<string, unknown>;
  const inherited = Object.fromEntries(INHERITED_TASK_FIELDS.filter((field) => task[field] !== undefined).map((field) => [field, task[field]]));
  const services = Object.fromEntries(
    Object.entries(written.services).map(([key, service]) => {
      if (typeof service !== "object" || service === null || (service.task !== undefined && (typeof service.task !== "object" || service.task === null)))
        return [key, service];
      const own = (service.task ?? {}) as Record<string, unknown>;
      // The size is a pair: a service that sets either cpu or memory takes the other from `task`'s defaults, not a half of the environment's.
      const sized = own.cpu !== undefined || own.memory !== undefined;
      const taken = Object.fromEntries(Object.entries(inherited).filter(([field]) => !(sized && (field === "cpu" || field === "memory"))));
      return [key, { ...service, task: { ...taken, ...own } }];
    }),
  );
  return { ...written, services };
}

/** The whole settings schema: each service's inherited task fields filled in, each value and section checked, then the rules across sections, then the defaults that follow from other settings. */
export const SettingsSchema = z.pipe(z.pipe(z.transform(inheritTaskFields), EnvironmentSettingsSchema), z.transform(resolve));

/** Checks one environment's settings and applies every default; the first problem stops synth, named like every other. */
export function parseSettings(settings: EnvironmentSettings): EnvironmentConfig {
  const extra = extraSections();
  const input = Object.fromEntries(Object.entries(settings).filter(([key]) => !extra.has(key))) as EnvironmentSettings;
  const sections: Record<string, unknown> = {};
  const written = settings as unknown as Record<string, unknown>;
  for (const [name, section] of extra) {
    if (written[name] === undefined) continue;
    const parsed = section.schema.safeParse(written[name]);
    if (!parsed.success) {
      const issue = parsed.error.issues.find((i) => i.code === "unrecognized_keys") ?? parsed.error.issues[0];
      throw toSettingError({ ...issue, path: [name, ...issue.path] } as z.core.$ZodIssue, settings);
    }
    sections[name] = parsed.data;
  }
  const result = SettingsSchema.safeParse(input);
  if (result.success) {
    // Defaults hide whether a port was written, so a worker's is looked for in the input.
    const worker = Object.entries(input.services ?? {}).find(([, entry]) => !entry.route && entry.task?.containerPort !== undefined);
    if (worker)
      throw new SettingError(
        `services.${worker[0]}.task.containerPort`,
        worker[1].task!.containerPort,
        "a worker (a service without a route) serves no port",
        `no containerPort, or a route for services.${worker[0]}`,
      );
    checkUses(result.data, sections);
    // Each section also where it was written (config.<name>), as every other setting is.
    return { ...result.data, ...sections, sections };
  }
  // A misspelled key explains the other problems it causes (a required key then missing), so it goes first.
  const issue = result.error.issues.find((i) => i.code === "unrecognized_keys") ?? result.error.issues[0];
  throw toSettingError(issue, input);
}

function toSettingError(issue: z.core.$ZodIssue, input: unknown): SettingError {
  const at = (path: readonly PropertyKey[]) => path.map(String).join(".");
  const valueAt = (path: readonly PropertyKey[]) => path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key], input);
  const known = (path: readonly PropertyKey[]) => Object.keys(shapeAt(path));
  const setting = at(issue.path) || "settings";
  const value = valueAt(issue.path);
  // A map key that fails its rule (services' keys): the rule's own issue, at the key.
  if (issue.code === "invalid_key" && issue.issues[0]?.code === "custom") {
    const rule = (issue.issues[0] as { params?: RuleParams }).params;
    if (rule) return new SettingError(setting, issue.path.at(-1), rule.problem, rule.allowed);
  }
  if (issue.code === "custom" && issue.params) {
    const rule = issue.params as RuleParams;
    // The value the rule saw: the user's, or the default the user left in place.
    return new SettingError(setting, rule.value !== undefined ? rule.value : value, rule.problem, rule.allowed);
  }
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const path = [...issue.path, key];
    const options = known(issue.path);
    return new SettingError(
      at(path),
      valueAt(path),
      `not a setting${issue.path.length ? ` of ${at(issue.path)}` : ""}`,
      `did you mean ${closest(key, options, 1).map((k) => `"${k}"`)[0]}? Known: ${options.join(", ")}`,
    );
  }
  if (issue.code === "invalid_value") return new SettingError(setting, value, "not a supported value", issue.values.map((v) => JSON.stringify(v)).join(", "));
  if (issue.path.at(-1) === "command")
    return new SettingError(setting, value, "not a command", 'a shell command string, or an array of strings such as ["/bin/probe", "--quick"]');
  if (issue.path[0] === "state" && (issue.code === "invalid_union" || issue.path.at(-1) === "backend")) {
    const allowed = issue.path.at(-1) === "backend" ? '"local" or "s3"' : '{ backend: "local" } or { backend: "s3", bucket, key?, region?, kmsKeyId? }';
    return new SettingError(setting, value, "not a state backend", allowed);
  }
  if (issue.code === "invalid_type") {
    const expected = `${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    return new SettingError(setting, value, value === undefined ? "required, but not set" : `not ${expected}`, expected);
  }
  return new SettingError(setting, value, issue.message, "see the settings table in docs/settings.md");
}

/**
 * What a service or job `uses` (`service.uses`, `jobs.<key>.uses`): each a section a fork's construct added
 * that tasks may use (lib/settings/sections.ts), and that this environment sets.
 */
function checkUses(config: Omit<EnvironmentConfig, "sections">, sections: Readonly<Record<string, unknown>>): void {
  const usable = [...extraSections().values()].filter((s) => s.usable && sections[s.name] !== undefined).map((s) => s.name);
  const asked = [
    ...config.allServices.map((entry) => ({
      setting: entry.key === undefined ? "service.uses" : `services.${entry.key}.service.uses`,
      uses: entry.service.uses,
    })),
    ...config.allJobs.map((entry) => ({ setting: `jobs.${entry.key}.uses`, uses: entry.uses })),
  ];
  for (const { setting, uses } of asked)
    for (const name of uses)
      if (!usable.includes(name)) {
        const section = extraSections().get(name);
        throw new SettingError(
          setting,
          uses,
          section?.usable
            ? `"${name}" is not set in this environment`
            : section
              ? `"${name}" (${section.file}) is not something tasks use`
              : `"${name}" is no resource a construct adds`,
          usable.length
            ? `names of what this environment sets for tasks to use: ${usable.join(", ")}`
            : "[]: this environment sets nothing tasks use (a fork's construct adds a section, docs/forking.md)",
        );
      }
}

/** The object schema at a path of the settings (for the known keys of a misspelled one); a fork's section by its own schema. */
function shapeAt(path: readonly PropertyKey[]): Record<string, unknown> {
  const section = extraSections().get(String(path[0]));
  if (section) return shapeIn(section.schema, path.slice(1));
  const shape = shapeIn(EnvironmentSettingsSchema, path);
  return path.length ? shape : { ...shape, ...Object.fromEntries([...extraSections().keys()].map((name) => [name, undefined])) };
}

function shapeIn(root: z.core.$ZodType, path: readonly PropertyKey[]): Record<string, unknown> {
  let schema: z.core.$ZodType = unwrap(root);
  for (const key of path) {
    if (schema._zod.def.type === "record") schema = unwrap((schema as z.core.$ZodRecord)._zod.def.valueType);
    else if (schema._zod.def.type === "object") schema = unwrap((schema as z.core.$ZodObject)._zod.def.shape[String(key)]);
    else return {};
  }
  return schema._zod.def.type === "object" ? (schema as z.core.$ZodObject)._zod.def.shape : {};
}

/** The schema inside optional, nullable, readonly and default wrappers. */
export function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  while (["optional", "nullable", "readonly", "default", "prefault"].includes(current._zod.def.type))
    current = (current._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
  return current;
}

/**
 * Environments of one account name their resources `<project>-<name>` and their services'
 * `<project>-<name>-<key>`: environment `dev` with service `lite` and environment `dev-lite` would both
 * own `rest-api-dev-lite`, and the second deploy would fail on names the first holds. Refused at synth.
 */
export function checkNameClashes(environments: readonly EnvironmentSettings[]): void {
  const owner = new Map<string, string>();
  for (const settings of environments) {
    const prefix = resourcePrefix(settings);
    const names: [name: string, setting: string, value: unknown][] = [
      [prefix, "name", settings.name],
      ...Object.keys(settings.services ?? {}).map((key): [string, string, unknown] => [`${prefix}-${key}`, `services.${key}`, key]),
    ];
    for (const [name, setting, value] of names) {
      const other = owner.get(name);
      if (other)
        throw new SettingError(
          `${setting} (environment ${settings.name})`,
          value,
          `its resources would be named "${name}", as ${other}'s are`,
          "a service key or environment name that makes another name",
        );
      owner.set(name, setting === "name" ? `environment ${settings.name}` : `service ${value} of environment ${settings.name}`);
    }
  }
  checkPrefixOverlaps(environments);
}

/**
 * An environment's permissions are written as patterns of its names, `<project>-<name>-*` (its roles,
 * log groups, queues, buckets, task definitions): with `dev` and `dev-eu` in one account, dev's
 * `rest-api-dev-*` would match every name of dev-eu's, and dev's CI and roles would reach dev-eu's
 * resources wherever AWS checks names rather than tags. Refused at synth, across projects too
 * (`rest` + `api-dev` against `rest-api` + `dev`).
 */
function checkPrefixOverlaps(environments: readonly EnvironmentSettings[]): void {
  const prefixes = environments.map((settings) => ({ settings, prefix: resourcePrefix(settings) }));
  for (const a of prefixes)
    for (const b of prefixes)
      if (a !== b && b.prefix.startsWith(`${a.prefix}-`))
        throw new SettingError(
          `name (environment ${b.settings.name})`,
          b.settings.name,
          `its names start with "${a.prefix}-", environment ${a.settings.name}'s pattern, so ${a.settings.name}'s roles and CI would reach its resources by name`,
          b.settings.name.startsWith(`${a.settings.name}-`)
            ? `names that do not extend one another after a "-" (e.g. "${a.settings.name}-main" beside "${b.settings.name}", or "${b.settings.name.slice(a.settings.name.length + 1)}-${a.settings.name}"), or another project`
            : `a project and name whose "<project>-<name>" does not begin with "${a.prefix}-"`,
        );
}
