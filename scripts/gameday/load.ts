/**
 * Steady load through the load balancer with autocannon, bounded in count and rate, loopback only.
 * Every request is accounted for: answered (by status), failed on the socket, or timed out; each
 * failure keeps its time and the target that answered it (HAProxy's X-Target), and every write the
 * API acknowledged (201) keeps its id, to be found in the database afterwards.
 */
import autocannon from "autocannon";

export interface Failure {
  readonly at: number;
  /** The HTTP status, or "error" for a socket error or timeout. */
  readonly status: number | "error";
  /** The load balancer's target that answered, when one did. */
  readonly target?: string;
  readonly retryAfter?: string;
}

export interface LoadResult {
  readonly sent: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly timeouts: number;
  readonly failures: readonly Failure[];
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
  readonly connections?: number;
  /** A note that exists, for the reads. */
  readonly noteId: string;
}

function lower(headers: unknown): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries((headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/** Runs the load; `during` runs beside it (the fault), and the load continues until its amount is sent. */
export async function underLoad<T>(options: LoadOptions, during: (elapsed: () => number) => Promise<T>): Promise<{ load: LoadResult; outcome: T }> {
  const failures: Failure[] = [];
  const acknowledged: string[] = [];
  let writes = 0;
  const startedAt = Date.now();
  const observe = (status: number, headers: Record<string, string | undefined>) => {
    if (status < 200 || status >= 400) failures.push({ at: Date.now(), status, target: headers["x-target"], retryAfter: headers["retry-after"] });
  };
  let finish!: (result: autocannon.Result) => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections ?? 8,
      overallRate: options.rate,
      amount: options.amount,
      timeout: 10,
      requests: [
        {
          method: "POST",
          path: "/notes",
          headers: { "content-type": "application/json" },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ title: `game day ${writes++}`, body: "written under load" }) }),
          onResponse: (status, body, _context, headers) => {
            observe(status, lower(headers));
            if (status === 201) acknowledged.push((JSON.parse(body) as { id: string }).id);
          },
        },
        { method: "GET", path: `/notes/${options.noteId}`, onResponse: (status, _body, _context, headers) => observe(status, lower(headers)) },
        { method: "GET", path: "/notes?limit=5", onResponse: (status, _body, _context, headers) => observe(status, lower(headers)) },
      ],
    },
    (error, result) => (error ? fail(error) : finish(result)),
  );
  instance.on("reqError", () => failures.push({ at: Date.now(), status: "error" }));
  const outcome = await during(() => Date.now() - startedAt);
  const result = await done;
  const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, (stat as { count: number }).count]));
  return {
    load: {
      sent: (result as unknown as { totalRequests?: number }).totalRequests ?? result.requests.sent,
      byStatus,
      errors: result.errors,
      timeouts: result.timeouts,
      failures,
      acknowledged,
      p50: result.latency.p50,
      p99: result.latency.p99,
      startedAt,
      finishedAt: Date.now(),
    },
    outcome,
  };
}
