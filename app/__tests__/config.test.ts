import { ConfigError, isLoopback, readConfig } from "../src/config";

const REQUIRED = { APP_ENV: "dev", DB_HOST: "db.abc.us-east-1.rds.amazonaws.com", DB_NAME: "app", DB_USERNAME: "app_admin", DB_PASSWORD: "pw" };
const error = (env: Record<string, string>) => {
  try {
    readConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("configuration from the environment", () => {
  it("gives every optional variable its documented default", () => {
    expect(readConfig(REQUIRED)).toEqual({
      ...REQUIRED,
      PORT: 8080,
      HOST: "0.0.0.0",
      DB_PORT: 5432,
      DB_SSL_MODE: "verify-full",
      DB_POOL_MAX: 10,
      DB_CONNECT_TIMEOUT_MS: 3000,
      DB_STATEMENT_TIMEOUT_MS: 10000,
      DB_QUERY_TIMEOUT_MS: 11000,
      DB_KEEPALIVE_MS: 10000,
      DB_POOL_IDLE_TIMEOUT_MS: 30000,
      RETRY_AFTER_SECONDS: 5,
      DB_SECRET_CACHE_MS: 300000,
      DB_SECRET_TIMEOUT_MS: 5000,
      DB_SECRET_RETRY_MS: 1000,
      MIGRATIONS: "on-start",
      SHUTDOWN_TIMEOUT_MS: 10000,
      DRAIN_TIMEOUT_MS: 0,
      DRAIN_QUIET_MS: 20000,
      KEEP_ALIVE_TIMEOUT_MS: 65000,
      MIGRATION_TIMEOUT_MS: 50000,
      OTEL_TRACES_SAMPLER_ARG: 1,
      LOG_LEVEL: "info",
    });
  });

  it("takes tracing's endpoint and share only as they are meant", () => {
    expect(readConfig({ ...REQUIRED, OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318", OTEL_TRACES_SAMPLER_ARG: "0.05" })).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318",
      OTEL_TRACES_SAMPLER_ARG: 0.05,
    });
    expect(error({ ...REQUIRED, OTEL_TRACES_SAMPLER_ARG: "2" })).toContain('OTEL_TRACES_SAMPLER_ARG = "2": above 1');
    expect(error({ ...REQUIRED, OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318/v1/traces" })).toContain(
      'OTEL_EXPORTER_OTLP_ENDPOINT = "localhost:4318/v1/traces": not an http(s)://host:port URL with no path',
    );
  });

  it("takes the login from DB_SECRET_ARN instead of DB_USERNAME and DB_PASSWORD", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-AbCdEf";
    const { DB_USERNAME: _u, DB_PASSWORD: _p, ...rest } = REQUIRED;
    expect(readConfig({ ...rest, DB_SECRET_ARN: arn })).toMatchObject({ DB_SECRET_ARN: arn, DB_USERNAME: undefined, DB_PASSWORD: undefined });
    expect(error({ ...rest, DB_SECRET_ARN: "my-secret" })).toContain('DB_SECRET_ARN = "my-secret": not a Secrets Manager secret ARN');
  });

  it("treats an empty variable as unset", () => {
    expect(readConfig({ ...REQUIRED, PORT: "" }).PORT).toBe(8080);
    expect(error({ ...REQUIRED, DB_HOST: "" })).toContain("DB_HOST: not set");
  });

  it.each([
    ["PORT", "0", "below 1"],
    ["PORT", "70000", "above 65535"],
    ["PORT", "80.5", "not a whole number"],
    ["PORT", "eighty", "not a number"],
    ["DB_PORT", "-1", "below 1"],
    ["APP_ENV", "Prod", "not lowercase letters"],
    ["DB_SSL_MODE", "require", 'not "verify-full" or "disable"'],
    ["DB_POOL_MAX", "500", "above 100"],
    ["MIGRATIONS", "always", 'not "on-start" or "off"'],
    ["SHUTDOWN_TIMEOUT_MS", "50", "below 100"],
    ["DRAIN_TIMEOUT_MS", "-1", "below 0"],
    ["DRAIN_QUIET_MS", "x", "not a number"],
    ["KEEP_ALIVE_TIMEOUT_MS", "10", "below 1000"],
    ["MIGRATION_TIMEOUT_MS", "1000", "below 2000"],
    ["LOG_LEVEL", "verbose", "not a pino level"],
  ])("%s = %s is refused: %s", (name, value, problem) => {
    expect(error({ ...REQUIRED, [name]: value })).toContain(`${name} = "${value}": ${problem}`);
  });

  it.each(["APP_ENV", "DB_HOST", "DB_NAME"])("%s is required", (name) => {
    const env: Record<string, string> = { ...REQUIRED };
    delete env[name];
    expect(error(env)).toBe(`invalid environment: ${name}: not set`);
  });

  it.each(["DB_USERNAME", "DB_PASSWORD"])("%s is required without DB_SECRET_ARN", (name) => {
    const env: Record<string, string> = { ...REQUIRED };
    delete env[name];
    expect(error(env)).toBe(`invalid environment: ${name}: not set, and neither is DB_SECRET_ARN nor DB_IAM_USER`);
  });

  it("names every bad variable at once", () => {
    expect(error({ APP_ENV: "dev", PORT: "x" })).toMatch(
      /^invalid environment: PORT = "x": not a number; DB_HOST: not set; DB_NAME: not set; DB_USERNAME: not set, and neither is DB_SECRET_ARN nor DB_IAM_USER; DB_PASSWORD: not set, and neither is DB_SECRET_ARN nor DB_IAM_USER$/,
    );
  });

  it("never repeats the credentials' values", () => {
    const message = error({ ...REQUIRED, DB_HOST: "db", DB_SSL_MODE: "disable", DB_USERNAME: "user-secret", DB_PASSWORD: "pw-secret" });
    expect(message).not.toMatch(/secret/);
  });

  it("refuses DB_SSL_MODE=disable for a database that is not on this machine", () => {
    expect(error({ ...REQUIRED, DB_SSL_MODE: "disable" })).toContain('DB_SSL_MODE = "disable": "disable" is only allowed for a database on this machine');
  });

  it.each(["localhost", "127.0.0.1", "127.1.2.3", "::1"])("allows DB_SSL_MODE=disable for %s", (host) => {
    expect(readConfig({ ...REQUIRED, DB_HOST: host, DB_SSL_MODE: "disable" }).DB_SSL_MODE).toBe("disable");
  });

  it.each(["10.0.0.5", "db.internal", "128.0.0.1", "::2"])("%s is not loopback", (host) => {
    expect(isLoopback(host)).toBe(false);
  });
});
