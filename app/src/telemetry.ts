import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Config } from "./config";

/**
 * Tracing's switch, in every bundle; the OpenTelemetry SDK itself is a bundle of its own, dist/tracing.mjs
 * (src/tracing.ts), imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Off (the default), this file is
 * all there is: no OpenTelemetry code is loaded, no global registered, and every hook below does nothing.
 *
 * On, the API and the worker record one trace per request: the server span (honouring the caller's W3C
 * `traceparent`, or the load balancer's `X-Amzn-Trace-Id`), its PostgreSQL queries, its AWS SDK calls (the
 * SQS send carrying the trace in the message's attributes), and the worker's processing of that message with
 * its queries; every request's and message's log lines carry `trace_id` and `span_id`.
 */
export interface Telemetry {
  readonly enabled: boolean;
  /** A server span per request (not /health, /ready), its log lines with `trace_id`/`span_id`. Call before the app's own hooks. */
  instrumentApp(app: FastifyInstance): void;
  /** A client span per AWS SDK call made inside a trace; SQS sends carry the trace context in their message attributes. */
  instrumentClient<T extends { middlewareStack: unknown }>(client: T): T;
  /**
   * Runs the handling of an SQS message as a consumer span, in the trace its attributes carry; `fields` are the
   * log fields of that span, for the message's log lines.
   */
  processMessage<T>(message: Message, queueUrl: string, work: (fields: Readonly<Record<string, string>>) => Promise<T>): Promise<T>;
  /** Sends what is buffered; call once, at exit. */
  shutdown(): Promise<void>;
}

const off: Telemetry = {
  enabled: false,
  instrumentApp: () => undefined,
  instrumentClient: (client) => client,
  processMessage: (_message, _queueUrl, work) => work({}),
  shutdown: async () => undefined,
};

let current: Telemetry = off;

/** The process's telemetry: off until startTelemetry turned it on. */
export function telemetry(): Telemetry {
  return current;
}

/** What dist/tracing.mjs is handed: the modules it instruments are this bundle's own copies. */
export interface TracingOptions {
  /** OTLP/HTTP (JSON) endpoint, e.g. the collector sidecar's http://localhost:4318; traces go to <endpoint>/v1/traces. */
  readonly endpoint: string;
  readonly serviceName: string;
  readonly environment: string;
  /** The share of new traces recorded, 0 to 1 (a parent's decision is followed). */
  readonly sampleRatio: number;
  readonly pg: typeof pg;
}

/** SQS message attributes, as the publisher sends them: what a propagator writes into. */
export type MessageAttributes = Record<string, MessageAttributeValue>;

/** What dist/tracing.mjs (src/tracing.ts) exports, as this bundle calls it: named here so the switch never imports the SDK's module, even for its type. */
export interface TracingModule {
  start(options: TracingOptions): Telemetry;
}

/**
 * Turns tracing on when OTEL_EXPORTER_OTLP_ENDPOINT is set: imports dist/tracing.mjs, beside this bundle.
 * Call first, before the pool or any client is made.
 */
export async function startTelemetry(
  config: Pick<Config, "OTEL_EXPORTER_OTLP_ENDPOINT" | "OTEL_SERVICE_NAME" | "OTEL_TRACES_SAMPLER_ARG" | "APP_ENV">,
  defaultServiceName: string,
  modules: { readonly pg: typeof pg },
): Promise<Telemetry> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return current;
  // Not a literal: esbuild leaves the import as it is, so the SDK stays out of this bundle, and node resolves it beside the bundle (dist/).
  const bundle = "./tracing.mjs";
  const tracing = (await import(bundle)) as TracingModule;
  current = tracing.start({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.OTEL_SERVICE_NAME ?? defaultServiceName,
    environment: config.APP_ENV,
    sampleRatio: config.OTEL_TRACES_SAMPLER_ARG,
    pg: modules.pg,
  });
  return current;
}
