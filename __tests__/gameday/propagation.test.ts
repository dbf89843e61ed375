/**
 * The game day's load balancer lags as an ALB's nodes do (scripts/gameday/haproxy.ts): for the propagation
 * delay after the target group marks a target unhealthy, or after the target is deregistered, new requests
 * still reach it. A drain shorter than detection + that delay loses requests here, as on AWS.
 */
import http from "node:http";
import { LoadBalancer } from "../../scripts/gameday/haproxy";
import { ALB_PROPAGATION_SECONDS } from "../../scripts/gameday/time";
import { freePort } from "../../app/harness/api";

const skip = ["1", "true"].includes(process.env.SKIP_GAMEDAY ?? "");
const time = { ms: (seconds: number) => Math.round(seconds * 1000 * 0.1) };
const targetGroup = {
  path: "/health",
  matcher: "200",
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  deregistrationDelaySeconds: 30,
};

/** A target answering its name, its health check 503 once `sick`. */
async function target(name: string): Promise<{ port: number; sick: boolean; close(): void }> {
  const t = { port: 0, sick: false, close: () => server.close() };
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === "/health" && t.sick ? 503 : 200;
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.port = (server.address() as { port: number }).port;
  return t;
}

/** Requests every 20 ms for `ms` or until `done`; the time (from `from`) of the last one each target answered. */
async function traffic(lb: LoadBalancer, ms: number, from: number, done: () => boolean = () => false): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  while (Date.now() - from < ms && !done()) {
    const res = await fetch(`${lb.url}/`, { headers: { connection: "close" } });
    last.set(await res.text(), Date.now() - from);
    await new Promise((r) => setTimeout(r, 20));
  }
  return last;
}

(skip ? describe.skip : describe)("the load balancer's propagation delay, behind HAProxy", () => {
  jest.setTimeout(60_000);
  const delayMs = time.ms(ALB_PROPAGATION_SECONDS);

  test("a target marked unhealthy keeps getting requests for the delay, reported unhealthy all along; a deregistered one for the delay, then none", async () => {
    const [a, b] = [await target("a"), await target("b")];
    const lb = await LoadBalancer.start(targetGroup, 60, await freePort(), time);
    try {
      await lb.register("a", a.port);
      await lb.register("b", b.port);
      const deadline = Date.now() + 15_000;
      while ([...(await lb.states()).values()].some((s) => s !== "healthy") || (await lb.states()).size < 2) {
        if (Date.now() > deadline) throw new Error("the targets never became healthy");
        await new Promise((r) => setTimeout(r, 50));
      }

      a.sick = true;
      const sickAt = Date.now();
      let reportedAt = 0;
      const watching = (async () => {
        while (!reportedAt && Date.now() - sickAt < 8_000) {
          if ((await lb.state("a")) === "unhealthy") reportedAt = Date.now() - sickAt;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const last = await traffic(lb, 8_000, sickAt, () => reportedAt > 0 && Date.now() - sickAt > reportedAt + delayMs + 700);
      await watching;
      expect(reportedAt).toBeGreaterThan(0);
      // Up to the watcher's poll short of the delay, and not much past it.
      expect(last.get("a")!).toBeGreaterThanOrEqual(reportedAt + delayMs - 150);
      expect(last.get("a")!).toBeLessThan(reportedAt + delayMs + 500);
      expect(await lb.state("a")).toBe("unhealthy");

      const deregisterAt = Date.now();
      const leaving = lb.deregister("b", time.ms(targetGroup.deregistrationDelaySeconds));
      a.sick = false;
      const lastB = (await traffic(lb, delayMs + 1_500, deregisterAt)).get("b")!;
      await leaving;
      expect(lastB).toBeGreaterThanOrEqual(delayMs - 100);
      expect(lastB).toBeLessThan(delayMs + 300);
    } finally {
      await lb.stop();
      a.close();
      b.close();
    }
  });
});
