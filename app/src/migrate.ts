import { ConfigError, readConfig } from "./config";
import { createLogger } from "./logger";
import { migrate } from "./migrations";

/** One-off migration (`node dist/migrate.mjs`), for MIGRATIONS=off: run it as an ECS task before the deploy. */
try {
  const config = readConfig();
  await migrate(config, createLogger(config));
} catch (error) {
  process.stderr.write(
    `notes-api migrate: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
