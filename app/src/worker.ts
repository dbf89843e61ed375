import pg from "pg";
import { ConfigError } from "./config";
import { Consumer } from "./consumer";
import { credentialSource, createPool } from "./database";
import { sqsClient } from "./events";
import { createLogger } from "./logger";
import { startTelemetry } from "./telemetry";
import { wordCountHandler } from "./word-count";
import { readWorkerConfig } from "./worker-config";

/**
 * The worker's entry point (`node dist/worker.mjs`, the same image as the API): long-polls QUEUE_URL
 * and counts the words of each note an event names (word-count.ts), one message at a time.
 *
 * On SIGTERM (a deploy, a scale-in to zero, a Spot interruption) it stops polling, lets the message in
 * flight finish within SHUTDOWN_TIMEOUT_MS, or else aborts it (its transaction rolls back) and returns
 * it to the queue at once for another task; then closes the pool and exits 0. The stack checks that
 * SHUTDOWN_TIMEOUT_MS and 2 s to exit fit in the task's stop timeout, and the queue's visibility
 * timeout in turn covers both the stop timeout and MESSAGE_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  const config = readWorkerConfig();
  const telemetry = await startTelemetry(config, "notes-worker", { pg });
  const logger = createLogger(config).child({ role: "worker" });
  const credentials = credentialSource(config);
  const pool = await createPool(config, credentials);
  const client = sqsClient(config.QUEUE_URL);
  const consumer = new Consumer({
    client,
    queueUrl: config.QUEUE_URL,
    handler: wordCountHandler(pool, credentials),
    logger,
    waitSeconds: config.QUEUE_WAIT_SECONDS,
    messageTimeoutMs: config.MESSAGE_TIMEOUT_MS,
    retryDelaySeconds: config.RETRY_DELAY_SECONDS,
  });

  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      logger.info({ signal, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "stopping: no new messages, finishing the one in flight");
      const { finished, returned } = await consumer.stop(config.SHUTDOWN_TIMEOUT_MS);
      await pool.end().catch(() => undefined);
      await telemetry.shutdown().catch(() => undefined);
      logger.info({ finished, returned }, returned ? "stopped; the message in flight was returned to the queue" : "stopped");
      process.exit(0);
    })();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  logger.info({ queueUrl: config.QUEUE_URL }, "worker polling");
  await consumer.start();
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`notes-worker: ${error.message}\n`);
  else process.stderr.write(`notes-worker: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
