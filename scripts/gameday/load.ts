/**
 * Steady load through the load balancer, bounded in count and rate, loopback only, and every request
 * accounted for: each one sent is answered (by status) or failed, exactly once. A failure is an error
 * status, a connection closed without an answer (FIN), a reset (RST) or no answer within the timeout;
 * each keeps its time and the load balancer's target it went to (HAProxy's X-Target on an answer, its
 * log line by request id when there was none), and every write the API acknowledged (201) keeps its
 * id, to be found in the database afterwards.
 *
 * Not autocannon: it reconnects silently when a connection ends with a request on it, so that request
 * is neither answered nor an error, and the next answer on the connection is matched to it; and its
 * totalRequests counts each connection's rate where it means the connection's first request (with
 * `overallRate` 100 on 8 connections, 92 requests too many). __tests__/gameday/load.test.ts shows both.
 */
import http from "node:http";

/** How a request failed: its HTTP status, or no answer at all. */
export type FailureKind = "closed" | "reset" | "timeout" | "error";

export interface Failure {
  readonly at: number;
  /** The HTTP status; `closed`: the connection ended (FIN) with no answer; `reset`: RST; `timeout`: no answer in time; `error`: any other socket error. */
  readonly status: number | FailureKind;
  /** The load balancer's target it went to, when it went to one. */
  readonly target?: string;
  readonly retryAfter?: string;
  /** The request, as `METHOD path`, and its X-Request-Id (the load balancer's log names it). */
  readonly request: string;
  readonly id: string;
  /** The socket error's code or message, for a failure without an answer. */
  readonly detail?: string;
}

export interface LoadResult {
  /** Requests the load planned to send. */
  readonly planned: number;
  /** Requests written to a connection (each given to the HTTP client). */
  readonly sent: number;
  /** Requests answered with a complete response, of any status. */
  readonly answered: number;
  /** Answers by status, and failures without an answer by kind. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Every request that failed: an error status or no answer. */
  readonly failures: readonly Failure[];
  /** Requests sent that neither an answer nor a failure settled (the accounting's remainder; 0 unless the harness is broken). */
  readonly unsettled: number;
  /** Requests of this load the load balancer logged, when it was asked. */
  readonly logged?: number;
  /** Requests sent that the load balancer did not log, with how each ended here (the first few). */
  readonly unlogged?: readonly string[];
  /** Ids of the notes the API answered 201 for. */
  readonly acknowledged: readonly string[];
  readonly p50: number;
  readonly p99: number;
  readonly startedAt: number;
  readonly finishedAt: number;
}

export interface LoadOptions {
  readonly url: string;
  /** Requests per second, all connections together. */
  readonly rate: number;
  /** Requests in all: the load stops by itself after about amount / rate seconds. */
  readonly amount: number;
  /** Requests in flight at most; requests beyond wait for a connection, their wait counted in their latency. @default 8 */
  readonly connections?: number;
  /** A request with no answer by then fails as `timeout`. @default 10000 */
  readonly timeoutMs?: number;
  /** A note that exists, for the reads. */
  readonly noteId: string;
  /** The seed of the arrival times. @default 1 */
  readonly seed?: number;
  /** The target a request went to, by its X-Request-Id, from the load balancer's log; for failures with no answer to carry it. */
  readonly targetOf?: (requestId: string) => string | undefined;
  /**
   * Requests the load balancer logged with ids of this load's prefix: a count kept on the other side of the
   * connection, which must come to the requests sent (a request lost before it or counted twice by the client shows).
   */
  readonly loggedBy?: (idPrefix: string) => ReadonlySet<string>;
}

interface Planned {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
}

/** The mix: a create, a read of one note, a read of a page, in turn. */
function plan(i: number, noteId: string): Planned {
  switch (i % 3) {
    case 0:
      return { method: "POST", path: "/notes", body: JSON.stringify({ title: `game day ${i}`, body: "written under load" }) };
    case 1:
      return { method: "GET", path: `/notes/${noteId}` };
    default:
      return { method: "GET", path: "/notes?limit=5" };
  }
}

/** A socket error as a failure kind: Node says "socket hang up" when the connection ended before an answer. */
export function failureKind(error: NodeJS.ErrnoException): FailureKind {
  if (error.message === "socket hang up" || error.code === "ECONNABORTED" || error.message === "aborted") return "closed";
  if (error.code === "ECONNRESET" || error.code === "EPIPE") return "reset";
  if (error.code === "ETIMEDOUT") return "timeout";
  return "error";
}

/** mulberry32: a small seeded generator, numbers in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0;

let loads = 0;

/** Runs the load; `during` runs beside it (the fault), and the load continues until its amount is sent and settled. */
export async function underLoad<T>(options: LoadOptions, during: (elapsed: () => number) => Promise<T>): Promise<{ load: LoadResult; outcome: T }> {
  const url = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const prefix = `gd-${process.pid}-${++loads}-`;
  // A connection per request to the load balancer (Connection: close; its connections to the targets stay
  // keep-alive): HAProxy 2.6 writes no log line for a request it kills on a reused client connection, so
  // such a failure would lose its target (tried: 10 killed, 1 logged). The client side's keep-alive is not the stack's to prove.
  const agent = new http.Agent({ keepAlive: false, maxSockets: options.connections ?? 8, scheduling: "fifo" });
  const failures: Failure[] = [];
  const acknowledged: string[] = [];
  const byStatus: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let answered = 0;
  let settledCount = 0;
  /** How each request ended, by its id. */
  const outcomes = new Map<string, string>();
  const startedAt = Date.now();
  const settledAll: Promise<void>[] = [];

  const send = (i: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const { method, path, body } = plan(i, options.noteId);
      const id = `${prefix}${i}`;
      const issued = Date.now();
      let settled = false;
      const settle = (outcome: { status: number; headers?: http.IncomingHttpHeaders; body?: string } | { error: NodeJS.ErrnoException }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        settledCount++;
        const at = Date.now();
        outcomes.set(id, `${method} ${path} ${"error" in outcome ? (outcome.error.code ?? outcome.error.message) : outcome.status} after ${at - issued} ms`);
        if ("error" in outcome) {
          const kind = failureKind(outcome.error);
          byStatus[kind] = (byStatus[kind] ?? 0) + 1;
          failures.push({ at, status: kind, request: `${method} ${path}`, id, detail: outcome.error.code ?? outcome.error.message });
        } else {
          answered++;
          latencies.push(at - issued);
          byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
          const target = outcome.headers?.["x-target"] as string | undefined;
          if (outcome.status < 200 || outcome.status >= 400)
            failures.push({
              at,
              status: outcome.status,
              target,
              retryAfter: outcome.headers?.["retry-after"] as string | undefined,
              request: `${method} ${path}`,
              id,
            });
          else if (outcome.status === 201 && method === "POST") acknowledged.push((JSON.parse(outcome.body!) as { id: string }).id);
        }
        resolve();
      };
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          agent,
          headers: { "x-request-id": id, ...(body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          // An answer cut off mid-body is no answer: the connection closed under it.
          const cut = () => settle({ error: Object.assign(new Error("aborted"), { code: "ECONNABORTED" }) });
          res.on("error", cut);
          res.on("end", () => (res.complete ? settle({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }) : cut()));
          res.on("close", () => res.complete || cut());
        },
      );
      const timer = setTimeout(() => {
        settle({ error: Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" }) });
        req.destroy();
      }, timeoutMs);
      req.on("error", (error) => settle({ error }));
      sent++;
      req.end(body);
    });

  // Requests go out at the rate on average, whatever the answers do, arriving as independent clients do
  // (a Poisson process: exponential gaps, from a fixed seed so runs compare). Evenly spaced requests never
  // overlap at this rate, so a task's pool would hold one connection forever: no client load looks like that.
  const random = seeded(options.seed ?? 1);
  const schedule: number[] = [];
  for (let i = 0, t = 0; i < options.amount; i++, t += (-Math.log(1 - random()) * 1000) / options.rate) schedule.push(t);
  let next = 0;
  const ticker = setInterval(() => {
    const elapsed = Date.now() - startedAt;
    while (next < options.amount && schedule[next] <= elapsed) settledAll.push(send(next++));
    if (next >= options.amount) clearInterval(ticker);
  }, 2);
  try {
    const outcome = await during(() => Date.now() - startedAt);
    while (next < options.amount) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(settledAll);
    // A request that failed without an answer carries the target the load balancer logged for it; its line may trail the failure.
    if (options.targetOf) {
      const deadline = Date.now() + 2000;
      const lookup = () => failures.map((f) => (f.target === undefined ? { ...f, target: options.targetOf!(f.id) } : f));
      let resolved = lookup();
      while (resolved.some((f) => f.target === undefined) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        resolved = lookup();
      }
      failures.splice(0, failures.length, ...resolved);
    }
    let logged: number | undefined;
    let unlogged: string[] | undefined;
    if (options.loggedBy) {
      const deadline = Date.now() + 2000;
      let ids = options.loggedBy(prefix);
      while (ids.size !== sent && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        ids = options.loggedBy(prefix);
      }
      logged = ids.size;
      unlogged = [...outcomes]
        .filter(([id]) => !ids.has(id))
        .slice(0, 5)
        .map(([id, outcome]) => `${id} (${outcome})`);
    }
    latencies.sort((a, b) => a - b);
    return {
      load: {
        planned: options.amount,
        sent,
        answered,
        byStatus,
        failures: failures.sort((a, b) => a.at - b.at),
        unsettled: sent - settledCount,
        logged,
        unlogged,
        acknowledged,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        startedAt,
        finishedAt: Date.now(),
      },
      outcome,
    };
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
}

/**
 * What the harness requires of every load: each request planned was sent, and each sent was answered
 * or failed, once; the counts by status add up to the same. Any difference is a problem of the scenario.
 */
export function accountingProblems(load: LoadResult): string[] {
  const problems: string[] = [];
  const failedWithoutAnswer = load.failures.filter((f) => typeof f.status !== "number").length;
  const counted = Object.values(load.byStatus).reduce((a, b) => a + b, 0);
  if (load.sent !== load.planned) problems.push(`${load.planned} requests planned, ${load.sent} sent`);
  if (load.sent !== load.answered + failedWithoutAnswer || load.unsettled !== 0)
    problems.push(
      `requests unaccounted for: ${load.sent} sent ≠ ${load.answered} answered + ${failedWithoutAnswer} failed without an answer (${load.unsettled} never settled)`,
    );
  if (counted !== load.sent) problems.push(`the counts by status add up to ${counted}, not the ${load.sent} requests sent`);
  if (load.logged !== undefined && load.logged !== load.sent)
    problems.push(
      `the load balancer logged ${load.logged} requests of the load, which sent ${load.sent}${load.unlogged?.length ? `; not logged: ${load.unlogged.join(", ")}` : ""}`,
    );
  return problems;
}
