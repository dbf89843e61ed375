import { isIP } from "node:net";
import { z } from "zod";

/**
 * Everything the API reads from its environment, read and checked once at start. The task definition
 * sets these (DB_USERNAME and DB_PASSWORD from the RDS-managed secret); `npm run api:local` sets them
 * for a local database.
 */
const LOOPBACK_NAMES = new Set(["localhost", "localhost.localdomain"]);

const port = (fallback?: number) => {
  const base = z.coerce.number({ error: "not a number" }).int("not a whole number").min(1, "below 1").max(65535, "above 65535");
  return fallback === undefined ? base : base.default(fallback);
};
const required = z.string({ error: "not set" }).min(1, "empty");

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
    /** From the RDS-managed secret. Required. */
    DB_USERNAME: required,
    /** From the RDS-managed secret. Required. */
    DB_PASSWORD: required,
    /**
     * `verify-full`: TLS, the server's certificate checked against the RDS CA bundle in the image and its
     * name against DB_HOST. `disable`: no TLS, allowed only for a database on this machine (loopback).
     * @default "verify-full"
     */
    DB_SSL_MODE: z.enum(["verify-full", "disable"], { error: 'not "verify-full" or "disable"' }).default("verify-full"),
    /** Connections per task; tasks × this must stay under the database's max_connections. @default 10 */
    DB_POOL_MAX: z.coerce.number({ error: "not a number" }).int("not a whole number").min(1, "below 1").max(100, "above 100").default(10),
    /** `on-start`: apply pending migrations before listening (under a lock); `off`: run them as a one-off task. @default "on-start" */
    MIGRATIONS: z.enum(["on-start", "off"], { error: 'not "on-start" or "off"' }).default("on-start"),
    /** Milliseconds SIGTERM may take to drain before the process gives up (ECS kills at its stop timeout, 30 s). @default 10000 */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number({ error: "not a number" }).int("not a whole number").min(100, "below 100").max(110000, "above 110000").default(10000),
    /** @default "info" */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "not a pino level" }).default("info"),
  })
  .superRefine((config, ctx) => {
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
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const secret = name === "DB_PASSWORD" || name === "DB_USERNAME";
    const shown = input[name] === undefined || secret ? "" : ` = ${JSON.stringify(input[name])}`;
    return `${name}${shown}: ${issue.message}`;
  });
  return fail(`invalid environment: ${lines.join("; ")}`);
}

function fail(message: string): never {
  throw new ConfigError(message);
}

export function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
