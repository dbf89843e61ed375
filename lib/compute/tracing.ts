import type { IConstruct } from "constructs";
import * as z from "zod/mini";
import type { Statement } from "../core/iam";
import { PermissionsBoundary } from "../core/permissions-boundary";
import { flag, int, rule, withDefault } from "../settings/rules";

/**
 * Traces end to end (issue 34): the API and its workers send OpenTelemetry spans (app/src/tracing.ts) over
 * OTLP/HTTP to a collector beside them in the task, the AWS Distro for OpenTelemetry (ADOT) collector, which
 * writes them to AWS X-Ray with the task role. AWS's page for this sidecar: "Specifying the AWS Distro for
 * OpenTelemetry sidecar for AWS X-Ray integration in your task definition",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/trace-data-containerdefinitions.html
 */
export const TracingSettingsSchema = z.strictObject({
  /**
   * Trace every request of the API and its workers into AWS X-Ray: a collector sidecar in each service's task (inside the task's size), the task role
   * allowed to write traces, `OTEL_EXPORTER_OTLP_ENDPOINT` set on the app. Costs X-Ray's $5 per million traces recorded (the first 100,000 a month
   * free) and the collector's share of each task; off, nothing runs and nothing is loaded. Scheduled jobs are not traced. @default false
   */
  enabled: withDefault(flag, false),
  /**
   * The share of requests traced, 0 to 1 (a trace begun upstream keeps its own decision): X-Ray bills $5 per million traces recorded, so a busy
   * service lowers it, e.g. 0.05; the app's `OTEL_TRACES_SAMPLER_ARG`. @default 1: every request
   */
  sampleRatio: withDefault(
    z.number().check(rule<number>((v) => Number.isFinite(v) && v >= 0 && v <= 1, "not a share from 0 to 1", "a number from 0 (none) to 1 (every request)")),
    1,
  ),
  /** CPU units (1024 = 1 vCPU) of each task kept for the collector; the app keeps at least 128. @default 64 */
  collectorCpu: withDefault(int(32, 4096), 64),
  /** MiB of each task the collector may use (its hard limit); the app keeps at least 256 beside it and `task.scratchSizeMib`. @default 128 */
  collectorMemoryMib: withDefault(int(64, 4096), 128),
});
export type TracingSettings = z.input<typeof TracingSettingsSchema>;
export type TracingConfig = z.output<typeof TracingSettingsSchema>;

/** What a traced task keeps for its app beside the collector: the schema checks `collector + this ≤ task` (lib/settings/environment/schema.ts). */
export const APP_MIN_CPU = 128;
export const APP_MIN_MEMORY_MIB = 256;

/**
 * The collector image, pinned: ADOT's public image (gallery.ecr.aws/aws-observability/aws-otel-collector), the
 * version the project's tests and docs name. Change it here only.
 */
export const COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.45.1";
export const COLLECTOR_CONTAINER_NAME = "otel-collector";
/** Where the app sends spans: the collector's OTLP/HTTP receiver, in the same task's network namespace (awsvpc). */
export const OTLP_ENDPOINT = "http://localhost:4318";

/**
 * Writing traces, as AWS's managed policy AWSXrayWriteOnlyAccess grants it and nothing more
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXrayWriteOnlyAccess.html): the collector's
 * awsxray exporter calls PutTraceSegments (and PutTelemetryRecords); the sampling calls are X-Ray's remote
 * sampling. X-Ray has no resource-level permissions for them (Service Authorization Reference, "Actions,
 * resources, and condition keys for AWS X-Ray"): "*".
 */
export const TRACE_WRITE_ACTIONS = [
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "xray:GetSamplingStatisticSummaries",
] as const;

export function traceWriteStatements(): Statement[] {
  return [{ Sid: "WriteTraces", Action: [...TRACE_WRITE_ACTIONS], Resource: "*" }];
}

/** The app's variables in a traced task: where spans go, the service name X-Ray's map shows (the task's family), the share traced. */
export function tracingEnvironment(serviceName: string, sampleRatio: number): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_ENDPOINT, OTEL_SERVICE_NAME: serviceName, OTEL_TRACES_SAMPLER_ARG: String(sampleRatio) };
}

/**
 * The collector's configuration, given in `AOT_CONFIG_CONTENT` (ADOT reads its configuration from this variable
 * when set; JSON is YAML): OTLP over HTTP on the task's loopback only, batched, to X-Ray in the stack's region.
 * Traces only: no metrics pipeline, so it needs no CloudWatch permission.
 */
export function collectorConfig(region: string): string {
  return JSON.stringify({
    receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:4318" } } } },
    processors: { "batch/traces": { timeout: "1s", send_batch_size: 50 } },
    exporters: { awsxray: { region } },
    service: { pipelines: { traces: { receivers: ["otlp"], processors: ["batch/traces"], exporters: ["awsxray"] } } },
  });
}

/**
 * The collector's container definition. Not essential: a collector that fails loses traces, never the task;
 * the app waits for it to start (`dependsOn` `START`) so its first spans find it listening.
 */
export function collectorContainer(
  tracing: { readonly cpu: number; readonly memoryMib: number },
  region: string,
  logConfiguration: unknown,
  readonlyRootFilesystem: boolean,
) {
  return {
    name: COLLECTOR_CONTAINER_NAME,
    image: COLLECTOR_IMAGE,
    essential: false,
    cpu: tracing.cpu,
    memory: tracing.memoryMib,
    environment: [{ name: "AOT_CONFIG_CONTENT", value: collectorConfig(region) }],
    // Its image's own non-root user; it writes nothing to its filesystem.
    readonlyRootFilesystem,
    logConfiguration,
  };
}

/** The environment's boundary lets its task roles write traces (what `traceWriteStatements` grants a traced task). */
export function allowTracesInBoundary(scope: IConstruct): void {
  PermissionsBoundary.of(scope)?.allow([{ Sid: "TaskTraces", Action: [...TRACE_WRITE_ACTIONS], Resource: "*" }]);
}
