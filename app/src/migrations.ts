import { readdirSync } from "node:fs";
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
 * schema is as before. Returns the names applied. A login that does not own the database (the app's
 * role) only checks that nothing is pending (checkApplied).
 */
export async function migrate(
  config: Config,
  logger: Logger,
  credentials: CredentialSource = credentialSource(config),
  /** The app's role to create and grant after migrating (DB_IAM_USER), as the owner; none for a local database. */
  appRole?: string,
): Promise<string[]> {
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
    const { rows } = await client.query<{ owner: boolean }>(
      "SELECT pg_has_role(current_user, datdba, 'MEMBER') AS owner FROM pg_database WHERE datname = current_database()",
    );
    if (!rows[0]?.owner) {
      await checkApplied(client, logger);
      return [];
    }
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
    if (appRole) {
      await grantAppRole(client, appRole, config.DB_NAME);
      logger.info({ role: appRole }, "app role granted the app's tables");
    }
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

/** The app role holds only these on the app's tables: no DDL, no TRUNCATE, REFERENCES or TRIGGER. */
export const APP_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE";
/** A transaction lock of its own, so tasks granting at once do not race on the same catalog rows. */
const GRANT_LOCK = 7241865325823965;

/**
 * The app's role, made by the owner and idempotent, run after every migration so new tables are
 * granted too: LOGIN and nothing else (no superuser, CREATEROLE, CREATEDB, BYPASSRLS), `rds_iam` where
 * it exists (RDS: logins by IAM token only; "Creating a database account using IAM authentication",
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html), read
 * and write on the schema's tables and sequences (and those the owner creates later, ALTER DEFAULT
 * PRIVILEGES), only SELECT on node-pg-migrate's table, CONNECT to the app's database only: PUBLIC loses
 * CONNECT and TEMPORARY on it and on every other database the owner owns (RDS's `postgres`, when the
 * master owns it), and CREATE on the schema.
 */
export async function grantAppRole(client: pg.ClientBase, role: string, database: string): Promise<void> {
  const r = pg.escapeIdentifier(role);
  await client.query("BEGIN");
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${GRANT_LOCK})`);
    const { rows } = await client.query<{ owner: boolean; rolsuper: boolean; rolbypassrls: boolean; rolcanlogin: boolean; more: boolean }>(
      "SELECT rolname = current_user AS owner, rolsuper, rolbypassrls, rolcanlogin, rolcreaterole OR rolcreatedb AS more FROM pg_roles WHERE rolname = $1",
      [role],
    );
    const found = rows[0];
    if (found?.owner || found?.rolsuper || found?.rolbypassrls)
      throw new Error(`the app role "${role}" is the owner, a superuser or bypasses row security: give the app a role of its own (DB_IAM_USER)`);
    if (!found) await client.query(`CREATE ROLE ${r} LOGIN`);
    else if (!found.rolcanlogin || found.more) await client.query(`ALTER ROLE ${r} LOGIN NOCREATEDB NOCREATEROLE`);
    const iam = await client.query("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'");
    if (iam.rowCount) await client.query(`GRANT rds_iam TO ${r}`);
    const db = pg.escapeIdentifier(database);
    await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${r}`);
    await client.query(`
      DO $$
      DECLARE other name;
      BEGIN
        FOR other IN SELECT datname FROM pg_database
          WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND NOT datistemplate AND datname <> current_database()
        LOOP
          BEGIN
            EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', other);
          EXCEPTION WHEN OTHERS THEN
            -- A database dropped or changed meanwhile; the next migration revokes again.
            RAISE NOTICE 'not revoked on %: %', other, SQLERRM;
          END;
        END LOOP;
      END $$`);
    await client.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
    await client.query(`GRANT ${APP_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO ${r}`);
    await client.query(`REVOKE ALL ON TABLE public.pgmigrations FROM ${r}`);
    await client.query(`GRANT SELECT ON TABLE public.pgmigrations TO ${r}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ${APP_TABLE_PRIVILEGES} ON TABLES TO ${r}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${r}`);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export class MigrationsPending extends Error {
  override readonly name = "MigrationsPending";
}

/**
 * A login that does not own the database (the app's role) cannot migrate: it checks that every
 * migration of the image was applied, by the migrate container that ran as the owner before it, and
 * fails naming the pending ones, so a task never serves on an older schema than its code.
 */
async function checkApplied(client: pg.ClientBase, logger: Logger): Promise<void> {
  const applied = await client.query<{ name: string }>("SELECT name FROM pgmigrations").then(
    (r) => new Set(r.rows.map((row) => row.name)),
    (error: { code?: string }) => {
      if (error.code === "42P01") return new Set<string>();
      throw error;
    },
  );
  const pending = migrationNames().filter((name) => !applied.has(name));
  if (pending.length)
    throw new MigrationsPending(
      `${pending.length} migrations are not applied (${pending.join(", ")}), and this login does not own the database: they run as the owner, ` +
        "in the API task's migrate container (node dist/migrate.mjs with the owner's login), before the app's",
    );
  logger.info("schema up to date (migrated by the owner)");
}

/** The migrations of this image, by node-pg-migrate's name: the file name without its extension. */
export function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /\.(sql|js|cjs|mjs|ts)$/.test(f))
    .map((f) => f.replace(/\.[^.]+$/, ""))
    .sort();
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
