/**
 * Time scaled as one (scripts/gameday/time.ts): every duration the app reads is scaled with the
 * synthesized ones, and a scale that would reorder two of them, or give the app a value it refuses, is
 * refused before anything starts.
 */
import { readSpec } from "../../scripts/gameday/stack";
import { checkOrder, durations, durationVariables, reorders, scaleEnvironment, ScaleRefused } from "../../scripts/gameday/time";
import { haproxyConfig } from "../../scripts/gameday/haproxy";
import { environments } from "../../environments/environments";
import { resourcePrefix } from "../../lib/settings/environment/settings";
import { synth } from "../support/helpers";

const settings = environments.find((e) => e.name === "prod")!;
// The game day runs prod's tasks against its database: a fork whose prod has none has no game day to scale.
const hasDatabase = settings.database?.enabled !== false;
const spec = hasDatabase ? readSpec("prod", synth(settings), resourcePrefix(settings)) : undefined!;
if (!hasDatabase) global.test.skip("prod has no database in this fork, so no game day runs and nothing is scaled", () => undefined);
const test = hasDatabase ? global.test : global.test.skip;

test("every duration variable of the app is scaled: its ConfigSchema's _MS and _SECONDS variables, the new database ones among them", () => {
  expect(durationVariables()).toEqual(
    expect.arrayContaining([
      "DB_CONNECT_TIMEOUT_MS",
      "DB_STATEMENT_TIMEOUT_MS",
      "DB_QUERY_TIMEOUT_MS",
      "DB_KEEPALIVE_MS",
      "DB_POOL_IDLE_TIMEOUT_MS",
      "RETRY_AFTER_SECONDS",
      "DRAIN_TIMEOUT_MS",
      "DRAIN_QUIET_MS",
      "SHUTDOWN_TIMEOUT_MS",
      "KEEP_ALIVE_TIMEOUT_MS",
      "MIGRATION_TIMEOUT_MS",
    ]),
  );
  const scaled = scaleEnvironment(spec.task.environment, 0.2);
  // The task's values where it sets them, the app's defaults where it does not; other variables untouched.
  expect(scaled).toMatchObject({
    DRAIN_TIMEOUT_MS: String(Number(spec.task.environment.DRAIN_TIMEOUT_MS) * 0.2),
    MIGRATION_TIMEOUT_MS: String(Number(spec.task.environment.MIGRATION_TIMEOUT_MS) * 0.2),
    DB_CONNECT_TIMEOUT_MS: "600",
    DB_STATEMENT_TIMEOUT_MS: "2000",
    DB_QUERY_TIMEOUT_MS: "2200",
    DB_KEEPALIVE_MS: "2000",
    DB_POOL_IDLE_TIMEOUT_MS: "6000",
    RETRY_AFTER_SECONDS: "1",
    DB_NAME: spec.task.environment.DB_NAME,
  });
});

test("at the default scale every duration is prod's × 0.2 and none changes place: the query timeout ends before the stop timeout, as in prod", () => {
  const list = checkOrder(spec, 0.2);
  for (const d of list) expect({ name: d.name, ms: d.scaledMs }).toEqual({ name: d.name, ms: Math.round(d.prodMs * 0.2) });
  const ms = (name: string) => list.find((d) => d.name === name)!.scaledMs;
  expect(ms("DB_QUERY_TIMEOUT_MS")).toBeLessThan(ms("the task's stop timeout"));
  expect(ms("RETRY_AFTER_SECONDS")).toBe(1000);
});

test("the harness as it was (the database's timeouts unscaled) is refused: the 11 s query timeout would outlive the 9 s stop timeout", () => {
  const old = durations(spec, 0.2).map((d) => (d.name.startsWith("DB_") || d.name === "RETRY_AFTER_SECONDS" ? { ...d, scaledMs: d.prodMs } : d));
  expect(reorders(old, 0.2)).toContain(
    "DB_QUERY_TIMEOUT_MS (11 s in prod) is shorter than the task's stop timeout (45 s) in prod, but at time scale 0.2 would be 11 s against 9 s",
  );
});

test("a scale at which Retry-After's whole seconds would no longer be shorter than the health check interval is refused, naming both and the scale", () => {
  expect(() => checkOrder(spec, 0.1)).toThrow(ScaleRefused);
  expect(() => checkOrder(spec, 0.1)).toThrow(
    "RETRY_AFTER_SECONDS (5 s in prod) is shorter than the target group's health check interval (10 s) in prod, but at time scale 0.1 would be 1 s against 1 s",
  );
});

test("a scale giving the app a value it refuses is refused, naming the variable", () => {
  expect(() => checkOrder(spec, 0.01)).toThrow(/time scale 0\.01: \w+ would be \d+ \(\d+ in prod\), which the app refuses \(below \d+\)/);
});

test("the load balancer's connect timeout is scaled too", () => {
  const cfg = haproxyConfig(spec.targetGroup, spec.idleTimeoutSeconds, 8080, "/tmp/s.sock", { ms: (s) => Math.round(s * 200) });
  expect(cfg).toContain("timeout connect 2000ms");
});
