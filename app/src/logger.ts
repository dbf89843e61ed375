import pino from "pino";
import type { Config } from "./config";

/** JSON lines on stdout (CloudWatch Logs via awslogs), synchronous so nothing is lost at exit. */
export function createLogger(config: Pick<Config, "LOG_LEVEL" | "APP_ENV">): pino.Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: "notes-api", env: config.APP_ENV },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ["req.headers.authorization", "req.headers.cookie"], remove: true },
  });
}
