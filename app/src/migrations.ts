import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import pg from "pg";
import type { Logger } from "pino";
import type { Config } from "./config";
import type { CredentialSource } from "./credentials";
import { connectionConfig, credentialSource, isAuthenticationFailure } from "./database";

/** Next to the bundle in the image (/app/migrations) and in the source tree (app/migrations). */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

export class MigrationTimeout extends Error {
  override readonly name = "MigrationTimeout";
}

/**
 * Applies pending migrations within MIGRATION_TIMEOUT_MS. Tasks that start together queue on
 * node-pg-migrate's advisory lock (`wait` mode) instead of failing, and the pending ones run in one
 * transaction, so a task stopped halfway leaves the schema as it was.
 *
 * The budget is split: half for the lock (another task's migration) and every statement's lock wait,
 * half for any one statement, and the whole for all of it. Past it the connection is closed, which
 * rolls the transaction back, and the task fails to start: inside the service's health check grace
 * period, so the deployment circuit breaker sees a failed task rather than one that hangs, and the
 * schema is as before. Returns the names applied.
 */
export async function migrate(config: Config, logger: Logger, credentials: CredentialSource = credentialSource(config)): Promise<string[]> {
  const budget = config.MIGRATION_TIMEOUT_MS;
  const half = Math.floor(budget / 2);
  const client = await connect(config, credentials);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    // Ends the session: PostgreSQL rolls the migration's transaction back and releases the lock.
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }, budget);
  try {
    await client.query(`SET lock_timeout = ${half}`);
    await client.query(`SET statement_timeout = ${half}`);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "pgmigrations",
      advisoryLockMode: "wait",
      singleTransaction: true,
      checkOrder: true,
      logger: {
        debug: () => undefined,
        info: (msg: string) => logger.debug(msg),
        warn: (msg: string) => logger.warn(msg),
        error: (msg: string) => logger.error(msg),
      },
    });
    logger.info({ applied: applied.map((m) => m.name) }, applied.length ? "migrations applied" : "schema up to date");
    return applied.map((m) => m.name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (timedOut || code === "55P03" || code === "57014")
      throw new MigrationTimeout(
        `migrations did not finish within MIGRATION_TIMEOUT_MS (${budget} ms: ${half} ms for a lock, ${half} ms for a statement); nothing was applied. ` +
          "Run a long migration as a one-off task before the deploy (MIGRATIONS=off, node dist/migrate.mjs), split as expand/contract steps.",
        { cause: error },
      );
    throw error;
  } finally {
    clearTimeout(deadline);
    await client.end().catch(() => undefined);
  }
}

/** One connection for migrating, reading the secret again once if the password was refused. */
async function connect(config: Config, credentials: CredentialSource): Promise<pg.Client> {
  for (let attempt = 0; ; attempt++) {
    const { username } = await credentials.current();
    const client = new pg.Client({ ...connectionConfig(config, credentials, username), statement_timeout: undefined, query_timeout: undefined });
    try {
      await client.connect();
      return client;
    } catch (error) {
      if (attempt > 0 || !isAuthenticationFailure(error)) throw error;
      await credentials.refresh();
    }
  }
}
