import closeWithGrace from "close-with-grace";
import pg from "pg";
import { buildApp } from "./app";
import { ConfigError, readConfig } from "./config";
import { credentialSource, createPool } from "./database";
import { Drain } from "./drain";
import { noEvents, sqsPublisher } from "./events";
import { createLogger } from "./logger";
import { startTelemetry } from "./telemetry";
import { MigrationsPending, MigrationTimeout, migrate } from "./migrations";

/**
 * The container's entry point: read the environment, migrate (under a lock, within its budget),
 * listen, and on SIGTERM drain (drain.ts) and then finish the requests in flight within
 * SHUTDOWN_TIMEOUT_MS. The stack holds DRAIN_TIMEOUT_MS + SHUTDOWN_TIMEOUT_MS within the task's stop
 * timeout, so ECS never kills a task that is still answering.
 */
async function main(): Promise<void> {
  const config = readConfig();
  // First: with tracing on, the pool and the clients made below are instrumented.
  const telemetry = await startTelemetry(config, "notes-api", { pg });
  const logger = createLogger(config);
  const credentials = credentialSource(config);
  // The app's own role (DB_IAM_USER) does not own the database: it checks that the migrate container,
  // run as the owner before this one, left nothing pending.
  if (config.MIGRATIONS === "on-start") await migrate(config, logger, credentials);
  const pool = await createPool(config, credentials);
  const drain = new Drain(config.DRAIN_TIMEOUT_MS, config.DRAIN_QUIET_MS);
  // Without a queue (WORKER_QUEUE_URL unset, e.g. locally) the API publishes nothing and works the same.
  const events = config.WORKER_QUEUE_URL ? sqsPublisher(config.WORKER_QUEUE_URL, logger) : noEvents;
  const app = buildApp({ pool, logger, drain, keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS, events, retryAfterSeconds: config.RETRY_AFTER_SECONDS });

  closeWithGrace({ delay: config.DRAIN_TIMEOUT_MS + config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, "shutting down after an uncaught error");
    else if (signal === "SIGTERM" && config.DRAIN_TIMEOUT_MS > 0) {
      logger.info({ signal, drainTimeoutMs: config.DRAIN_TIMEOUT_MS }, "stopping: failing the health check, still serving until the load balancer lets go");
      const { waitedMs, reason } = await drain.begin();
      logger.info({ waitedMs, reason }, "drained");
    }
    logger.info({ signal }, "shutting down: no new connections, finishing requests in flight");
    await app.close();
    await pool.end();
    await telemetry.shutdown().catch(() => undefined);
    logger.info("stopped");
  });

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  // A bad environment is the operator's to fix: one line naming the variable, no stack trace.
  if (error instanceof ConfigError || error instanceof MigrationTimeout || error instanceof MigrationsPending)
    process.stderr.write(`notes-api: ${error.message}\n`);
  else process.stderr.write(`notes-api: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
