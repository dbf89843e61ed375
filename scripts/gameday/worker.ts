/**
 * The worker and the jobs under load: the synthesized worker service's task definition run as the API's
 * is (task.ts), consuming the emulator's SQS (moto) from a queue and dead-letter queue made as the stack
 * declares them (visibility timeout, redrive after maxReceiveCount), while the API's tasks publish to it
 * (the publisher variable the stack gives them); the scheduled job's task run from its schedule's target.
 *
 * prod declares no worker, queue or job; the starter's one environment that does is the `dev-workers`
 * example (__tests__/support/variants.ts), so the worker, its queue and its job are read from that stack's
 * synthesized `cdk.tf.json`, and run against the game day's database and API (docs/gameday.md).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type net from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { App } from "cdktf";
import { ApiStack } from "../../stacks/api-stack";
import { examples } from "../../__tests__/support/variants";
import { WorkerConfigSchema } from "../../app/src/worker-config";
import { retryDelay } from "../../app/src/consumer";
import type { LoadResult } from "./load";
import type { Timing } from "./haproxy";
import type { EcsService } from "./ecs";
import type { ImageConfig, StagedImage } from "./image";
import type { Postgres } from "./postgres";
import type { GamedaySpec, InitContainerSpec, TaskSpec } from "./stack";
import { Task } from "./task";

/** The example environment whose worker, queue and job the game day runs (prod has none). */
export const WORKER_ENVIRONMENT = "dev-workers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized Terraform JSON has no static types, as in stack.ts
type Resource = Record<string, any>;
type TfJson = { resource: Record<string, Record<string, Resource>> };

export interface QueueSpec {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitSeconds: number;
  readonly maxReceiveCount: number;
  readonly deadLetterName: string;
  /** The Terraform reference of its URL, as the task definitions name it. */
  readonly urlRef: string;
}

export interface WorkerSpec {
  /** The worker service's task definition's container. */
  readonly worker: TaskSpec;
  readonly queue: QueueSpec;
  /** The API's variable that names the queue (its publisher variable), as the stack sets it. */
  readonly publisherVariable: string;
  /** The scheduled job: its schedule and the container of the task definition its target runs. */
  readonly job: { readonly name: string; readonly schedule: string; readonly task: TaskSpec };
  /** Terraform references the containers name for the database's address. */
  readonly databaseAddressRef: string;
}

const refKey = (ref: string): string => {
  const match = /^\$\{[a-z0-9_]+\.([A-Za-z0-9_]+)\.[a-z_]+\}$/.exec(ref);
  if (!match) throw new Error(`not a Terraform resource reference: ${ref}`);
  return match[1];
};

function containerSpec(taskDefinition: Resource): TaskSpec {
  const [c] = JSON.parse(taskDefinition.container_definitions) as Resource[];
  const pairs = (list: Resource[] | undefined, key: string) => Object.fromEntries((list ?? []).map((e) => [e.name, e[key]]));
  return {
    family: taskDefinition.family,
    command: c.command,
    environment: pairs(c.environment, "value"),
    secrets: pairs(c.secrets, "valueFrom"),
    user: c.user,
    readonlyRootFilesystem: Boolean(c.readonlyRootFilesystem),
    stopTimeoutSeconds: c.stopTimeout ?? 30,
    containerPort: 0,
  };
}

/** The worker service, its queue and the scheduled job, as synthesized. */
export function readWorkerSpec(tf: TfJson): WorkerSpec {
  const all = (type: string) => Object.entries(tf.resource[type] ?? {});
  const taskDefinitions = tf.resource.aws_ecs_task_definition ?? {};
  // The worker service: the one whose container reads a queue (QUEUE_URL).
  const workers = all("aws_ecs_service")
    .map(([, s]) => taskDefinitions[refKey(s.task_definition)])
    .filter((td) => td && containerSpec(td).environment.QUEUE_URL);
  if (workers.length !== 1) throw new Error(`expected one worker service in ${WORKER_ENVIRONMENT}, found ${workers.length}`);
  const worker = containerSpec(workers[0]);
  const urlRef = worker.environment.QUEUE_URL;
  const queue = tf.resource.aws_sqs_queue?.[refKey(urlRef)];
  if (!queue?.redrive_policy) throw new Error(`the worker's queue ${urlRef} has no redrive policy`);
  const redrive = JSON.parse(queue.redrive_policy) as { deadLetterTargetArn: string; maxReceiveCount: number };
  const dlq = tf.resource.aws_sqs_queue[refKey(redrive.deadLetterTargetArn)];
  const api = all("aws_ecs_task_definition")
    .map(([, td]) => JSON.parse(td.container_definitions) as Resource[])
    .flat()
    .find((c) => c.name === "app" && (c.environment as Resource[]).some((e) => e.value === urlRef && e.name !== "QUEUE_URL"));
  const publisherVariable = (api?.environment as Resource[] | undefined)?.find((e) => e.value === urlRef)?.name;
  if (!publisherVariable) throw new Error(`no API container of ${WORKER_ENVIRONMENT} publishes to the worker's queue`);
  const schedules = all("aws_scheduler_schedule");
  if (schedules.length !== 1) throw new Error(`expected one job schedule in ${WORKER_ENVIRONMENT}, found ${schedules.length}`);
  const [, schedule] = schedules[0];
  const jobTd = taskDefinitions[refKey(schedule.target.ecs_parameters.task_definition_arn)];
  return {
    worker,
    queue: {
      name: queue.name,
      visibilityTimeoutSeconds: queue.visibility_timeout_seconds ?? 30,
      receiveWaitSeconds: queue.receive_wait_time_seconds ?? 0,
      maxReceiveCount: redrive.maxReceiveCount,
      deadLetterName: dlq.name,
      urlRef,
    },
    publisherVariable,
    job: { name: schedule.name, schedule: schedule.schedule_expression, task: containerSpec(jobTd) },
    databaseAddressRef: worker.environment.DB_HOST,
  };
}

export function synthesizeWorkers(): WorkerSpec {
  const settings = examples.find((e) => e.name === WORKER_ENVIRONMENT);
  if (!settings) throw new Error(`no example environment "${WORKER_ENVIRONMENT}" (__tests__/support/variants.ts), whose worker the game day runs`);
  const outdir = mkdtempSync(join(tmpdir(), "gameday-synth-"));
  try {
    const app = new App({ outdir, stackTraces: false });
    new ApiStack(app, settings.name, settings, { offline: true, imageTag: "gameday" });
    app.synth();
    return readWorkerSpec(JSON.parse(readFileSync(join(outdir, "stacks", settings.name, "cdk.tf.json"), "utf8")));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The worker's own durations (its WorkerConfigSchema's `_MS` and `_SECONDS` variables: the message budget, the
 * retry delay, the long poll), as the task sets them or the worker defaults them, times `scale`, at least 1 of
 * their unit; time.ts scales the rest (the API's ConfigSchema, which the worker reads too).
 */
export function scaleWorkerEnvironment(env: Readonly<Record<string, string>>, scale: number): Record<string, string> {
  const out = { ...env };
  const shape = WorkerConfigSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
  for (const name of Object.keys(shape).filter((n) => /_(MS|SECONDS)$/.test(n))) {
    const given = env[name] === undefined ? (shape[name].safeParse(undefined).data as number | undefined) : Number(env[name]);
    if (given === undefined) continue;
    out[name] = String(Math.max(1, Math.round(given * scale)));
  }
  return out;
}

/**
 * An HTTP proxy in front of the emulator's SQS that can hold one DeleteMessage and never answer it, so a worker
 * can be killed after it committed a message's effect and before SQS heard it was done: the window idempotency
 * is for.
 */
class SqsGate {
  private trap?: (receipt: string) => void;
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(target: string) {
    const upstream = new URL(target);
    this.server = http.createServer((req, res) => {
      const action = String(req.headers["x-amz-target"] ?? "");
      if (this.trap && action.endsWith(".DeleteMessage")) {
        const sprung = this.trap;
        this.trap = undefined;
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => sprung(String(JSON.parse(Buffer.concat(chunks).toString("utf8")).ReceiptHandle ?? "")));
        return; // no answer, ever
      }
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  static async start(target: string): Promise<SqsGate> {
    const gate = new SqsGate(target);
    await new Promise<void>((resolve) => gate.server.listen(0, "127.0.0.1", resolve));
    return gate;
  }

  /** Resolves when the next DeleteMessage arrives (held, unanswered). */
  holdNextDelete(): Promise<string> {
    return new Promise((resolve) => (this.trap = resolve));
  }

  /** Disarms a trap no DeleteMessage sprang, so it cannot hold a later worker's. */
  disarm(): void {
    this.trap = undefined;
  }

  via(queueUrl: string): string {
    const url = new URL(queueUrl);
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}${url.pathname}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** What the worker scenarios take of the run (run.ts's Context). */
export interface WorkerHost {
  readonly emulatorUrl: string;
  readonly logDir: string;
  readonly imageConfig: ImageConfig;
  /** The API tasks' environment: the publisher variable is added to it, for the tasks started after. */
  readonly apiEnvironment: Record<string, string>;
  /** A container's environment and secrets resolved and scaled as the API's are (run.ts). */
  readonly resolve: (container: Pick<InitContainerSpec, "environment" | "secrets">) => Promise<Record<string, string>>;
  readonly port: () => number;
  readonly scale: number;
  /** Where the run keeps what it must stop at its end. */
  readonly cleanups: (() => Promise<void>)[];
  /** The worker world, once made (the first worker scenario makes it). */
  world?: WorkerWorld;
}

export interface WorkerContext {
  readonly spec: GamedaySpec;
  readonly time: Timing;
  readonly service: EcsService;
  readonly db: Postgres;
  readonly stage: (tag: string) => StagedImage;
  readonly appLogin?: { readonly secretArn: string; readonly username: string };
  readonly load: <T>(
    seconds: number,
    during: (elapsed: () => number) => Promise<T>,
    connections?: number,
    perSecond?: number,
  ) => Promise<{ load: LoadResult; outcome: T }>;
  readonly workers: WorkerHost;
}

/** The worker service, as far as the scenarios need ECS's: keep `desired` tasks running, replace one that stopped, scale. */
class WorkerService {
  desired = 0;
  readonly launched: Task[] = [];
  private readonly running = new Set<Task>();
  private monitor?: NodeJS.Timeout;
  private n = 0;

  constructor(private readonly launch: (id: string) => Task) {}

  private startOne(): Task {
    const task = this.launch(`worker-${++this.n}`);
    this.launched.push(task);
    this.running.add(task);
    void task.stopped().then(() => this.running.delete(task));
    return task;
  }

  tasks(): Task[] {
    return [...this.running].filter((t) => t.status === "RUNNING");
  }

  /** UpdateService desiredCount: start tasks up to it, or stop (SIGTERM, then SIGKILL after the stop timeout) those above it. */
  async scaleTo(count: number): Promise<void> {
    this.desired = count;
    const live = this.tasks();
    for (let i = live.length; i < count; i++) this.startOne();
    await Promise.all(live.slice(count).map((t) => t.stop("scaled in")));
    this.monitor ??= setInterval(() => {
      // ECS replaces a task that stopped by itself (killed, crashed) while the service wants it.
      for (let i = this.tasks().length + [...this.running].filter((t) => t.status === "STOPPING").length; i < this.desired; i++) this.startOne();
    }, 100);
  }

  async stop(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    this.desired = 0;
    await Promise.all([...this.running].map((t) => t.kill("game day over")));
  }
}

export interface WorkerWorld {
  readonly spec: WorkerSpec;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
  readonly gate: SqsGate;
  readonly service: WorkerService;
  /** Queue durations as run: scaled. */
  readonly visibilityMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Requests a second while the worker consumes: about a third are creates, each an event, so about 13 events a second,
 * which one worker handles with room on this machine (moto's SQS, 2 cores shared); the run's rate would outrun it.
 */
const WORKER_LOAD_RATE = 40;
/** The longest the queue may take to empty after a scenario's load: generous, as a busy machine slows the worker; a lost event never empties it. */
const DRAIN_MS = 60_000;

/**
 * The harness's record of every word count written (a trigger of its own, as the superuser): each note's effect
 * counted. In a schema of its own, which the migrate container's grants (the public schema's tables) never touch.
 */
const AUDIT_SQL = `
  CREATE SCHEMA IF NOT EXISTS gameday;
  CREATE TABLE IF NOT EXISTS gameday.word_counts (note_id uuid NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE OR REPLACE FUNCTION gameday.word_count_written() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = gameday AS $$
  BEGIN
    INSERT INTO gameday.word_counts (note_id) VALUES (NEW.id);
    RETURN NEW;
  END $$;
  DROP TRIGGER IF EXISTS gameday_word_count_written ON public.notes;
  CREATE TRIGGER gameday_word_count_written AFTER UPDATE OF word_count ON public.notes FOR EACH ROW WHEN (NEW.word_count IS NOT NULL)
    EXECUTE FUNCTION gameday.word_count_written();`;

/**
 * The worker world, made once: the queue and its dead-letter queue in the emulator as the stack declares them
 * (durations scaled), the audit of word counts, the API's tasks deployed again with the publisher variable,
 * one worker task running.
 */
async function world(ctx: WorkerContext): Promise<WorkerWorld> {
  const host = ctx.workers;
  if (host.world) return host.world;
  const spec = synthesizeWorkers();
  const sqs = new SQSClient({ region: ctx.spec.region, endpoint: host.emulatorUrl, credentials: { accessKeyId: "gameday", secretAccessKey: "gameday" } });
  const scaled = (seconds: number) => Math.max(1, Math.round(seconds * host.scale));
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: spec.queue.deadLetterName }));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: spec.queue.name,
      Attributes: {
        VisibilityTimeout: String(scaled(spec.queue.visibilityTimeoutSeconds)),
        ReceiveMessageWaitTimeSeconds: String(Math.min(20, scaled(spec.queue.receiveWaitSeconds))),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.queue.maxReceiveCount }),
      },
    }),
  );
  const gate = await SqsGate.start(host.emulatorUrl);
  host.cleanups.unshift(() => gate.stop());
  await ctx.db.sql(AUDIT_SQL, [], ctx.spec.database.name);

  // The API's tasks publish once they have the queue: deployed again (the same release) with the publisher variable.
  host.apiEnvironment[spec.publisherVariable] = queue.QueueUrl!;
  const tag = ctx.service.healthy()[0]?.id.replace(/-\d+$/, "") ?? "v1";
  if (!(await ctx.service.deploy(ctx.stage(tag)))) throw new Error(`the API's deploy with ${spec.publisherVariable} did not complete`);

  const image = ctx.stage(tag);
  const workerEnv = await containerEnvironment(ctx, spec, spec.worker, gate.via(queue.QueueUrl!));
  const service = new WorkerService(
    (id) =>
      new Task({ id, spec: spec.worker, image, imageConfig: host.imageConfig, environment: workerEnv, port: host.port(), time: ctx.time, logDir: host.logDir }),
  );
  host.cleanups.unshift(() => service.stop());
  await service.scaleTo(1);
  host.world = {
    spec,
    sqs,
    queueUrl: queue.QueueUrl!,
    deadLetterUrl: dlq.QueueUrl!,
    gate,
    service,
    visibilityMs: scaled(spec.queue.visibilityTimeoutSeconds) * 1000,
  };
  await waitForLog(service.launched[0], "worker polling", 15_000);
  return host.world;
}

/** A container of the workers' stack with its references resolved here: the queue (through the gate for the worker), the database, the app's login. */
async function containerEnvironment(ctx: WorkerContext, spec: WorkerSpec, task: TaskSpec, queueUrl?: string): Promise<Record<string, string>> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(task.environment)) {
    if (value === spec.queue.urlRef) environment[name] = queueUrl ?? "";
    else if (value === spec.databaseAddressRef) environment[name] = "127.0.0.1";
    else environment[name] = value;
  }
  // The database the game day runs (prod's), as the workers' stack names its own.
  environment.DB_NAME = ctx.spec.database.name;
  const env = scaleWorkerEnvironment(await ctx.workers.resolve({ environment, secrets: task.secrets }), ctx.workers.scale);
  // The app's role logs in with a password the harness keeps in a secret (the IAM token's stand-in), as the API's tasks do.
  if (env.DB_IAM_USER && ctx.appLogin && env.DB_IAM_USER === ctx.appLogin.username) {
    delete env.DB_IAM_USER;
    env.DB_SECRET_ARN = ctx.appLogin.secretArn;
  }
  return env;
}

interface LogLine {
  readonly msg?: string;
  readonly time?: string;
  readonly [key: string]: unknown;
}

function logLines(task: Task): LogLine[] {
  let text = "";
  try {
    text = readFileSync(task.logFile("app"), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
}

async function waitForLog(task: Task, msg: string, timeoutMs: number): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logLines(task).find((l) => l.msg === msg);
    if (found) return found;
    if (Date.now() > deadline || task.status === "STOPPED") throw new Error(`${task.id} did not log "${msg}" within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function depth(w: WorkerWorld, url = w.queueUrl): Promise<number> {
  const { Attributes: a = {} } = await w.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
  );
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
}

/** Waits until the queue holds nothing, visible or in flight. */
async function drained(w: WorkerWorld, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await depth(w)) === 0) return true;
    await sleep(250);
  }
  return false;
}

/**
 * Every event of these notes accounted for: each acknowledged create published one note.created, and published =
 * processed exactly once (its word count written once, by the harness's audit) + moved to the dead-letter queue since
 * `deadBefore` (none should be: they are good events); appended to `problems`.
 */
async function eventsAccounted(
  ctx: WorkerContext,
  w: WorkerWorld,
  deadBefore: number,
  noteIds: readonly string[],
  problems: string[],
): Promise<{ once: number; twice: string[]; dead: number; summary: string }> {
  const { rows } = await ctx.db.sql(
    `SELECT n.id, n.word_count IS NOT NULL AS counted, (SELECT count(*)::int FROM gameday.word_counts a WHERE a.note_id = n.id) AS writes
       FROM notes n WHERE n.id = ANY($1::uuid[])`,
    [noteIds],
    ctx.spec.database.name,
  );
  const missing = noteIds.length - rows.length;
  const unprocessed = rows.filter((r) => !r.counted || r.writes === 0);
  const twice = rows.filter((r) => r.writes > 1).map((r) => `${r.id} (${r.writes} times)`);
  if (missing) problems.push(`${missing} acknowledged notes are not in the database`);
  if (unprocessed.length) problems.push(`${unprocessed.length} of ${noteIds.length} published events were never processed (no word count)`);
  if (twice.length) problems.push(`${twice.length} events' effect was applied more than once: ${twice.slice(0, 3).join(", ")}`);
  const once = rows.length - unprocessed.length - twice.length;
  const dead = (await depth(w, w.deadLetterUrl)) - deadBefore;
  if (dead) problems.push(`${dead} published events ended in the dead-letter queue`);
  if (noteIds.length !== once + dead) problems.push(`${noteIds.length - once - dead} of ${noteIds.length} published events are not accounted for`);
  return { once, twice, dead, summary: `${noteIds.length} events published by the API = ${once} processed exactly once + ${dead} in the dead-letter queue` };
}

export const WORKER_SCENARIOS = [
  {
    name: "worker killed mid-message",
    proves:
      "the API publishes under load while the worker consumes; a worker SIGKILLed after committing a message's effect and before SQS heard (its DeleteMessage held): the message comes back after the visibility timeout, is acknowledged without acting again, and every event is processed exactly once",
    async run(ctx: WorkerContext) {
      const w = await world(ctx);
      const problems: string[] = [];
      const notes: string[] = [];
      let killed: Task | undefined;
      let killedAt = 0;
      const deadBefore = await depth(w, w.deadLetterUrl);
      const { load } = await ctx.load(
        w.visibilityMs / 1000 + 6,
        async () => {
          await sleep(1000);
          const held = w.gate.holdNextDelete();
          const victim = w.service.tasks()[0];
          await Promise.race([held, sleep(5000)]);
          w.gate.disarm();
          killedAt = Date.now();
          killed = victim;
          await victim.kill("killed mid-message");
        },
        undefined,
        WORKER_LOAD_RATE,
      );
      // The message in flight when it was killed: its last effect logged, whose delete never reached SQS.
      const last =
        killed &&
        [...logLines(killed)].reverse().find((l) => l.msg === "word count stored" || l.msg === "event already handled; acknowledged without acting again");
      if (!killed || !last) problems.push("no message was in flight when the worker was killed (no DeleteMessage held)");
      if (!(await drained(w, DRAIN_MS))) problems.push(`the queue did not drain within ${DRAIN_MS} ms of the load's end`);
      if (last) {
        const again = w.service.launched
          .filter((t) => t !== killed)
          .flatMap((t) => logLines(t).map((l) => ({ task: t, line: l })))
          .filter(({ line }) => line.messageId === last.messageId);
        const redelivery = again.find(({ line }) => typeof line.receiveCount === "number" && line.receiveCount >= 2);
        if (!redelivery) problems.push(`message ${String(last.messageId)} never came back after the kill`);
        else {
          const after = Date.parse(redelivery.line.time!) - killedAt;
          // It comes back at the visibility timeout after its receive, which was before the kill.
          if (after > w.visibilityMs + 2000)
            problems.push(`message ${String(last.messageId)} came back ${after} ms after the kill, past the visibility timeout (${w.visibilityMs} ms)`);
          notes.push(
            `${killed!.id} killed after committing note ${String(last.noteId)}'s count (its DeleteMessage held); the message came back ${after} ms later (visibility ${w.visibilityMs} ms) to ${
              redelivery.task.id
            }, receive ${String(redelivery.line.receiveCount)}: ${again.map(({ line }) => line.msg).join("; ")}`,
          );
        }
      }
      if (killed && killed.exitCode !== 137) problems.push(`the killed worker exited ${killed.exitCode}, not 137`);
      const { twice, summary } = await eventsAccounted(ctx, w, deadBefore, load.acknowledged, problems);
      notes.push(`${summary}; ${twice.length} applied more than once`);
      return { load, problems, notes };
    },
  },
  {
    name: "poison message",
    proves:
      "a message no worker can handle is received exactly maxReceiveCount times (the redrive policy's), each failure retried after the worker's growing delay, then ends in the dead-letter queue; the worker keeps going",
    async run(ctx: WorkerContext) {
      const w = await world(ctx);
      const problems: string[] = [];
      const max = w.spec.queue.maxReceiveCount;
      // Alone in the queue, so its receives are its retry delays apart and nothing else's.
      if (!(await drained(w, DRAIN_MS))) problems.push(`the queue did not drain within ${DRAIN_MS} ms before the poison message`);
      const body = `not an event ${randomUUID()}`;
      const sent = await w.sqs.send(new SendMessageCommand({ QueueUrl: w.queueUrl, MessageBody: body }));
      const env = scaleWorkerEnvironment({}, ctx.workers.scale);
      const base = Number(env.RETRY_DELAY_SECONDS);
      // Its receives, each failure's retry delay apart, and the receive after the last that moves it.
      const boundMs = (Array.from({ length: max }, (_, i) => retryDelay(base, i + 1)).reduce((a, b) => a + b, 0) + 20) * 1000;
      const started = Date.now();
      let dead: Message | undefined;
      while (!dead && Date.now() - started < boundMs) {
        const { Messages = [] } = await w.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: w.deadLetterUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
        );
        dead = Messages.find((m) => m.MessageId === sent.MessageId);
      }
      const failures = w.service.launched.flatMap(logLines).filter((l) => l.messageId === sent.MessageId && String(l.msg).startsWith("message failed"));
      if (!dead) problems.push(`the poison message was not in the dead-letter queue within ${boundMs} ms`);
      // The harness's own receive from the dead-letter queue counts too: it reads maxReceiveCount + 1.
      else if (Number(dead.Attributes?.ApproximateReceiveCount) !== max + 1)
        problems.push(
          `the poison message reached the dead-letter queue after ${Number(dead.Attributes?.ApproximateReceiveCount) - 1} receives, not maxReceiveCount (${max})`,
        );
      const counts = failures.map((l) => Number(l.receiveCount));
      if (counts.join() !== Array.from({ length: max }, (_, i) => i + 1).join())
        problems.push(`the worker failed the poison message at receives ${counts.join(", ") || "none"}, not 1 to ${max}`);
      if (!w.service.tasks().length) problems.push("no worker is running after the poison message");
      return {
        problems,
        notes: [
          `received ${failures.length} times (receive counts ${failures.map((l) => l.receiveCount).join(", ")}), in the dead-letter queue after ${Date.now() - started} ms (maxReceiveCount ${max}; read there as receive ${dead?.Attributes?.ApproximateReceiveCount})`,
        ],
      };
    },
  },
  {
    name: "worker scaled to zero and back",
    proves:
      "the worker scaled to 0 (each task finishes its message and exits 0) while the API keeps publishing, then back to 1: the backlog waits in the queue and every event is processed exactly once",
    async run(ctx: WorkerContext) {
      const w = await world(ctx);
      const problems: string[] = [];
      let backlog = 0;
      const before = [...w.service.tasks()];
      const deadBefore = await depth(w, w.deadLetterUrl);
      const { load } = await ctx.load(
        8,
        async () => {
          await sleep(1000);
          await w.service.scaleTo(0);
          await sleep(3000);
          backlog = await depth(w);
          await w.service.scaleTo(1);
        },
        undefined,
        WORKER_LOAD_RATE,
      );
      if (!(await drained(w, DRAIN_MS))) problems.push(`the queue did not drain within ${DRAIN_MS} ms of scaling back`);
      const unclean = before.filter((t) => t.exitCode !== 0);
      if (unclean.length) problems.push(`${unclean.length} workers did not exit 0 when scaled in (${unclean.map((t) => t.exitCode).join(", ")})`);
      if (!backlog) problems.push("no event waited in the queue while no worker ran: the scenario proved nothing");
      const { summary } = await eventsAccounted(ctx, w, deadBefore, load.acknowledged, problems);
      return {
        load,
        problems,
        notes: [`${before.length} workers scaled in (exit ${before.map((t) => t.exitCode).join(", ")}); ${backlog} events waited at zero; ${summary}`],
      };
    },
  },
  {
    name: "scheduled job",
    proves: "the schedule's target task definition run once, as EventBridge Scheduler would start it: it counts the notes whose event was lost and exits 0",
    async run(ctx: WorkerContext) {
      const w = await world(ctx);
      const problems: string[] = [];
      const { name, schedule, task } = w.spec.job;
      // Notes whose event was lost, changed long enough ago for the job to take them (its settle time).
      // body_chars where a release added it (migrations.ts): after v3's contract it is required.
      const chars = await ctx.db.sql(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'notes'::regclass AND attname = 'body_chars' AND NOT attisdropped",
        [],
        ctx.spec.database.name,
      );
      const [column, value] = chars.rowCount ? [", body_chars", ", 13"] : ["", ""];
      const { rows } = await ctx.db.sql(
        `INSERT INTO notes (title, body, created_at, updated_at${column})
           SELECT 'lost ' || g, 'one two three', now() - interval '1 hour', now() - interval '1 hour'${value} FROM generate_series(1, 5) g RETURNING id`,
        [],
        ctx.spec.database.name,
      );
      const lost = rows.map((r) => r.id as string);
      const env = await containerEnvironment(ctx, w.spec, task);
      const image = ctx.stage(ctx.service.healthy()[0]?.id.replace(/-\d+$/, "") ?? "v1");
      const run = new Task({
        id: "job-1",
        spec: task,
        image,
        imageConfig: ctx.workers.imageConfig,
        environment: env,
        port: ctx.workers.port(),
        time: ctx.time,
        logDir: ctx.workers.logDir,
      });
      const bound = ctx.time.ms(task.stopTimeoutSeconds) + 20_000;
      const ended = await Promise.race([run.stopped().then(() => true), sleep(bound).then(() => false)]);
      if (!ended) {
        problems.push(`the job did not end within ${bound} ms`);
        await run.kill("over time");
      }
      if (run.exitCode !== 0) problems.push(`the job exited ${run.exitCode}, not 0`);
      const done = logLines(run).find((l) => l.msg === "housekeeping done");
      if (!done) problems.push('the job never logged "housekeeping done"');
      const counted = await ctx.db.sql(
        "SELECT count(*)::int AS n FROM notes WHERE id = ANY($1::uuid[]) AND word_count = 3 AND (SELECT count(*) FROM gameday.word_counts a WHERE a.note_id = notes.id) = 1",
        [lost],
        ctx.spec.database.name,
      );
      if (counted.rows[0].n !== lost.length) problems.push(`the job counted ${counted.rows[0].n} of the ${lost.length} notes whose event was lost, once each`);
      return {
        problems,
        notes: [
          `${name} (${schedule}) ran ${task.command?.join(" ")}: exit ${run.exitCode}, counted ${String(done?.counted)} notes, ${counted.rows[0].n} of the ${lost.length} lost ones`,
        ],
      };
    },
  },
];
