import closeWithGrace from "close-with-grace";
import { buildApp } from "./app";
import { ConfigError, readConfig } from "./config";
import { createPool } from "./database";
import { createLogger } from "./logger";
import { migrate } from "./migrations";

/**
 * The container's entry point: read the environment, migrate (under a lock), listen, and on SIGTERM
 * drain within SHUTDOWN_TIMEOUT_MS. ECS sends SIGTERM only after the load balancer has drained the
 * task (deregistration delay), so in-flight requests are the last ones.
 */
async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  if (config.MIGRATIONS === "on-start") await migrate(config, logger);
  const pool = createPool(config);
  const app = buildApp({ pool, logger });

  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, "shutting down after an uncaught error");
    else logger.info({ signal }, "shutting down: no new connections, finishing requests in flight");
    await app.close();
    await pool.end();
    logger.info("stopped");
  });

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  // A bad environment is the operator's to fix: one line naming the variable, no stack trace.
  if (error instanceof ConfigError) process.stderr.write(`notes-api: ${error.message}\n`);
  else process.stderr.write(`notes-api: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
