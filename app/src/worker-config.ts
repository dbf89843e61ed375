import { z } from "zod";
import { type Config, ConfigError, QUEUE_URL, readConfig } from "./config";

/**
 * The worker's environment: the API's (the database, SHUTDOWN_TIMEOUT_MS, LOG_LEVEL) and its queue. The
 * stack sets QUEUE_URL and MESSAGE_TIMEOUT_MS from `services.<key>.queue`.
 */
export const WorkerConfigSchema = z.object({
  /** The queue this worker consumes. Required. */
  QUEUE_URL: z.string({ error: "not set" }).regex(QUEUE_URL, "not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"),
  /** The most one message may take before it is abandoned and retried; the stack sets it from `queue.processingSeconds`. @default 30000 */
  MESSAGE_TIMEOUT_MS: z.coerce
    .number({ error: "not a number" })
    .int("not a whole number")
    .min(100, "below 100")
    .max(43_200_000, "above 43200000")
    .default(30_000),
  /** A failed message comes back after this many seconds, doubled at each further receive (at most 900). @default 5 */
  RETRY_DELAY_SECONDS: z.coerce.number({ error: "not a number" }).int("not a whole number").min(0, "below 0").max(900, "above 900").default(5),
  /** Long polling: seconds one receive waits for a message. @default 20 */
  QUEUE_WAIT_SECONDS: z.coerce.number({ error: "not a number" }).int("not a whole number").min(1, "below 1").max(20, "above 20").default(20),
});
export type WorkerConfig = Config & z.infer<typeof WorkerConfigSchema>;

/** Both parts checked, every bad variable named in one error, as readConfig does. */
export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const problems: string[] = [];
  let base: Config | undefined;
  try {
    base = readConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(error.message.replace(/^invalid environment: /, ""));
  }
  const input = Object.fromEntries(Object.keys(WorkerConfigSchema.shape).map((key) => [key, env[key] === "" ? undefined : env[key]]));
  const worker = WorkerConfigSchema.safeParse(input);
  if (!worker.success)
    problems.push(
      ...worker.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        return `${name}${input[name] === undefined ? "" : ` = ${JSON.stringify(input[name])}`}: ${issue.message}`;
      }),
    );
  if (problems.length || !base || !worker.success) throw new ConfigError(`invalid environment: ${problems.join("; ")}`);
  return { ...base, ...worker.data };
}
