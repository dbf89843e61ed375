import { randomUUID } from "node:crypto";
import Ajv from "ajv";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type pg from "pg";
import { isUnavailable } from "./database";
import { notesRoutes } from "./notes";
import { problem, sendProblem, validationProblem } from "./problem";

/** The largest request body accepted; larger ones get 413 before they are read. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppOptions {
  readonly pool: pg.Pool;
  /** A pino logger; every request logs with its requestId. */
  readonly logger: FastifyBaseLogger;
}

/**
 * The HTTP API: routes, validation, problem details, request ids. Listening, the database and shutdown
 * belong to the caller (server.ts), so tests can build the same app around any pool.
 */
export function buildApp({ pool, logger }: AppOptions): FastifyInstance {
  // Bodies are validated strictly (a number is not a title); query strings and path parameters arrive
  // as text, so "limit=5" is coerced to 5 there only.
  const strict = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false });
  const coercing = new Ajv({ allErrors: true, coerceTypes: true, removeAdditional: false, useDefaults: true });

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    // The caller's X-Request-Id when it is a plain token (kept out of logs otherwise), or a new one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: "requestId" }),
    return503OnClosing: true,
    // The load balancer keeps connections open for up to 60 s; staying open longer means it never
    // reuses a connection this server has already closed (a 502).
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: false },
  });
  // JSON only: a text/plain body is refused (415) rather than parsed as a string.
  app.removeContentTypeParser("text/plain");
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict.compile(schema) : coercing.compile(schema)));

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  // Responses finished after shutdown began close their connection, so no keep-alive connection
  // holds the process open until its idle timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) return sendProblem(request, reply, validationProblem(error as Parameters<typeof validationProblem>[0]));
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return sendProblem(request, reply, problem(413, `The request body is larger than ${BODY_LIMIT_BYTES} bytes`));
    }
    if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY" || error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
      return sendProblem(request, reply, problem(400, "The request body is not valid JSON", [{ pointer: "/body", detail: "is not valid JSON" }]));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(request, reply, problem(error.statusCode, error.message));
    }
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, "database unavailable");
      return sendProblem(request, reply.header("retry-after", "5"), problem(503, "The database cannot be reached; try again shortly"));
    }
    request.log.error({ err: error }, "request failed");
    return sendProblem(request, reply, problem(500, "The server failed to answer; the request id identifies its log line"));
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, problem(404, `No route for ${request.method} ${request.url.split("?")[0]}`)));

  // Liveness: the process answers. The load balancer's default health check; never touches the
  // database, so a database outage does not make ECS replace every task.
  app.get("/health", { logLevel: "warn" }, async () => ({ status: "ok" }));

  // Readiness: the database answers too.
  app.get("/ready", { logLevel: "warn" }, async (request, reply) => {
    try {
      await pool.query({ text: "SELECT 1", query_timeout: 2000 } as pg.QueryConfig);
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "not ready: database unreachable");
      return sendProblem(request, reply.header("retry-after", "5"), problem(503, "The database cannot be reached"));
    }
  });

  notesRoutes(app, pool);
  return app;
}
