/**
 * The game day's load accounts for every request: against servers that count what they did with each
 * one (answered, closed the connection without an answer, reset it, never answered), the load's own
 * counts come out the same, and behind HAProxy a request whose connection the load balancer shut
 * carries the target it went to, from HAProxy's log. Run against the autocannon load this replaced,
 * the first test fails: its closed and reset requests were counted nowhere.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { LoadBalancer } from "../../scripts/gameday/haproxy";
import { accountingProblems, failureKind, underLoad, type LoadResult } from "../../scripts/gameday/load";

interface Tally {
  received: number;
  answered: number;
  errors: number;
  closed: number;
  reset: number;
  hung: number;
}

/** A server that, by the request's place in arrival order, answers, answers 503, closes (FIN), resets (RST) or never answers; and counts each. */
async function faultyServer(fault: (n: number) => "answer" | "503" | "close" | "reset" | "hang") {
  const tally: Tally = { received: 0, answered: 0, errors: 0, closed: 0, reset: 0, hung: 0 };
  /** The request ids it received: the stand-in for the load balancer's log of which target had each. */
  const seen = new Set<string>();
  const hanging = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (req.url === "/health") {
      res.end("ok");
      return;
    }
    const n = ++tally.received;
    seen.add(String(req.headers["x-request-id"]));
    req.resume();
    req.on("end", () => {
      const what = fault(n);
      if (what === "answer") {
        tally.answered++;
        res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" }).end(JSON.stringify({ id: `note-${n}` }));
      } else if (what === "503") {
        tally.answered++;
        tally.errors++;
        res.writeHead(503, { "retry-after": "1" }).end();
      } else if (what === "close") {
        tally.closed++;
        req.socket.end();
      } else if (what === "reset") {
        tally.reset++;
        req.socket.resetAndDestroy();
      } else {
        tally.hung++;
        hanging.add(req.socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    tally,
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const socket of hanging) socket.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const kinds = (load: LoadResult) => {
  const count: Record<string, number> = {};
  for (const f of load.failures) count[String(f.status)] = (count[String(f.status)] ?? 0) + 1;
  return count;
};

test("each request is answered or failed once: closed without an answer, reset and timed out are counted with their time, as the server counted them", async () => {
  const server = await faultyServer((n) => (n % 17 === 0 ? "hang" : n % 11 === 0 ? "reset" : n % 7 === 0 ? "close" : n % 5 === 0 ? "503" : "answer"));
  try {
    const { load } = await underLoad(
      {
        url: server.url,
        rate: 400,
        amount: 240,
        connections: 8,
        timeoutMs: 400,
        noteId: "n",
        targetOf: (id) => (server.seen.has(id) ? "the server" : undefined),
      },
      async () => undefined,
    );
    const { tally } = server;
    expect(tally.received).toBe(240);
    expect(tally.closed + tally.reset + tally.hung).toBeGreaterThan(40);
    expect({ sent: load.sent, answered: load.answered, ...kinds(load) }).toEqual({
      sent: tally.received,
      answered: tally.answered,
      "503": tally.errors,
      closed: tally.closed,
      reset: tally.reset,
      timeout: tally.hung,
    });
    expect(load.byStatus).toMatchObject({ closed: tally.closed, reset: tally.reset, timeout: tally.hung, "503": tally.errors });
    expect(accountingProblems(load)).toEqual([]);
    for (const f of load.failures) {
      expect(f.at).toBeGreaterThanOrEqual(load.startedAt);
      expect(f.at).toBeLessThanOrEqual(load.finishedAt);
      expect(f.request).toMatch(/^(GET|POST) \/notes/);
      // A failure with no answer carries the target the log names (here the server's own record).
      if (typeof f.status !== "number") expect(f.target).toBe("the server");
    }
    // Acknowledged writes are the 201s only: never an answer matched to another request.
    expect(load.acknowledged.length).toBe(load.byStatus["201"]);
  } finally {
    await server.close();
  }
});

test("any difference fails the load: sent against answered and failed, the counts by status, the load balancer's own count", () => {
  const fine: LoadResult = {
    planned: 4,
    sent: 4,
    answered: 3,
    byStatus: { "200": 2, "503": 1, closed: 1 },
    failures: [
      { at: 1, status: 503, request: "GET /notes", id: "a", retryAfter: "5" },
      { at: 2, status: "closed", request: "GET /notes", id: "b" },
    ],
    unsettled: 0,
    logged: 4,
    acknowledged: [],
    p50: 1,
    p99: 1,
    startedAt: 0,
    finishedAt: 3,
  };
  expect(accountingProblems(fine)).toEqual([]);
  // A request closed without an answer and counted nowhere: autocannon's silent reconnection.
  expect(accountingProblems({ ...fine, byStatus: { "200": 2, "503": 1 }, failures: fine.failures.slice(0, 1) })).toEqual([
    "requests unaccounted for: 4 sent ≠ 3 answered + 0 failed without an answer (0 never settled)",
    "the counts by status add up to 3, not the 4 requests sent",
  ]);
  expect(accountingProblems({ ...fine, logged: 5 })).toEqual(["the load balancer logged 5 requests of the load, which sent 4"]);
  expect(accountingProblems({ ...fine, planned: 5 })).toEqual(["5 requests planned, 4 sent"]);
});

test.each([
  [{ message: "socket hang up", code: "ECONNRESET" }, "closed"],
  [{ message: "aborted", code: "ECONNRESET" }, "closed"],
  [{ message: "read ECONNRESET", code: "ECONNRESET" }, "reset"],
  [{ message: "write EPIPE", code: "EPIPE" }, "reset"],
  [{ message: "no answer", code: "ETIMEDOUT" }, "timeout"],
  [{ message: "connect ECONNREFUSED", code: "ECONNREFUSED" }, "error"],
])("Node's %p is a request %s", (error, kind) => {
  expect(failureKind(Object.assign(new Error(error.message), { code: error.code }))).toBe(kind);
});

const skip = ["1", "true"].includes(process.env.SKIP_GAMEDAY ?? "");

(skip ? describe.skip : describe)("behind HAProxy", () => {
  test("requests in flight when the load balancer shuts the target's sessions fail, each with that target, and HAProxy logged as many as were sent", async () => {
    // Every fourth of the first 40 requests hangs at the target, until the load balancer lets go of it.
    const server = await faultyServer((n) => (n % 4 === 0 && n <= 40 ? "hang" : "answer"));
    const time = { ms: (seconds: number) => Math.round(seconds * 50) };
    const lb = await LoadBalancer.start(
      // Checks every 1.5 s with a 1 s timeout, 10 misses to fail (ALB's most): on 2 busy cores (the rest of npm test
      // beside it) a starved check must not mark the one target down, which turns the test's requests into 503 <NOSRV>.
      { path: "/health", matcher: "200", intervalSeconds: 30, timeoutSeconds: 20, healthyThreshold: 2, unhealthyThreshold: 10, deregistrationDelaySeconds: 0 },
      60,
      await freePort(),
      time,
    );
    try {
      await lb.register("t1", server.port);
      const deadline = Date.now() + 10_000;
      while ((await lb.state("t1")) !== "healthy") {
        if (Date.now() > deadline) throw new Error("the target never became healthy");
        await new Promise((r) => setTimeout(r, 20));
      }
      const target = lb.targetName("t1")!;
      const { load } = await underLoad(
        {
          url: lb.url,
          rate: 200,
          amount: 80,
          connections: 16,
          timeoutMs: 5000,
          noteId: "n",
          targetOf: (id) => lb.targetOf(id),
          loggedBy: (prefix) => lb.loggedIds(prefix),
        },
        async () => {
          await new Promise((r) => setTimeout(r, 600));
          // What the end of a deregistration delay does to the requests still on the target.
          await lb.command(`shutdown sessions server targets/${target}`);
        },
      );
      // HAProxy answers 502 for a request it killed, or closes its connection unanswered: either way a failure with the target.
      expect(load.failures).toHaveLength(server.tally.hung);
      expect(load.failures.filter((f) => f.target !== target || !/^K/.test(lb.logged(f.id)?.termination ?? ""))).toEqual([]);
      expect(load.logged).toBe(load.sent);
      expect(load.sent).toBe(server.tally.received);
      expect(accountingProblems(load)).toEqual([]);
    } finally {
      await lb.stop();
      await server.close();
    }
  }, 30_000);
});

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}
