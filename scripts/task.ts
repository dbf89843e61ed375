/**
 * One-off tasks: the environment's release of a service or a job, run once in that service's (or job's)
 * subnets and security group, its logs streamed here, and this command's exit code the container's.
 *
 *   npm run task -- <env> <service|job> [command…]
 *   npm run task -- dev api dist/migrate.mjs                 # the API's image and environment, another command
 *   npm run task -- dev nightly                              # a job, now, as its schedule would run it
 *   npm run task -- --release dev api dist/migrate.mjs       # the recorded release (releases/<env>.json), before it is deployed
 *   npm run task -- --env MIGRATION_TIMEOUT_MS=600000 dev api dist/migrate.mjs
 *
 * `api` is the default API; other names are keys of `services` or `jobs` in environments/environments.ts. The
 * task definition, network and capacity are read from ECS (the service) or EventBridge Scheduler (the
 * job) as deployed, so the task runs what and where the environment runs; on Fargate it runs on-demand
 * (never Spot, which may stop a migration halfway). `--release` runs the recorded release instead: when
 * it is not the image deployed yet (the pipeline's migration before its deploy), a revision of the same
 * task definition with that image is registered for the run and deregistered after it.
 *
 * Exit codes: the container's; 1 when the task could not start or ended without one; 124 after
 * `--timeout <minutes>` (the task is stopped); 130 on Ctrl-C (the task is stopped). AWS_EMULATOR_URL
 * points every call at the emulator, as the stacks do.
 */
import { resolve } from "node:path";
import { defineCommand, onCleanup, UsageError } from "../cli/cli.cjs";
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type CapacityProviderStrategyItem,
  type NetworkConfiguration,
  type Tag,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { imageReference, type Release } from "../lib/registry/release";
import { DEFAULT_API_PUBLISHER } from "../lib/workers/queue";
import { CONTAINER_NAME, MIGRATE_CONTAINER_NAME } from "../lib/compute/task-definition";
import { readRelease } from "../lib/settings/environment/releases";
import { parseSettings } from "../lib/settings/environment/schema";
import { resourcePrefix, type EnvironmentSettings } from "../lib/settings/environment/settings";

export interface TaskArgs {
  readonly env: string;
  readonly target: string;
  readonly command?: readonly string[];
  readonly release: boolean;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMinutes?: number;
}

export const TASK_COMMAND = defineCommand({
  name: "task",
  summary: "Runs the environment's release of a service or a job once, in its subnets and security group, streaming its logs; exits with its exit code.",
  args: "<env> <service|job> [command…]",
  argsHelp: [
    "service|job: `api` (the default API), or a key of `services` or `jobs` in environments/environments.ts",
    "command: the container's command instead of the image's; options after <env> are the command's",
  ],
  passthrough: true,
  options: {
    release: { type: "boolean", description: "run the recorded release (releases/<env>.json), before it is deployed" },
    env: { type: "string", value: "KEY=VALUE", multiple: true, description: "a variable for the container (repeatable)" },
    timeout: { type: "string", value: "<minutes>", description: "stop the task after this long (exit 124)" },
  },
  needs: ["AWS credentials for the environment's account, the environment deployed (or AWS_EMULATOR_URL: the emulator)"],
  examples: ["npm run task -- dev api dist/migrate.mjs", "npm run task -- --release --timeout 30 dev api dist/migrate.mjs", "npm run task -- dev nightly"],
});

const USAGE = TASK_COMMAND.usage();

/** The command line: options first, then the environment and the target, then the container's command. */
export function parseTaskArgs(argv: readonly string[]): TaskArgs {
  let parsed;
  try {
    parsed = TASK_COMMAND.parse(argv);
  } catch (error) {
    throw error instanceof UsageError ? new UsageError(`${error.message}\n${USAGE}`) : error;
  }
  if (parsed.help) throw new UsageError(USAGE);
  const environment: Record<string, string> = {};
  for (const assignment of (parsed.values.env as string[] | undefined) ?? []) {
    const pair = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(assignment);
    if (!pair) throw new UsageError(`--env takes KEY=VALUE, not ${JSON.stringify(assignment)}\n${USAGE}`);
    environment[pair[1]] = pair[2];
  }
  let timeoutMinutes: number | undefined;
  if (parsed.values.timeout !== undefined) {
    timeoutMinutes = Number(parsed.values.timeout);
    if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0)
      throw new UsageError(`--timeout takes minutes above 0, not ${JSON.stringify(parsed.values.timeout)}\n${USAGE}`);
  }
  const [env, target, ...command] = parsed.rest;
  if (!env || !target) throw new UsageError(`expected an environment and a service or job\n${USAGE}`);
  return { env, target, command: command.length ? command : undefined, release: Boolean(parsed.values.release), environment, timeoutMinutes };
}

/** What to run, as the stack names it: the ECS service or the job's schedule it is read from. */
export type TaskTarget =
  | { readonly kind: "service"; readonly cluster: string; readonly service: string; readonly region: string; readonly repository: string }
  | { readonly kind: "job"; readonly cluster: string; readonly group: string; readonly schedule: string; readonly region: string; readonly repository: string };

/** The target's names, from the environment's settings (environments/environments.ts). */
export function resolveTarget(environments: readonly EnvironmentSettings[], env: string, target: string): TaskTarget {
  const settings = environments.find((e) => e.name === env);
  if (!settings) throw new Error(`no environment "${env}" in environments/environments.ts; there are ${environments.map((e) => e.name).join(", ")}`);
  const config = parseSettings(settings);
  const prefix = resourcePrefix(config);
  const common = { cluster: prefix, region: config.region, repository: prefix };
  if (target === DEFAULT_API_PUBLISHER && !config.services[target]) return { kind: "service", service: prefix, ...common };
  if (config.services[target]) return { kind: "service", service: `${prefix}-${target}`, ...common };
  if (config.jobs[target]) return { kind: "job", group: prefix, schedule: `${prefix}-${target}`, ...common };
  const known = [DEFAULT_API_PUBLISHER, ...Object.keys(config.services), ...Object.keys(config.jobs)];
  throw new Error(`${env} has no service or job "${target}"; there are ${known.join(", ")}`);
}

/** The clients a run needs; tests hand in fakes. */
export interface TaskClients {
  readonly ecs: Pick<ECSClient, "send">;
  readonly logs: Pick<CloudWatchLogsClient, "send">;
  readonly scheduler: Pick<SchedulerClient, "send">;
}

export interface TaskIo {
  /** A log line of the task. */
  line(text: string): void;
  /** A note of this script's own, on stderr. */
  note(text: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** Resolves when the user asks to stop (Ctrl-C). @default never */
  readonly interrupted?: Promise<void>;
}

interface Placement {
  readonly taskDefinition: string;
  readonly network: NetworkConfiguration;
  readonly strategy?: CapacityProviderStrategyItem[];
}

/** Where the deployed service or job runs: its task definition, subnets, security groups and capacity. */
async function placement(target: TaskTarget, clients: TaskClients): Promise<Placement> {
  if (target.kind === "service") {
    const found = (await clients.ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }))).services?.[0];
    if (!found?.taskDefinition || found.status !== "ACTIVE")
      throw new Error(`the service ${target.service} is not deployed in the cluster ${target.cluster} (deploy the environment first)`);
    return { taskDefinition: found.taskDefinition, network: found.networkConfiguration!, strategy: found.capacityProviderStrategy };
  }
  const schedule = await clients.scheduler.send(new GetScheduleCommand({ GroupName: target.group, Name: target.schedule }));
  const ecs = schedule.Target?.EcsParameters;
  if (!ecs?.TaskDefinitionArn) throw new Error(`the schedule ${target.group}/${target.schedule} runs no ECS task (deploy the environment first)`);
  const vpc = ecs.NetworkConfiguration?.awsvpcConfiguration;
  return {
    taskDefinition: ecs.TaskDefinitionArn,
    network: { awsvpcConfiguration: { subnets: vpc?.Subnets ?? [], securityGroups: vpc?.SecurityGroups, assignPublicIp: vpc?.AssignPublicIp } },
    strategy: ecs.CapacityProviderStrategy?.map((s) => ({ capacityProvider: s.capacityProvider, base: s.base, weight: s.weight })),
  };
}

/** The release's image in the repository of the deployed one (`<registry>/<repo>[:tag|@digest]`). */
export function releaseImage(deployedImage: string, release: Release): string {
  const repository = deployedImage.replace(/[@:][^/]*$/, "");
  return `${repository}${imageReference(release)}`;
}

/**
 * Runs the task and streams its logs; resolves with the exit code this command should end with.
 */
export async function runOneOff(args: TaskArgs, target: TaskTarget, clients: TaskClients, io: TaskIo, release?: Release): Promise<number> {
  const where = await placement(target, clients);
  const described = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: where.taskDefinition, include: ["TAGS"] }));
  let definition = described.taskDefinition!;
  const app = definition.containerDefinitions?.find((c) => c.name === CONTAINER_NAME);
  if (!app) throw new Error(`${definition.taskDefinitionArn} has no container "${CONTAINER_NAME}"`);
  let registered: string | undefined;
  if (args.release) {
    if (!release) throw new Error(`--release: releases/${args.env}.json records no release yet`);
    if (!app.image?.includes(`/${target.repository}`))
      throw new Error(
        `--release: the deployed task runs ${app.image}, not an image of the repository ${target.repository} (the placeholder, before the first release); deploy a release first`,
      );
    const image = releaseImage(app.image, release);
    if (image !== app.image) {
      // Tagged as the deployed revision (the environment's tags, which the deploy role's register needs).
      definition = await registerWithImage(definition, image, [...(described.tags ?? []), { key: "OneOff", value: "npm run task" }], clients);
      registered = definition.taskDefinitionArn;
      io.note(`registered ${registered} with the recorded release ${image} for this run`);
    }
  }
  try {
    return await runAndStream(args, target, where, definition, clients, io);
  } finally {
    if (registered) await clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: registered })).catch(() => undefined);
  }
}

async function registerWithImage(definition: TaskDefinition, image: string, tags: Tag[], clients: TaskClients): Promise<TaskDefinition> {
  const registered = await clients.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: definition.family,
      taskRoleArn: definition.taskRoleArn,
      executionRoleArn: definition.executionRoleArn,
      networkMode: definition.networkMode,
      // The API's migrate container runs the same image as the app: the release's migrations, as the owner, first.
      containerDefinitions: definition.containerDefinitions?.map((c) => (c.name === CONTAINER_NAME || c.name === MIGRATE_CONTAINER_NAME ? { ...c, image } : c)),
      volumes: definition.volumes,
      requiresCompatibilities: definition.requiresCompatibilities,
      cpu: definition.cpu,
      memory: definition.memory,
      runtimePlatform: definition.runtimePlatform,
      ephemeralStorage: definition.ephemeralStorage,
      tags,
    }),
  );
  return registered.taskDefinition!;
}

async function runAndStream(
  args: TaskArgs,
  target: TaskTarget,
  where: Placement,
  definition: TaskDefinition,
  clients: TaskClients,
  io: TaskIo,
): Promise<number> {
  const fargate = definition.requiresCompatibilities?.includes("FARGATE");
  const environment = Object.entries(args.environment).map(([name, value]) => ({ name, value }));
  const started = await clients.ecs.send(
    new RunTaskCommand({
      cluster: target.cluster,
      taskDefinition: definition.taskDefinitionArn,
      count: 1,
      networkConfiguration: where.network,
      // On Fargate, on-demand: a Spot interruption would stop a migration halfway. On EC2, the service's own providers.
      ...(fargate ? { capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }] } : { capacityProviderStrategy: where.strategy }),
      overrides: {
        containerOverrides: [{ name: CONTAINER_NAME, ...(args.command ? { command: [...args.command] } : {}), ...(environment.length ? { environment } : {}) }],
      },
      startedBy: "npm-run-task",
      enableECSManagedTags: true,
      propagateTags: "TASK_DEFINITION",
    }),
  );
  const task = started.tasks?.[0];
  if (!task?.taskArn) {
    io.note(
      `the task did not start: ${(started.failures ?? []).map((f) => `${f.arn ?? ""} ${f.reason}${f.detail ? ` (${f.detail})` : ""}`).join("; ") || "no reason given"}`,
    );
    return 1;
  }
  const taskId = task.taskArn.split("/").pop()!;
  io.note(`started ${task.taskArn} (${definition.family}:${definition.revision}${args.command ? `, command ${JSON.stringify(args.command)}` : ""})`);
  // The app container's stream, after the migrate container's where the task has one (its migrations run first).
  const streams = [MIGRATE_CONTAINER_NAME, CONTAINER_NAME].flatMap((name) => {
    const options = definition.containerDefinitions?.find((c) => c.name === name)?.logConfiguration?.options;
    return options
      ? [{ group: options["awslogs-group"], stream: `${options["awslogs-stream-prefix"]}/${name}/${taskId}`, token: undefined as string | undefined }]
      : [];
  });
  let logsReadable = streams.length > 0 && streams.every((s) => Boolean(s.group));
  const drain = async () => {
    for (const source of streams) {
      for (;;) {
        if (!logsReadable) return;
        let page;
        try {
          page = await clients.logs.send(
            new GetLogEventsCommand({ logGroupName: source.group, logStreamName: source.stream, startFromHead: true, nextToken: source.token }),
          );
        } catch (error) {
          const name = (error as Error).name;
          if (name === "ResourceNotFoundException") break; // the stream appears once the container writes
          logsReadable = false;
          io.note(`cannot read the task's logs (${name}: ${(error as Error).message}); still waiting for its exit code`);
          return;
        }
        for (const event of page.events ?? []) io.line(event.message ?? "");
        const same = page.nextForwardToken === source.token;
        source.token = page.nextForwardToken;
        if (same || !(page.events ?? []).length) break;
      }
    }
  };
  const deadline = args.timeoutMinutes ? io.now() + args.timeoutMinutes * 60_000 : Infinity;
  let interrupted = false;
  void io.interrupted?.then(() => (interrupted = true));
  let stopRequested = false;
  for (;;) {
    await drain();
    const current = (await clients.ecs.send(new DescribeTasksCommand({ cluster: target.cluster, tasks: [task.taskArn] }))).tasks?.[0];
    if (current?.lastStatus === "STOPPED") {
      await io.sleep(2000); // the last lines reach CloudWatch Logs a moment after the container exits
      await drain();
      const container = current.containers?.find((c) => c.name === CONTAINER_NAME);
      // The app container never starts when the migrate container (the API's migrations, as the owner) fails: its code is the task's.
      const migrate = current.containers?.find((c) => c.name === MIGRATE_CONTAINER_NAME);
      if (migrate?.exitCode !== undefined && migrate.exitCode !== 0 && container?.exitCode === undefined)
        io.note(`the ${MIGRATE_CONTAINER_NAME} container exited ${migrate.exitCode}: the migrations failed, the app container did not start`);
      const code = container?.exitCode ?? (migrate?.exitCode ? migrate.exitCode : undefined);
      io.note(`stopped: ${current.stoppedReason ?? current.stopCode ?? "no reason given"}${code === undefined ? " (no exit code)" : `, exit code ${code}`}`);
      if (interrupted) return 130;
      if (stopRequested) return 124;
      return code ?? 1;
    }
    if (!stopRequested && (interrupted || io.now() > deadline)) {
      stopRequested = true;
      io.note(interrupted ? "interrupted: stopping the task" : `--timeout ${args.timeoutMinutes} minutes passed: stopping the task`);
      await clients.ecs.send(
        new StopTaskCommand({ cluster: target.cluster, task: task.taskArn, reason: interrupted ? "interrupted (npm run task)" : "timed out (npm run task)" }),
      );
    }
    await io.sleep(2000);
  }
}

/** SDK settings: the emulator's endpoint when AWS_EMULATOR_URL is set, as the stacks use it. */
function clientSettings(region: string, env: NodeJS.ProcessEnv) {
  const url = env.AWS_EMULATOR_URL;
  return url ? { region, endpoint: url, credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" } } : { region };
}

if (require.main === module) {
  TASK_COMMAND.start();
  void (async () => {
    try {
      const args = parseTaskArgs(process.argv.slice(2));
      const { environments } = await import("../environments/environments");
      const target = resolveTarget(environments, args.env, args.target);
      const settings = clientSettings(target.region, process.env);
      const release = args.release ? readRelease(resolve(__dirname, "..", "releases"), args.env) : undefined;
      let stop: () => void = () => undefined;
      const interrupted = new Promise<void>((done) => (stop = done));
      // Interrupted, the task is stopped and its end awaited (its last logs, its exit), then this exits 130 or 143.
      let ended: Promise<unknown> = Promise.resolve();
      onCleanup(() => {
        stop();
        return ended;
      });
      const running = runOneOff(
        args,
        target,
        { ecs: new ECSClient(settings), logs: new CloudWatchLogsClient(settings), scheduler: new SchedulerClient(settings) },
        {
          line: (text) => process.stdout.write(`${text}\n`),
          note: (text) => process.stderr.write(`task: ${text}\n`),
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          now: Date.now,
          interrupted,
        },
        release,
      );
      ended = running.catch(() => undefined);
      process.exit(await running);
    } catch (error) {
      process.stderr.write(`task: ${(error as Error).message}\n`);
      process.exit(error instanceof UsageError ? error.exitCode : 1);
    }
  })();
}
