/**
 * The rules across sections for queue-fed workers (`services.<key>.queue`) and scheduled jobs
 * (`jobs.<key>`), run by lib/settings/environment/schema.ts once every section has passed its own rules: who may own a
 * queue, who may publish to it, the visibility timeout against the worker's stop, and the job keys
 * beside the service keys. Each failure names the setting, its value and what is allowed.
 */
import type { JobConfig } from "../../workers/job";
import { CONSUMER_VARIABLES, DEFAULT_API_PUBLISHER, publisherVariable, type QueueConfig } from "../../workers/queue";
import { fail } from "../rules";
import { EXIT_MARGIN_SECONDS, shutdownTimeoutMs } from "../../compute/stop-timings";
import type { TaskConfig } from "../../compute/task-definition";

type Ctx = Parameters<typeof fail>[0];

/** What these rules read of the parsed settings. */
export interface WorkerSettings {
  readonly name: string;
  readonly task: TaskConfig | { readonly environment?: Readonly<Record<string, string>>; readonly secrets: Readonly<Record<string, string>> };
  readonly services: Readonly<
    Record<
      string,
      {
        readonly route?: unknown;
        readonly queue?: QueueConfig;
        readonly task: {
          readonly stopTimeoutSeconds: number;
          readonly environment?: Readonly<Record<string, string>>;
          readonly secrets: Readonly<Record<string, string>>;
        };
      }
    >
  >;
  readonly jobs: Readonly<Record<string, JobConfig>>;
}

/** The keys of the queues each service (or job, by key; the default API as "") publishes to. */
export function publishersOf(s: Pick<WorkerSettings, "services">): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [owner, entry] of Object.entries(s.services).sort(([a], [b]) => a.localeCompare(b)))
    for (const publisher of entry.queue?.publishers ?? []) {
      const key = publisher === DEFAULT_API_PUBLISHER && !(publisher in s.services) ? "" : publisher;
      map.set(key, [...(map.get(key) ?? []), owner]);
    }
  return map;
}

export function checkWorkers(ctx: Ctx, s: WorkerSettings): void {
  const serviceKeys = Object.keys(s.services);
  const jobKeys = Object.keys(s.jobs);
  for (const key of jobKeys)
    if (serviceKeys.includes(key))
      fail(ctx, ["jobs", key], key, `services.${key} has this key too, and both would own the names "<project>-<name>-${key}"`, "a key no service has");

  for (const [key, entry] of Object.entries(s.services)) {
    const queue = entry.queue;
    if (!queue) continue;
    const at = (...rest: (string | number)[]) => ["services", key, "queue", ...rest];
    if (entry.route !== undefined)
      fail(
        ctx,
        at(),
        queue,
        `services.${key} has a route: a queue is consumed by a worker, which the load balancer does not reach`,
        `no route for services.${key}, or a worker service of its own for the queue`,
      );
    const stop = entry.task.stopTimeoutSeconds;
    if (queue.visibilityTimeoutSeconds < stop)
      fail(
        ctx,
        at("visibilityTimeoutSeconds"),
        queue.visibilityTimeoutSeconds,
        `shorter than the worker's stop timeout (services.${key}.task.stopTimeoutSeconds ${stop} s): a message a stopping task is still finishing would reach another task`,
        `${Math.max(stop, queue.processingSeconds + 5)} or more, or a shorter services.${key}.task.stopTimeoutSeconds`,
      );
    const shutdownMs = shutdownTimeoutMs(entry.task.environment);
    if (shutdownMs === undefined || shutdownMs / 1000 + EXIT_MARGIN_SECONDS > stop)
      fail(
        ctx,
        ["services", key, "task", "environment", "SHUTDOWN_TIMEOUT_MS"],
        entry.task.environment?.SHUTDOWN_TIMEOUT_MS,
        `the worker finishes or returns its message within SHUTDOWN_TIMEOUT_MS after SIGTERM, and with ${EXIT_MARGIN_SECONDS} s to exit that must fit in services.${key}.task.stopTimeoutSeconds (${stop} s)`,
        `a whole number of milliseconds up to ${(stop - EXIT_MARGIN_SECONDS) * 1000}`,
      );
    queue.publishers.forEach((publisher, i) => {
      const known = publisher === DEFAULT_API_PUBLISHER || serviceKeys.includes(publisher) || jobKeys.includes(publisher);
      if (!known)
        fail(
          ctx,
          at("publishers", i),
          publisher,
          "no service or job has this key",
          `"${DEFAULT_API_PUBLISHER}" (the default API), a key of services (${serviceKeys.join(", ") || "none"}) or of jobs (${jobKeys.join(", ") || "none"})`,
        );
      if (publisher === DEFAULT_API_PUBLISHER && serviceKeys.includes(publisher))
        fail(
          ctx,
          at("publishers", i),
          publisher,
          `"${DEFAULT_API_PUBLISHER}" names the default API, and services.${DEFAULT_API_PUBLISHER} exists too`,
          `another key for services.${DEFAULT_API_PUBLISHER}`,
        );
      if (queue.publishers.indexOf(publisher) !== i) fail(ctx, at("publishers", i), publisher, "listed twice", "each publisher once");
    });
  }

  // The variables the stack sets for queues: the consumer's, and each publisher's queue URL.
  const reserved = (owner: "" | string, consumer: boolean) => [
    ...(consumer ? CONSUMER_VARIABLES : []),
    ...(publishersOf(s).get(owner) ?? []).map(publisherVariable),
  ];
  const tasks: [path: string[], owner: string, consumer: boolean, task: WorkerSettings["task"]][] = [
    [[], "", false, s.task],
    ...Object.entries(s.services).map(([key, e]): [string[], string, boolean, WorkerSettings["task"]] => [["services", key], key, Boolean(e.queue), e.task]),
    ...Object.entries(s.jobs).map(([key, j]): [string[], string, boolean, WorkerSettings["task"]] => [["jobs", key], key, false, j.task]),
  ];
  for (const [path, owner, consumer, task] of tasks) {
    const taken = reserved(owner, consumer);
    for (const [field, values] of [
      ["environment", task.environment ?? {}],
      ["secrets", task.secrets],
    ] as const) {
      const name = Object.keys(values).find((v) => taken.includes(v));
      if (name !== undefined) fail(ctx, [...path, "task", field, name], values[name], "the stack sets this variable itself (a queue's)", "another name");
    }
  }
}
