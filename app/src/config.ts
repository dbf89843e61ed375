import { isIP } from "node:net";
import { z } from "zod";

/**
 * Everything the API reads from its environment, read and checked once at start. The task definition
 * sets these (DB_SECRET_ARN names the RDS-managed secret, read at connect time); `npm run api:local`
 * sets DB_USERNAME and DB_PASSWORD for a local database instead.
 */
const LOOPBACK_NAMES = new Set(["localhost", "localhost.localdomain"]);

const port = (fallback?: number) => {
  const base = z.coerce.number({ error: "not a number" }).int("not a whole number").min(1, "below 1").max(65535, "above 65535");
  return fallback === undefined ? base : base.default(fallback);
};
const required = z.string({ error: "not set" }).min(1, "empty");
const millis = (min: number, max: number, fallback: number) =>
  z.coerce.number({ error: "not a number" }).int("not a whole number").min(min, `below ${min}`).max(max, `above ${max}`).default(fallback);
/** An SQS queue URL, `https://sqs.<region>.amazonaws.com/<account>/<name>` (or an emulator's: any host). */
export const QUEUE_URL = /^https?:\/\/[^/\s]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const ROLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+$/;

export const ConfigSchema = z
  .object({
    /** Port the API listens on; the task definition sets it to `task.containerPort`. @default 8080 */
    PORT: port(8080),
    /** Address to listen on; every interface, as the task's network interface needs. @default "0.0.0.0" */
    HOST: z.string().min(1, "empty").default("0.0.0.0"),
    /** Environment name, in every log line. Required. */
    APP_ENV: required.regex(/^[a-z][a-z0-9-]{0,31}$/, "not lowercase letters, digits and -, starting with a letter (at most 32)"),
    /** Database host: the RDS endpoint. Required. */
    DB_HOST: required,
    /** @default 5432 */
    DB_PORT: port(5432),
    /** Required. */
    DB_NAME: required,
    /**
     * ARN of the Secrets Manager secret holding `{"username", "password"}` (the RDS-managed master secret), read with the task role when a
     * connection is made and read again once when PostgreSQL refuses the password (a rotation). The stack sets it. @default none: DB_USERNAME and
     * DB_PASSWORD
     */
    DB_SECRET_ARN: z.optional(required.regex(SECRET_ARN, "not a Secrets Manager secret ARN")),
    /**
     * The app's own PostgreSQL role, logged in with IAM database authentication: a token signed with the task role for `rds-db:connect`, over TLS.
     * The stack sets it on the API, workers and jobs; the migrate container (as the owner) creates it and grants it the app's tables, nothing else.
     * @default none: DB_SECRET_ARN, or DB_USERNAME and DB_PASSWORD
     */
    DB_IAM_USER: z.optional(required.regex(ROLE_NAME, "not a lowercase PostgreSQL role name (letters, digits, _; 1-63, starting with a letter)")),
    /** A fixed login (a local database); for `node dist/migrate.mjs`, the owner's, which the stack gives only the migrate container. @default none */
    DB_USERNAME: z.optional(required),
    /** The password of DB_USERNAME. @default none */
    DB_PASSWORD: z.optional(required),
    /**
     * `verify-full`: TLS, the server's certificate checked against the RDS CA bundle in the image and its
     * name against DB_HOST. `disable`: no TLS, allowed only for a database on this machine (loopback).
     * @default "verify-full"
     */
    DB_SSL_MODE: z.enum(["verify-full", "disable"], { error: 'not "verify-full" or "disable"' }).default("verify-full"),
    /** Connections per task; tasks × this must stay under the database's max_connections. @default 10 */
    DB_POOL_MAX: z.coerce.number({ error: "not a number" }).int("not a whole number").min(1, "below 1").max(100, "above 100").default(10),
    /** A new database connection not made by then fails the request (503). @default 3000 */
    DB_CONNECT_TIMEOUT_MS: millis(100, 60000, 3000),
    /** PostgreSQL cancels a statement running longer (57014: 503). Below DB_QUERY_TIMEOUT_MS. @default 10000 */
    DB_STATEMENT_TIMEOUT_MS: millis(100, 600000, 10000),
    /** A query with no answer by then fails on the client, for a connection that stopped answering (no FIN, no RST): 503. @default 11000 */
    DB_QUERY_TIMEOUT_MS: millis(100, 600000, 11000),
    /** TCP keepalive probes start after a pooled connection is idle this long. @default 10000 */
    DB_KEEPALIVE_MS: millis(100, 600000, 10000),
    /** A pooled connection idle this long is closed. @default 30000 */
    DB_POOL_IDLE_TIMEOUT_MS: millis(100, 3600000, 30000),
    /** Retry-After (seconds) of a 503 when the database cannot be reached. @default 5 */
    RETRY_AFTER_SECONDS: z.coerce.number({ error: "not a number" }).int("not a whole number").min(1, "below 1").max(3600, "above 3600").default(5),
    /** A login read from DB_SECRET_ARN is kept this long, then served while one read replaces it. @default 300000 */
    DB_SECRET_CACHE_MS: millis(100, 86400000, 300000),
    /** A read of DB_SECRET_ARN not answered by then fails and is aborted (503), so no login waits on a hung call. @default 5000 */
    DB_SECRET_TIMEOUT_MS: millis(100, 60000, 5000),
    /**
     * The least time between two reads of DB_SECRET_ARN: a refresh sooner answers the value just read; after a failed read none is tried
     * for this long, doubling with each failure in a row up to 60 times it. @default 1000
     */
    DB_SECRET_RETRY_MS: millis(10, 60000, 1000),
    /** `on-start`: apply pending migrations before listening (under a lock); `off`: run them as a one-off task. @default "on-start" */
    MIGRATIONS: z.enum(["on-start", "off"], { error: 'not "on-start" or "off"' }).default("on-start"),
    /**
     * Milliseconds to finish the requests in flight once the task stops taking new ones, before the process gives up. The stack checks DRAIN_TIMEOUT_MS
     * plus this against the task's stop timeout. @default 10000
     */
    SHUTDOWN_TIMEOUT_MS: millis(100, 110000, 10000),
    /**
     * After SIGTERM, the longest the task keeps serving while failing its load balancer health check, so the load balancer stops sending it
     * requests before it closes. The stack sets it from the target group: unhealthyThreshold × interval + timeout. @default 0 (no load balancer)
     */
    DRAIN_TIMEOUT_MS: millis(0, 110000, 0),
    /**
     * The drain ends sooner when no request at all, health checks included, arrived for this long: nothing routes here any more (ECS
     * deregistered the target before SIGTERM). The stack sets it to the health check's interval + timeout. @default 20000
     */
    DRAIN_QUIET_MS: millis(100, 600000, 20000),
    /** How long an idle keep-alive connection stays open; longer than the load balancer's idle timeout, so it never reuses one this server closed. @default 65000 */
    KEEP_ALIVE_TIMEOUT_MS: millis(1000, 4005000, 65000),
    /**
     * The whole budget for migrations at start, waiting for another task's lock included; within the service's health check grace period so a
     * long migration fails (and rolls back) instead of crash-looping the deploy. The stack sets it. @default 50000
     */
    MIGRATION_TIMEOUT_MS: millis(2000, 3600000, 50000),
    /**
     * The worker's queue (an SQS queue URL), to which the API publishes `note.created` and `note.updated` for the worker to count the note's words.
     * The stack sets it on the services a queue names as publishers. @default none: no events are published
     */
    WORKER_QUEUE_URL: z.optional(required.regex(QUEUE_URL, "not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")),
    /**
     * Tracing: the OTLP/HTTP endpoint spans are sent to (JSON, to `<endpoint>/v1/traces`), the collector sidecar's `http://localhost:4318`; the
     * stack sets it when `tracing.enabled`. Unset, tracing is off and the OpenTelemetry SDK is never loaded. @default none: no tracing
     */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.optional(required.regex(/^https?:\/\/[^/\s]+\/?$/, "not an http(s)://host:port URL with no path")),
    /**
     * With tracing on, the share of requests (and of messages a trace does not already carry) traced, 0 to 1; a trace begun upstream (a sampled
     * `traceparent`) is always followed. The stack sets it from `tracing.sampleRatio`. @default 1: every request
     */
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ error: "not a number" }).min(0, "below 0").max(1, "above 1").default(1),
    /** The traces' service name. @default "notes-api", the worker's "notes-worker" */
    OTEL_SERVICE_NAME: z.optional(required.regex(/^[A-Za-z0-9._-]{1,64}$/, "not letters, digits, ., _ and - (at most 64)")),
    /** @default "info" */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "not a pino level" }).default("info"),
  })
  .superRefine((config, ctx) => {
    if (config.DB_STATEMENT_TIMEOUT_MS >= config.DB_QUERY_TIMEOUT_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["DB_STATEMENT_TIMEOUT_MS"],
        message: `not below DB_QUERY_TIMEOUT_MS (${config.DB_QUERY_TIMEOUT_MS}): PostgreSQL's cancel (57014) comes first, the client's read timeout only for a dead socket`,
      });
    }
    if (config.DB_SSL_MODE === "disable" && !isLoopback(config.DB_HOST)) {
      ctx.addIssue({
        code: "custom",
        path: ["DB_SSL_MODE"],
        message: `"disable" is only allowed for a database on this machine, and DB_HOST = "${config.DB_HOST}" is not loopback; use "verify-full"`,
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Parses the environment; throws one ConfigError naming every bad variable, never echoing a secret. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.keys(ConfigSchema.shape).map((key) => [key, env[key] === "" ? undefined : env[key]]));
  const result = ConfigSchema.safeParse(input);
  // The login: the secret, or both fixed values. Checked apart so it is named beside any other problem.
  const login =
    input.DB_SECRET_ARN === undefined && input.DB_IAM_USER === undefined
      ? (["DB_USERNAME", "DB_PASSWORD"] as const).filter((name) => input[name] === undefined)
      : (input.DB_USERNAME === undefined) !== (input.DB_PASSWORD === undefined)
        ? (["DB_USERNAME", "DB_PASSWORD"] as const).filter((name) => input[name] === undefined)
        : [];
  const missing = login.map((name) =>
    input.DB_SECRET_ARN === undefined && input.DB_IAM_USER === undefined
      ? `${name}: not set, and neither is DB_SECRET_ARN nor DB_IAM_USER`
      : `${name}: not set, and ${name === "DB_USERNAME" ? "DB_PASSWORD" : "DB_USERNAME"} is`,
  );
  if (result.success && !missing.length) return result.data;
  const issues = result.success ? [] : result.error.issues;
  const lines = issues.map((issue) => {
    const name = String(issue.path[0]);
    const secret = name === "DB_PASSWORD" || name === "DB_USERNAME";
    const shown = input[name] === undefined || secret ? "" : ` = ${JSON.stringify(input[name])}`;
    return `${name}${shown}: ${issue.message}`;
  });
  return fail(`invalid environment: ${[...lines, ...missing].join("; ")}`);
}

function fail(message: string): never {
  throw new ConfigError(message);
}

export function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
