import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { AWSXRayPropagator } from "@opentelemetry/propagator-aws-xray";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, BatchSpanProcessor, type IdGenerator, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import type { FastifyRequest } from "fastify";
import type pg from "pg";
import type { MessageAttributes, Telemetry, TracingModule, TracingOptions } from "./telemetry";

/**
 * The OpenTelemetry SDK, bundled apart as dist/tracing.mjs and imported by telemetry.ts only when tracing is
 * on. The app is one esbuild bundle, so require-hook auto-instrumentation could not patch it: the spans are
 * made here, explicitly, around this bundle's own Fastify, node-postgres and AWS SDK clients.
 *
 * Traces go over OTLP/HTTP (JSON) to the collector sidecar (the AWS Distro for OpenTelemetry collector), which
 * sends them to AWS X-Ray. Trace ids are X-Ray's kind (the first 8 hex digits the start time in seconds), as
 * "Generating trace IDs" in AWS's X-Ray developer guide asks of ids a collector converts
 * (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids).
 */
export const start: TracingModule["start"] = (options: TracingOptions): Telemetry => {
  const ids = new XRayIdGenerator();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName, "deployment.environment.name": options.environment }),
    idGenerator: ids,
    // A trace begun upstream keeps its decision; a new one is recorded at the configured share (X-Ray bills per trace recorded).
    sampler: new ParentBasedSampler({ root: options.sampleRatio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(options.sampleRatio) }),
    // Each export gives up within the stop's flush bound, so no send outlives it.
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, "")}/v1/traces`, timeoutMillis: SHUTDOWN_FLUSH_MS }),
        exportTimeoutMillis: SHUTDOWN_FLUSH_MS,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  // W3C trace context between our own processes; X-Ray's header from clients and services that send it.
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator()] }));
  const tracer = provider.getTracer("notes-api");
  instrumentPg(options.pg, tracer);

  return {
    enabled: true,
    instrumentApp: (app) => instrumentApp(app, tracer, ids),
    instrumentClient: (client) => instrumentClient(client, tracer),
    processMessage: async (message, queueUrl, work) => {
      const parent = propagation.extract(ROOT_CONTEXT, message.MessageAttributes ?? {}, attributeGetter);
      const queue = queueUrl.split("/").pop() ?? queueUrl;
      const span = tracer.startSpan(
        `process ${queue}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            "messaging.system": "aws_sqs",
            "messaging.operation.type": "process",
            "messaging.destination.name": queue,
            "messaging.message.id": message.MessageId ?? "",
          },
        },
        parent,
      );
      try {
        return await context.with(trace.setSpan(parent, span), () => work(logFields(span)));
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    // A stop must not wait on a collector that is gone or slow: what is not sent within the bound is lost,
    // and the task still exits 0 well inside its stopTimeout (ECS would SIGKILL it otherwise).
    shutdown: () => boundedBy(provider.shutdown(), SHUTDOWN_FLUSH_MS),
  };
};

/** The most a stop spends sending the spans still buffered. */
export const SHUTDOWN_FLUSH_MS = 2000;

function boundedBy(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([work.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** X-Ray's trace id: 8 hex digits of the start time in seconds, then 24 random; or the one the load balancer gave the request. */
class XRayIdGenerator implements IdGenerator {
  /** Set just before a request's root span starts: the trace id of its X-Amzn-Trace-Id `Root`. */
  next?: string;

  generateTraceId(): string {
    const given = this.next;
    this.next = undefined;
    return (
      given ??
      Math.floor(Date.now() / 1000)
        .toString(16)
        .padStart(8, "0") + randomBytes(12).toString("hex")
    );
  }

  generateSpanId(): string {
    return randomBytes(8).toString("hex");
  }
}

/**
 * The trace id of an `X-Amzn-Trace-Id: Root=1-<8 hex>-<24 hex>` header. The load balancer adds one with a
 * `Root` (and `Self`) but no `Parent` or `Sampled`, which the X-Ray propagator cannot take as a parent: the
 * request's trace then takes the `Root`'s id, so its access log entry (field `trace_id`) names this trace.
 * "Request tracing for your Application Load Balancer",
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html
 */
export function albTraceId(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const root = /(?:^|;)\s*Root=1-([0-9a-f]{8})-([0-9a-f]{24})\s*(?:;|$)/i.exec(value ?? "");
  return root ? `${root[1]}${root[2]}`.toLowerCase() : undefined;
}

const UNTRACED = new Set(["/health", "/ready"]);

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key.toLowerCase()],
};

const attributeGetter: TextMapGetter<MessageAttributes> = {
  keys: (attributes) => Object.keys(attributes),
  get: (attributes, key) => attributes[key]?.StringValue,
};

const attributeSetter: TextMapSetter<MessageAttributes> = {
  set: (attributes, key, value) => {
    attributes[key] = { DataType: "String", StringValue: value };
  },
};

function logFields(span: Span): Record<string, string> {
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * The request's span starts where its logger is made, before Fastify's "incoming request" line, so every line
 * of the request carries the trace; the handler runs in its context (preHandler, after the body is read), so
 * its queries and SDK calls are its children.
 */
function instrumentApp(app: Parameters<Telemetry["instrumentApp"]>[0], tracer: ReturnType<TracerProvider["getTracer"]>, ids: XRayIdGenerator): void {
  const requests = new WeakMap<IncomingMessage, { span: Span; context: Context }>();
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    const req = raw as IncomingMessage;
    const path = (req.url ?? "/").split("?")[0];
    if (UNTRACED.has(path)) return logger.child(bindings, options);
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
    if (!trace.getSpanContext(parent)) ids.next = albTraceId(req.headers["x-amzn-trace-id"]);
    const span = tracer.startSpan(
      req.method ?? "HTTP",
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": req.method ?? "", "url.path": path, "notes.request_id": String(bindings.requestId ?? bindings.reqId ?? "") },
      },
      parent,
    );
    ids.next = undefined;
    requests.set(req, { span, context: trace.setSpan(parent, span) });
    return logger.child({ ...bindings, ...logFields(span) }, options);
  });
  const traced = (request: FastifyRequest) => requests.get(request.raw);
  app.addHook("onRequest", (request, _reply, done) => {
    const entry = traced(request);
    if (!entry) return done();
    if (request.routeOptions.url) {
      entry.span.updateName(`${request.method} ${request.routeOptions.url}`);
      entry.span.setAttribute("http.route", request.routeOptions.url);
    }
    context.with(entry.context, done);
  });
  app.addHook("preHandler", (request, _reply, done) => {
    const entry = traced(request);
    return entry ? context.with(entry.context, done) : done();
  });
  app.addHook("onError", (request, _reply, error, done) => {
    const entry = traced(request);
    if (entry) entry.span.recordException(error);
    done();
  });
  const end = (request: FastifyRequest, status?: number) => {
    const entry = traced(request);
    if (!entry) return;
    requests.delete(request.raw);
    if (status !== undefined) entry.span.setAttribute("http.response.status_code", status);
    if (status === undefined || status >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
    entry.span.end();
  };
  app.addHook("onResponse", (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    end(request);
    done();
  });
}

type Tracer = ReturnType<TracerProvider["getTracer"]>;

interface SdkHandlerContext {
  readonly clientName?: string;
  readonly commandName?: string;
}
type SdkArgs = { input: Record<string, unknown> };
type SdkNext = (args: SdkArgs) => Promise<{ output: { $metadata?: { requestId?: string } } }>;
interface MiddlewareStack {
  add(middleware: (next: SdkNext, context: SdkHandlerContext) => SdkNext, options: { step: "initialize"; name: string }): void;
}

/**
 * A span per AWS SDK call inside a trace (a call outside one, such as the worker's long poll, makes none: it
 * would be a trace of its own every 20 seconds). An SQS send is a producer span whose context goes into the
 * message's attributes (W3C `traceparent` and X-Ray's header), and a receive asks for those attributes back.
 */
function instrumentClient<T extends { middlewareStack: unknown }>(client: T, tracer: Tracer): T {
  const fields = propagation.fields();
  (client.middlewareStack as MiddlewareStack).add(
    (next, handlerContext) => async (args) => {
      const service = (handlerContext.clientName ?? "AWS").replace(/Client$/, "");
      const operation = (handlerContext.commandName ?? "Call").replace(/Command$/, "");
      if (operation === "ReceiveMessage") {
        const names = (args.input.MessageAttributeNames as string[] | undefined) ?? [];
        args = { ...args, input: { ...args.input, MessageAttributeNames: [...new Set([...names, ...fields])] } };
      }
      const parent = context.active();
      if (!trace.getSpan(parent)) return next(args);
      const queueUrl = typeof args.input.QueueUrl === "string" ? args.input.QueueUrl : undefined;
      const span = tracer.startSpan(
        `${service}.${operation}`,
        {
          kind: operation === "SendMessage" ? SpanKind.PRODUCER : SpanKind.CLIENT,
          attributes: {
            "rpc.system": "aws-api",
            "rpc.service": service,
            "rpc.method": operation,
            ...(queueUrl ? { "messaging.system": "aws_sqs", "messaging.destination.name": queueUrl.split("/").pop() ?? queueUrl } : {}),
          },
        },
        parent,
      );
      const inner = trace.setSpan(parent, span);
      if (operation === "SendMessage") {
        const attributes: MessageAttributes = { ...(args.input.MessageAttributes as MessageAttributes | undefined) };
        propagation.inject(inner, attributes, attributeSetter);
        args = { ...args, input: { ...args.input, MessageAttributes: attributes } };
      }
      try {
        const result = await context.with(inner, () => next(args));
        const requestId = result.output.$metadata?.requestId;
        if (requestId) span.setAttribute("aws.request_id", requestId);
        return result;
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    { step: "initialize", name: "openTelemetryTracing" },
  );
  return client;
}

/**
 * A client span per query made inside a trace: `Pool.query` (the span in the caller's context, as the pool may
 * hand over the connection from another request's callback; the pool's own call of `Client.query` passes a
 * callback, which is left alone) and `Client.query` on a checked-out client (the worker's transaction).
 * Patched on this bundle's own node-postgres, which the caller hands over.
 */
function instrumentPg(module: typeof pg, tracer: Tracer): void {
  const poolQuery = module.Pool.prototype.query as (...args: unknown[]) => unknown;
  const clientQuery = module.Client.prototype.query as (...args: unknown[]) => unknown;
  const untraced = (args: unknown[]) =>
    !trace.getSpan(context.active()) ||
    typeof args.at(-1) === "function" ||
    (typeof args[0] === "object" && args[0] !== null && typeof (args[0] as { submit?: unknown }).submit === "function");
  const querySpan = <R>(self: { options?: pg.PoolConfig; database?: string }, text: string, run: () => Promise<R>): Promise<R> => {
    const operation = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? "QUERY";
    const database = self.options?.database ?? self.database ?? "";
    const span = tracer.startSpan(`${operation} ${database}`.trim(), {
      kind: SpanKind.CLIENT,
      attributes: { "db.system.name": "postgresql", "db.namespace": database, "db.operation.name": operation, "db.query.text": text },
    });
    return context.with(trace.setSpan(context.active(), span), run).then(
      (result) => {
        span.end();
        return result;
      },
      (error: unknown) => {
        fail(span, error);
        span.end();
        throw error;
      },
    );
  };
  const configOf = (args: unknown[]): pg.QueryConfig => {
    const base = typeof args[0] === "string" ? { text: args[0] } : { ...(args[0] as pg.QueryConfig) };
    return Array.isArray(args[1]) ? { ...base, values: args[1] } : base;
  };
  module.Pool.prototype.query = function (this: pg.Pool & { options: pg.PoolConfig }, ...args: unknown[]) {
    if (untraced(args)) return poolQuery.apply(this, args);
    const config = configOf(args);
    return querySpan(this, config.text, () => poolQuery.call(this, config) as Promise<unknown>);
  } as typeof module.Pool.prototype.query;
  module.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (untraced(args)) return clientQuery.apply(this, args);
    return querySpan(this, configOf(args).text, () => clientQuery.apply(this, args) as Promise<unknown>);
  } as typeof module.Client.prototype.query;
}
