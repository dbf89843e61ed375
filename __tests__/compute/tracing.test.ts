import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { COLLECTOR_CONTAINER_NAME, COLLECTOR_IMAGE, OTLP_ENDPOINT, TRACE_WRITE_ACTIONS } from "../../lib/compute/tracing";
import { env, only, resources, rolePolicy, synth } from "../support/helpers";

/**
 * The `tracing` setting (issue 34): off by default; on, every service's task holds the ADOT collector sidecar
 * inside its size, the app is pointed at it, and the task role may write traces and nothing more.
 */
type Tf = ReturnType<typeof synth>;
const containers = (tf: Tf, family: string): Record<string, any>[] =>
  JSON.parse(resources(tf, "aws_ecs_task_definition").find((t) => t.family === family)!.container_definitions);
const variables = (container: Record<string, any>) =>
  Object.fromEntries((container.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]));
const traced = (overrides: Partial<EnvironmentSettings> = {}) => env({ database: { enabled: false }, tracing: { enabled: true }, ...overrides });
const boundary = (tf: Tf) => JSON.parse(resources(tf, "aws_iam_policy").find((p) => p.name === "rest-api-test-boundary")!.policy);
const policiesOf = (tf: Tf) => resources(tf, "aws_iam_role_policy").map((p) => JSON.parse(p.policy) as { Statement: { Action: string | string[] }[] });

describe("tracing", () => {
  test("off by default: one container, no OTEL_ variable, no X-Ray permission anywhere, the boundary without it", () => {
    const tf = synth(env({ database: { enabled: false } }));
    const [app, ...others] = containers(tf, "rest-api-test");
    expect(others).toEqual([]);
    expect(Object.keys(variables(app)).filter((name) => name.startsWith("OTEL_"))).toEqual([]);
    const actions = policiesOf(tf).flatMap((p) => p.Statement.flatMap((s) => [s.Action].flat()));
    expect(actions.filter((a) => a.startsWith("xray:"))).toEqual([]);
    expect(JSON.stringify(boundary(tf))).not.toContain("xray:");
  });

  test("on: the collector sidecar from the pinned image, inside the task's size; the app waits for it and sends it OTLP", () => {
    const tf = synth(traced());
    const td = only(tf, "aws_ecs_task_definition");
    const [app, collector] = containers(tf, "rest-api-test");
    expect(COLLECTOR_IMAGE).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/);
    expect(collector).toMatchObject({
      name: COLLECTOR_CONTAINER_NAME,
      image: COLLECTOR_IMAGE,
      essential: false,
      cpu: 64,
      memory: 128,
      readonlyRootFilesystem: true,
    });
    expect(collector.logConfiguration.options["awslogs-stream-prefix"]).toBe(COLLECTOR_CONTAINER_NAME);
    expect(collector.cpu).toBeLessThan(Number(td.cpu));
    expect(collector.memory).toBeLessThan(Number(td.memory));
    // OTLP/HTTP on the task's loopback in, X-Ray in the environment's region out; traces only
    const config = JSON.parse(variables(collector).AOT_CONFIG_CONTENT);
    expect(config.receivers).toEqual({ otlp: { protocols: { http: { endpoint: "127.0.0.1:4318" } } } });
    expect(config.exporters).toEqual({ awsxray: { region: "eu-west-1" } });
    expect(Object.keys(config.service.pipelines)).toEqual(["traces"]);
    expect(app.dependsOn).toContainEqual({ containerName: COLLECTOR_CONTAINER_NAME, condition: "START" });
    expect(variables(app)).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_ENDPOINT, OTEL_SERVICE_NAME: "rest-api-test", OTEL_TRACES_SAMPLER_ARG: "1" });
    expect(OTLP_ENDPOINT).toBe("http://localhost:4318");
  });

  test("on: the task role may write traces as AWSXrayWriteOnlyAccess does, nothing more; the boundary allows the same", () => {
    const tf = synth(traced());
    expect(rolePolicy(tf, "rest-api-test-task", "Traces").Statement).toEqual([
      {
        Effect: "Allow",
        Sid: "WriteTraces",
        Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
        Resource: "*",
      },
    ]);
    // only the task role: the execution role (and every other role) gets nothing of X-Ray
    const xray = policiesOf(tf).filter((p) => p.Statement.some((s) => [s.Action].flat().some((a) => a.startsWith("xray:"))));
    expect(xray).toHaveLength(1);
    expect(boundary(tf).Statement.find((s: { Sid: string }) => s.Sid === "TaskTraces")).toEqual({
      Effect: "Allow",
      Sid: "TaskTraces",
      Action: [...TRACE_WRITE_ACTIONS],
      Resource: "*",
    });
  });

  test("every service is traced, the API and its workers; scheduled jobs are not", () => {
    const tf = synth(
      traced({
        services: { worker: { queue: {} } },
        jobs: { nightly: { schedule: "cron(0 3 * * ? *)", task: { command: ["dist/housekeeping.mjs"] } } },
      }),
    );
    expect(containers(tf, "rest-api-test").map((c) => c.name)).toEqual(["app", COLLECTOR_CONTAINER_NAME]);
    expect(containers(tf, "rest-api-test-worker").map((c) => c.name)).toEqual(["app", COLLECTOR_CONTAINER_NAME]);
    expect(variables(containers(tf, "rest-api-test-worker")[0]).OTEL_SERVICE_NAME).toBe("rest-api-test-worker");
    expect(containers(tf, "rest-api-test-nightly").map((c) => c.name)).toEqual(["app"]);
    expect(rolePolicy(tf, "rest-api-test-worker-task", "Traces").Statement[0].Action).toContain("xray:PutTraceSegments");
  });

  test("the share traced reaches the app: tracing.sampleRatio is its OTEL_TRACES_SAMPLER_ARG", () => {
    const tf = synth(traced({ tracing: { enabled: true, sampleRatio: 0.05 } }));
    expect(variables(containers(tf, "rest-api-test")[0]).OTEL_TRACES_SAMPLER_ARG).toBe("0.05");
  });

  describe("refusals name the setting, its value and what is allowed", () => {
    test("a collector that leaves the app too little CPU", () => {
      expect(() => synth(traced({ task: { cpu: 256, memory: 512 }, tracing: { enabled: true, collectorCpu: 200 } }))).toThrow(
        /^Invalid setting tracing\.collectorCpu = 200: the collector sidecar runs inside each traced task, and task\.cpu is 256: 200 leaves the app less than 128\. Allowed: at most 128 \(task\.cpu less 128 for the app\), or a larger task\.cpu\.$/,
      );
    });

    test("a collector that, with the scratch tmpfs, leaves the app too little memory: the sum is checked", () => {
      expect(() => synth(traced({ task: { cpu: 256, memory: 512, scratchSizeMib: 128 }, tracing: { enabled: true, collectorMemoryMib: 192 } }))).toThrow(
        /^Invalid setting tracing\.collectorMemoryMib = 192: the collector sidecar runs inside each traced task, and task\.memory is 512: with task\.scratchSizeMib \(128\) it leaves the app less than 256 MiB\. Allowed: at most 128 \(task\.memory less task\.scratchSizeMib and 256 for the app\), or a larger task\.memory\.$/,
      );
      // the same sizes fit with a smaller scratch
      expect(() => synth(traced({ task: { cpu: 256, memory: 512, scratchSizeMib: 64 }, tracing: { enabled: true, collectorMemoryMib: 192 } }))).not.toThrow();
    });

    test("a worker's task is held to it too, named by its path", () => {
      expect(() =>
        synth(traced({ services: { worker: { queue: {}, task: { cpu: 256, memory: 512 } } }, tracing: { enabled: true, collectorMemoryMib: 256 } })),
      ).toThrow(
        /^Invalid setting tracing\.collectorMemoryMib = 256: the collector sidecar runs inside each traced task, and services\.worker\.task\.memory is 512/,
      );
    });

    test("an OTEL_ variable of the user's while the stack sets it", () => {
      expect(() => synth(traced({ task: { environment: { APP_ENV: "test", OTEL_SERVICE_NAME: "mine" } } }))).toThrow(
        /^Invalid setting task\.environment\.OTEL_SERVICE_NAME = "mine": the stack sets this variable itself when tracing\.enabled is true\. Allowed: another name, or tracing\.enabled false\.$/,
      );
    });

    test("a value of the wrong kind", () => {
      expect(() => synth(env({ tracing: { enabled: "yes" as unknown as boolean } }))).toThrow(/^Invalid setting tracing\.enabled = "yes"/);
      expect(() => synth(env({ tracing: { enabled: true, collectorCpu: 8 } }))).toThrow(/^Invalid setting tracing\.collectorCpu = 8: .*Allowed: .*32/);
      expect(() => synth(env({ tracing: { enabled: true, sampleRatio: 5 } }))).toThrow(
        /^Invalid setting tracing\.sampleRatio = 5: not a share from 0 to 1\. Allowed: a number from 0 \(none\) to 1 \(every request\)\.$/,
      );
    });
  });
});
