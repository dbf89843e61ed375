import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import Ajv from "ajv";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type pg from "pg";
import { isUnavailable } from "./database";
import { Drain, isContainerHealthCheck } from "./drain";
import type { EventPublisher } from "./events";
import { BODY_LIMIT_BYTES } from "./limits";
import { notesRoutes } from "./notes";
import { PROBLEM_CONTENT_TYPE, problem, sendProblem, validationProblem } from "./problem";
import { telemetry } from "./telemetry";

export { BODY_LIMIT_BYTES };
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppOptions {
  readonly pool: pg.Pool;
  /** A pino logger; every request logs with its requestId. */
  readonly logger: FastifyBaseLogger;
  /** SIGTERM's drain: the health check fails while it runs. @default one that never starts */
  readonly drain?: Drain;
  /** Idle keep-alive connections close after this; longer than the load balancer's idle timeout. @default 65000 */
  readonly keepAliveTimeoutMs?: number;
  /** Where note events go for the worker. @default none published */
  readonly events?: EventPublisher;
  /** Retry-After of a 503 when the database cannot be reached. @default 5 */
  readonly retryAfterSeconds?: number;
}

/**
 * The HTTP API: routes, validation, problem details, request ids. Listening, the database and shutdown
 * belong to the caller (server.ts), so tests can build the same app around any pool.
 */
export function buildApp({ pool, logger, drain = new Drain(0, 1), keepAliveTimeoutMs = 65_000, events, retryAfterSeconds = 5 }: AppOptions): FastifyInstance {
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
    // The load balancer keeps idle connections for its idle timeout; staying open longer means it never
    // reuses a connection this server has already closed (a 502).
    keepAliveTimeout: keepAliveTimeoutMs,
    routerOptions: { ignoreTrailingSlash: false },
    // Errors the router makes itself (a path parameter over its length, 414; a malformed URL, 400):
    // problems with a request id, like every other answer.
    frameworkErrors: (error, request, reply) => {
      reply.header("x-request-id", request.id);
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      return sendProblem(request, reply, problem(status, status === 414 ? "The URL is too long" : "The request URL is not valid"));
    },
    // Errors Node's HTTP parser meets before there is a request at all (a malformed header, headers
    // over 16 KB, a request that never finished): a problem too, written on the socket.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket: Socket) => {
      if (error.code === "ECONNRESET" || socket.destroyed || !socket.writable) {
        socket.destroy();
        return;
      }
      const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
      const id = randomUUID();
      const detail =
        status === 431
          ? "The request's URL and headers are larger than 16 KB"
          : status === 408
            ? "The request was not received in time"
            : "The request is not valid HTTP";
      const body = JSON.stringify({ ...problem(status, detail), instance: "/" });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Tracing on: a span per request, its log lines joined to it (telemetry.ts); off, nothing.
  telemetry().instrumentApp(app);
  // JSON only: a text/plain body is refused (415) rather than parsed as a string.
  app.removeContentTypeParser("text/plain");
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict.compile(schema) : coercing.compile(schema)));

  app.addHook("onRequest", async (request, reply) => {
    // Any request shows the load balancer still routes here, but the container health check's (drain.ts).
    if (!isContainerHealthCheck({ url: request.url, headers: request.headers, remoteAddress: request.socket.remoteAddress })) drain.seen();
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
      return sendProblem(request, reply.header("retry-after", String(retryAfterSeconds)), problem(503, "The database cannot be reached; try again shortly"));
    }
    request.log.error({ err: error }, "request failed");
    return sendProblem(request, reply, problem(500, "The server failed to answer; the request id identifies its log line"));
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, problem(404, `No route for ${request.method} ${request.url.split("?")[0]}`)));

  // Liveness: the process answers. The load balancer's default health check; never touches the
  // database, so a database outage does not make ECS replace every task. Fails while the task drains
  // after SIGTERM, so the load balancer stops sending it requests before it closes.
  app.get("/health", { logLevel: "warn" }, async (request, reply) =>
    drain.draining ? sendProblem(request, reply, problem(503, "The task is stopping")) : { status: "ok" },
  );

  // Readiness: the database answers too.
  app.get("/ready", { logLevel: "warn" }, async (request, reply) => {
    try {
      await pool.query({ text: "SELECT 1", query_timeout: 2000 } as pg.QueryConfig);
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "not ready: database unreachable");
      return sendProblem(request, reply.header("retry-after", String(retryAfterSeconds)), problem(503, "The database cannot be reached"));
    }
  });

  notesRoutes(app, pool, events);
  return app;
}
