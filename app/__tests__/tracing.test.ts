import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { APP_DIR, RunningApi, databaseEnv } from "../harness/api";
import { createPglite, type TestDatabase } from "../harness/database";
import { OtlpReceiver, type ReceivedSpan } from "./support/otlp";
import { AWS_ENV, eventually, RunningWorker, Sqs } from "./support/worker";

/**
 * Traces end to end, from the bundles the image runs: the API (dist/server.mjs) and the worker
 * (dist/worker.mjs) export OTLP/HTTP JSON to a receiver in this process, as they do to the collector sidecar
 * in a task. One create makes one trace: the API's request, its queries, the SQS send, and the worker's
 * processing of that message with its queries. With tracing off, the OpenTelemetry SDK is never loaded.
 */
jest.setTimeout(120_000);

const skip = ["1", "true"].includes(process.env.SKIP_EMULATOR_TESTS ?? "");

// OTLP's SpanKind
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

const DIST = path.join(APP_DIR, "dist");

/** A hook (node:module registerHooks) that writes every module the process loads into a file: what tracing off loads. */
function loadRecorder(dir: string): { env: Record<string, string>; loaded: () => string[] } {
  const file = path.join(dir, "loaded.txt");
  const hook = path.join(dir, "record-loads.mjs");
  writeFileSync(file, "");
  writeFileSync(
    hook,
    `import { registerHooks } from "node:module";\nimport { appendFileSync } from "node:fs";\n` +
      `registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(file)}, url + "\\n"); return next(url, context); } });\n`,
  );
  return { env: { NODE_OPTIONS: `--import=${hook}` }, loaded: () => readFileSync(file, "utf8").split("\n").filter(Boolean) };
}

describe("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createPglite();
    dir = mkdtempSync(path.join(tmpdir(), "notes-tracing-"));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the API's and the worker's bundles hold no OpenTelemetry code: the SDK is dist/tracing.mjs, imported only behind the switch", () => {
    for (const entry of ["server.mjs", "worker.mjs"]) {
      const bundle = readFileSync(path.join(DIST, entry), "utf8");
      expect([entry, bundle.includes("@opentelemetry"), bundle.match(/tracing\.mjs/g)?.length]).toEqual([entry, false, 1]);
    }
    expect(readFileSync(path.join(DIST, "tracing.mjs"), "utf8")).toContain("@opentelemetry/sdk-trace");
  });

  it("an API serving requests never loads it, and its log lines carry no trace fields", async () => {
    const recorder = loadRecorder(dir);
    const api = await RunningApi.start({ ...databaseEnv(db), ...recorder.env });
    try {
      const res = await api.json("POST", "/notes", { title: "untraced", body: "no spans" });
      expect(res.status).toBe(201);
      expect((await api.fetch("/notes?limit=1")).status).toBe(200);
    } finally {
      await api.stop();
    }
    const loaded = recorder.loaded();
    expect(loaded.some((url) => url.endsWith("/dist/server.mjs"))).toBe(true);
    expect(loaded.filter((url) => /tracing|opentelemetry/.test(url))).toEqual([]);
    expect(api.logs.filter((l) => "trace_id" in l || "span_id" in l)).toEqual([]);
  });
});

describe("tracing on, with a collector that takes connections and never answers", () => {
  let db: TestDatabase;
  let silent: net.Server;
  let endpoint: string;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    db = await createPglite();
    // What a hung sidecar looks like from the app: the connection opens, no answer ever comes.
    silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await db?.drop();
  });

  it("a stop still ends in its own time (exit 0), its flush given up after the bound, not forced out by the grace timer", async () => {
    const api = await RunningApi.start({
      ...databaseEnv(db),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: "hung-collector",
      DRAIN_TIMEOUT_MS: "0",
    });
    expect((await api.json("POST", "/notes", { title: "buffered", body: "never sent" })).status).toBe(201);
    // A flush waiting on the collector would hold the stop until close-with-grace gives up and exits 1.
    expect(await api.stop()).toBe(0);
    expect(api.logs.map((line) => line.msg)).toContain("stopped");
  });
});

(skip ? describe.skip : describe)("tracing on: one trace from the API's request to the worker's queries", () => {
  let db: TestDatabase;
  let sqs: Sqs;
  let receiver: OtlpReceiver;
  let api: RunningApi;
  let worker: RunningWorker;
  let queueUrl: string;
  let dir: string;
  let loaded: () => string[];

  beforeAll(async () => {
    [db, sqs, receiver] = await Promise.all([createPglite(), Sqs.start(), OtlpReceiver.start()]);
    dir = mkdtempSync(path.join(tmpdir(), "notes-tracing-"));
    ({ url: queueUrl } = await sqs.queue("traced-notes", { visibilityTimeoutSeconds: 5, maxReceiveCount: 3 }));
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
    const recorder = loadRecorder(dir);
    loaded = recorder.loaded;
    api = await RunningApi.start({ ...databaseEnv(db), ...AWS_ENV, ...tracing, ...recorder.env, WORKER_QUEUE_URL: queueUrl });
    worker = await RunningWorker.start({
      ...databaseEnv(db),
      ...tracing,
      QUEUE_URL: queueUrl,
      QUEUE_WAIT_SECONDS: "1",
      RETRY_DELAY_SECONDS: "0",
      SHUTDOWN_TIMEOUT_MS: "1000",
    });
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.kill("SIGTERM")]);
    await Promise.all([sqs?.stop(), receiver?.stop(), db?.drop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const serverSpanOf = (requestId: string) => receiver.spans.find((s) => s.kind === SERVER && s.attributes["notes.request_id"] === requestId);
  const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((s) => s.parentSpanId === parent.spanId);

  it("a create the worker counts is one trace: the route's span, its queries, the SQS send, the worker's processing and its queries", async () => {
    const res = await api.json("POST", "/notes", { title: "traced", body: "one two three" }, { "x-request-id": "trace-me-1" });
    expect(res.status).toBe(201);
    const note = (await res.json()) as { id: string };
    await eventually(async () => (await db.query("SELECT word_count FROM notes WHERE id = $1", [note.id])).rows[0]?.word_count ?? undefined);

    // The worker's spans are exported when its batch is sent (every 5 s): wait for the whole trace.
    const server = await eventually(async () => serverSpanOf("trace-me-1"), 20_000, "the API's server span");
    const spans = await eventually(
      async () => {
        const all = receiver.trace(server.traceId);
        const process = all.find((s) => s.kind === CONSUMER);
        return process && all.some((s) => s.parentSpanId === process.spanId && s.attributes["db.operation.name"] === "UPDATE") ? all : undefined;
      },
      30_000,
      "the worker's spans in the API's trace",
    );
    expect(receiver.refused).toEqual([]);

    // the API: POST /notes, its INSERT, and the send to the worker's queue, all children of the request
    expect(server).toMatchObject({ service: "notes-api", name: "POST /notes", parentSpanId: undefined });
    expect(server.attributes).toMatchObject({ "http.route": "/notes", "http.response.status_code": 201 });
    const apiChildren = childrenOf(spans, server);
    expect(
      apiChildren.filter((s) => s.kind === CLIENT && s.attributes["db.system.name"] === "postgresql").map((s) => s.attributes["db.operation.name"]),
    ).toContain("INSERT");
    const send = apiChildren.find((s) => s.kind === PRODUCER);
    expect(send).toMatchObject({ service: "notes-api", name: "SQS.SendMessage", attributes: { "messaging.destination.name": "traced-notes" } });

    // the worker: processing the message as a child of the send, its transaction's queries children of that
    const process = spans.find((s) => s.kind === CONSUMER)!;
    expect(process).toMatchObject({ service: "notes-worker", name: "process traced-notes", parentSpanId: send!.spanId });
    const workerQueries = childrenOf(spans, process).filter((s) => s.attributes["db.system.name"] === "postgresql");
    expect(workerQueries.map((s) => s.attributes["db.operation.name"])).toEqual(["BEGIN", "INSERT", "SELECT", "UPDATE", "COMMIT"]);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([server.traceId]));

    // The trace id is X-Ray's kind: its first 8 hex digits are the start time in seconds.
    expect(Math.abs(parseInt(server.traceId.slice(0, 8), 16) - Date.now() / 1000)).toBeLessThan(120);

    // Every log line of the request carries its request id and the trace; the worker's lines for the message the same trace.
    const requestLines = api.logs.filter((l) => l.requestId === "trace-me-1");
    expect(requestLines.map((l) => l.msg)).toEqual(expect.arrayContaining(["incoming request", "request completed"]));
    for (const line of requestLines) expect(line).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
    const stored = worker.logs.find((l) => l.msg === "word count stored" && l.noteId === note.id);
    expect(stored).toMatchObject({ trace_id: server.traceId, span_id: process.spanId });
    expect(worker.logs.find((l) => l.msg === "message handled" && l.messageId === stored!.messageId)).toMatchObject({ trace_id: server.traceId });

    // The SDK was loaded from its own bundle, beside the API's.
    expect(loaded().filter((url) => url.endsWith("/dist/tracing.mjs"))).toHaveLength(1);
  });

  it("honours the load balancer's X-Amzn-Trace-Id (a Root only) and a caller's W3C traceparent", async () => {
    const root = `${Math.floor(Date.now() / 1000).toString(16)}${"0123456789abcdef01234567"}`;
    await api.fetch(`/notes/${"00000000-0000-4000-8000-000000000000"}`, {
      headers: { "x-amzn-trace-id": `Root=1-${root.slice(0, 8)}-${root.slice(8)}`, "x-request-id": "trace-me-alb" },
    });
    const fromAlb = await eventually(async () => serverSpanOf("trace-me-alb"), 20_000, "the span of the load balancer's request");
    expect(fromAlb).toMatchObject({ traceId: root, name: "GET /notes/:id", parentSpanId: undefined, attributes: { "http.response.status_code": 404 } });

    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await api.fetch("/notes?limit=1", { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "x-request-id": "trace-me-w3c" } });
    const fromCaller = await eventually(async () => serverSpanOf("trace-me-w3c"), 20_000, "the span of the traced caller's request");
    expect(fromCaller).toMatchObject({ traceId, parentSpanId: "00f067aa0ba902b7" });
    expect(receiver.trace(traceId).some((s) => s.parentSpanId === fromCaller.spanId && s.attributes["db.operation.name"] === "SELECT")).toBe(true);
  });

  it("records the configured share of new traces (OTEL_TRACES_SAMPLER_ARG), and always follows a sampled caller", async () => {
    const none = await RunningApi.start({ ...databaseEnv(db), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER_ARG: "0" });
    try {
      await none.fetch("/notes?limit=1", { headers: { "x-request-id": "trace-me-never" } });
      const traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
      await none.fetch("/notes?limit=1", { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "x-request-id": "trace-me-followed" } });
      expect(await eventually(async () => serverSpanOf("trace-me-followed"), 20_000, "the followed caller's span")).toMatchObject({ traceId });
    } finally {
      await none.stop(); // flushes what it recorded
    }
    expect(serverSpanOf("trace-me-never")).toBeUndefined();
  });

  it("the health checks make no traces", async () => {
    expect((await api.fetch("/health")).status).toBe(200);
    expect((await api.fetch("/ready")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.spans.filter((s) => s.attributes["url.path"] === "/health" || s.attributes["url.path"] === "/ready")).toEqual([]);
  });
});
