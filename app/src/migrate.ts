import { ConfigError, readConfig } from "./config";
import { credentialSource, ownerSource } from "./database";
import { createLogger } from "./logger";
import { migrate, MigrationsPending, MigrationTimeout } from "./migrations";

/**
 * Migrations as the owner (`node dist/migrate.mjs`): the API task's migrate container, before the app
 * container starts, with the owner's login in DB_USERNAME and DB_PASSWORD (the master secret, resolved
 * by ECS for this container only). It applies the pending migrations, then creates and grants the app's
 * role (DB_IAM_USER). Run with the app's login alone (the app container of a one-off task), it only
 * checks that the migrate container left nothing pending (a login that does not own the database).
 */
try {
  const config = readConfig();
  const logger = createLogger(config);
  const owner = ownerSource(config);
  await migrate(config, logger, owner ?? credentialSource(config), owner && config.DB_IAM_USER);
} catch (error) {
  const known = error instanceof ConfigError || error instanceof MigrationTimeout || error instanceof MigrationsPending;
  process.stderr.write(`notes-api migrate: ${known ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
