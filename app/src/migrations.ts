import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import pg from "pg";
import type { Logger } from "pino";
import type { Config } from "./config";
import { connectionConfig } from "./database";

/** Next to the bundle in the image (/app/migrations) and in the source tree (app/migrations). */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Applies pending migrations. Tasks that start together queue on node-pg-migrate's advisory lock
 * (`wait` mode) instead of failing, and the pending ones run in one transaction, so a task killed
 * halfway leaves the schema as it was. Returns the names applied.
 */
export async function migrate(config: Config, logger: Logger): Promise<string[]> {
  const client = new pg.Client({ ...connectionConfig(config), statement_timeout: 0, query_timeout: undefined });
  await client.connect();
  try {
    // A task that waits longer than this is better restarted by ECS than left hanging at start.
    await client.query("SET lock_timeout = '60s'");
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
  } finally {
    await client.end();
  }
}
