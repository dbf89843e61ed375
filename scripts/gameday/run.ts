/**
 * The game day: an environment's synthesized task definition run as ECS runs it, behind HAProxy
 * configured as its load balancer, on PostgreSQL with the login in the emulator's Secrets Manager,
 * under steady load, through the faults of a production week. See docs/gameday.md.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { onCleanup, Reporter } from "../../cli/cli.cjs";
import { startEmulator, type Emulator } from "../../emulator/server";
import { EcsService } from "./ecs";
import { LoadBalancer, type Timing } from "./haproxy";
import { buildApp, readImageConfig, StagedImage } from "./image";
import { accountingProblems, underLoad, type LoadResult } from "./load";
import { Postgres } from "./postgres";
import { readSpec, synthesize, type GamedaySpec, type InitContainerSpec } from "./stack";
import { Task } from "./task";
import { ALB_PROPAGATION_SECONDS, checkOrder, scaleEnvironment } from "./time";
import { breakageSpec, type Breakage } from "./breakages";
import { FaultProxy } from "./fault-proxy";
import { MEMORY_HOOK, MEMORY_HOOK_PATH, OUT_OF_MEMORY } from "./memory";
import { SecretsProxy } from "./secrets-proxy";
import { migrationFiles, migrationLock, migrationOverBudget, release, rollingDeploy } from "./migrations";
import { WORKER_SCENARIOS, type WorkerHost } from "./worker";
import { ALB_BODY_INSPECTION_LIMIT_BYTES, evaluateWebAcl } from "./waf";
import { BODY_MAX } from "../../app/src/notes";
import { freePort } from "../../app/harness/api";

/** Synthesized durations are multiplied by this (ratios kept), so a week's faults fit in minutes. */
export const DEFAULT_TIME_SCALE = 0.2;
/** How long an RDS Multi-AZ failover leaves connections silent: "failovers typically complete within 60–120 seconds" (RDS User Guide, Multi-AZ DB instance deployments); the shorter end, scaled. */
const FAILOVER_SILENT_SECONDS = 60;

export type { Breakage } from "./breakages";

export interface GamedayOptions {
  readonly environment: string;
  /** Scenario names to run; all by default. */
  readonly only?: readonly string[];
  readonly timeScale?: number;
  /** Requests per second of the steady load. */
  readonly rate?: number;
  /** Run a deliberately broken API, to prove the harness catches it (breakages.ts: each names the scenario it must fail). */
  readonly breakage?: Breakage;
  readonly log?: (line: string) => void;
  /** A line per step as it happens (synth, servers, each scenario). @default none: silent */
  readonly reporter?: Reporter;
}

export interface ScenarioResult {
  readonly name: string;
  readonly proves: string;
  readonly load?: LoadResult;
  /** The fault's start to the last failed request, or to the service back at its desired count. */
  readonly recoveryMs?: number;
  readonly problems: string[];
  readonly notes: string[];
}

export interface GamedayReport {
  readonly environment: string;
  readonly timeScale: number;
  readonly tasks: number;
  readonly scenarios: readonly ScenarioResult[];
  readonly lostWrites: number;
  readonly seconds: number;
  readonly logDir: string;
  readonly passed: boolean;
}

interface Context {
  readonly spec: GamedaySpec;
  readonly time: Timing;
  readonly service: EcsService;
  readonly lb: LoadBalancer;
  readonly db: Postgres;
  /** Between the tasks and the database: the failover's silence. */
  readonly proxy: FaultProxy;
  /** The app's durations as the stack sets them (else the app's defaults), scaled: what a scenario expects, whatever a broken variant runs with. */
  readonly durations: Readonly<Record<string, string>>;
  readonly secrets: SecretsManagerClient;
  readonly secretArn: string;
  /** Between the app containers and Secrets Manager: the outage's silence, and every call the tasks make. */
  readonly secretsProxy: SecretsProxy;
  /** The app's own login, in a secret of its own (the stand-in for its IAM token's source); none when the app logs in as the master user. */
  readonly appLogin?: { readonly secretArn: string; readonly username: string };
  readonly stage: (tag: string) => StagedImage;
  /** `connections`: requests in flight at most (8 by default); `perSecond`: the rate, if not the run's. */
  readonly load: <T>(
    seconds: number,
    during: (elapsed: () => number) => Promise<T>,
    connections?: number,
    perSecond?: number,
  ) => Promise<{ load: LoadResult; outcome: T }>;
  readonly noteId: string;
  /** Requests per second of the load. */
  readonly rate: number;
  /** The worker, its queue and its job (worker.ts), made by the first worker scenario. */
  readonly workers: WorkerHost;
}

interface Scenario {
  readonly name: string;
  readonly proves: string;
  run(ctx: Context): Promise<Omit<ScenarioResult, "name" | "proves">>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failed = (load: LoadResult) => load.failures.length;
const rate = (ctx: Context) => ctx.rate;

/** The failures of a load, by status, for a problem line. */
function describeFailures(load: LoadResult): string {
  const counts = new Map<string, number>();
  for (const f of load.failures)
    counts.set(`${f.status}${f.target ? ` from ${f.target}` : ""}`, (counts.get(`${f.status}${f.target ? ` from ${f.target}` : ""}`) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(", ");
}

/**
 * What every database outage must show (the restart, the failover), appended to `problems`: each failure a 503
 * with Retry-After, none later than `late.boundMs` after the database answered again, no task replaced.
 * Returns when the last failure was (the database's return if none came later).
 */
function outageProblems(
  ctx: Context,
  load: LoadResult,
  before: readonly string[],
  upAt: number,
  late: { readonly boundMs: number; readonly after: string },
  problems: string[],
): number {
  const other = load.failures.filter((f) => f.status !== 503 || !f.retryAfter);
  if (other.length) problems.push(`${other.length} failures other than 503 with Retry-After: ${describeFailures({ ...load, failures: other })}`);
  const tooLate = load.failures.filter((f) => f.at - upAt > late.boundMs);
  if (tooLate.length) problems.push(`${tooLate.length} failures more than ${late.boundMs} ms ${late.after}`);
  const after = ctx.service.running().map((t) => t.id);
  if (after.join() !== before.join()) problems.push(`tasks were replaced: ${before.join(", ")} → ${after.join(", ")}`);
  return Math.max(upAt, ...load.failures.map((f) => f.at));
}

function noFailures(load: LoadResult, problems: string[]): void {
  if (failed(load)) problems.push(`${failed(load)} failed requests (${describeFailures(load)}); expected none`);
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "steady",
    proves: "the harness itself: N tasks behind the load balancer answer every request",
    async run(ctx) {
      const { load } = await ctx.load(5, async () => undefined);
      const problems: string[] = [];
      noFailures(load, problems);
      return { load, problems, notes: [] };
    },
  },
  {
    name: "rolling deploy",
    proves:
      "v1 → v2 in ECS's order (start up to maximum percent, wait healthy, deregister, drain, SIGTERM) loses no request, while v2's expand migration runs under v1's load; every acknowledged write reads back",
    run: (ctx) => rollingDeploy(ctx, releaseHelpers(ctx)),
  },
  {
    name: "spot interruption",
    proves: "SIGTERM while still registered: the task fails its health check, serves until the load balancer lets go, exits 0",
    async run(ctx) {
      const victim = ctx.service.healthy()[0];
      const { load } = await ctx.load(stopSeconds(ctx.spec) + startSeconds(ctx.spec) + 4, async (elapsed) => {
        await sleep(1000);
        await ctx.service.interrupt(victim);
        await ctx.service.steady();
        return elapsed();
      });
      const problems: string[] = [];
      noFailures(load, problems);
      if (victim.exitCode !== 0) problems.push(`the interrupted task exited ${victim.exitCode}, not 0 (killed at its stop timeout?)`);
      return { load, problems, notes: [`the interrupted task exited ${victim.exitCode}`] };
    },
  },
  {
    name: "task killed",
    proves: "SIGKILL: only requests sent to that task fail, until its health checks take it out and every load balancer node acts on it; ECS replaces it",
    async run(ctx) {
      const victim = ctx.service.healthy()[0];
      const target = ctx.lb.targetName(victim.id)!;
      const tg = ctx.spec.targetGroup;
      // The load balancer sees it dead within unhealthyThreshold checks (one interval apart), each up to its timeout,
      // and its last node stops sending to it the propagation delay later.
      const window = ctx.time.ms(tg.unhealthyThreshold * tg.intervalSeconds + tg.timeoutSeconds + ALB_PROPAGATION_SECONDS) + 1000;
      let killedAt = 0;
      const { load } = await ctx.load(window / 1000 + startSeconds(ctx.spec) + 4, async () => {
        await sleep(1000);
        killedAt = Date.now();
        await ctx.service.killTask(victim);
        await ctx.service.steady();
      });
      const problems: string[] = [];
      const foreign = load.failures.filter((f) => f.target !== target);
      if (foreign.length)
        problems.push(`${foreign.length} failed requests did not go to the killed task (${target}): ${describeFailures({ ...load, failures: foreign })}`);
      const late = load.failures.filter((f) => f.at - killedAt > window);
      if (late.length) problems.push(`${late.length} failed requests came more than ${window} ms after the kill, past the health checks' window`);
      const last = Math.max(killedAt, ...load.failures.map((f) => f.at));
      return { load, recoveryMs: last - killedAt, problems, notes: [`${failed(load)} requests in flight to or routed to ${target} before it was taken out`] };
    },
  },
  {
    name: "task out of memory",
    proves:
      "a request makes one task allocate past the task definition's memory: it is stopped as ECS stops it (exit 137, OutOfMemoryError), only requests sent to it fail, within the task-killed window; ECS replaces it",
    async run(ctx) {
      const tg = ctx.spec.targetGroup;
      // As for a task killed: its health checks take it out, then every load balancer node acts on it.
      const window = ctx.time.ms(tg.unhealthyThreshold * tg.intervalSeconds + tg.timeoutSeconds + ALB_PROPAGATION_SECONDS) + 1000;
      const before = ctx.service.running();
      // Each task's target, while all are registered (a stopped one leaves the load balancer).
      const targets = new Map(before.map((t) => [t, ctx.lb.targetName(t.id)]));
      let stopped: typeof before = [];
      let sentAt = 0;
      let hookStatus = 0;
      const { load } = await ctx.load(window / 1000 + startSeconds(ctx.spec) + 4, async () => {
        await sleep(1000);
        sentAt = Date.now();
        // One request, routed by the load balancer to one task like any other; its task never answers it.
        const hook = fetch(`${ctx.lb.url}${MEMORY_HOOK_PATH}`, { headers: { connection: "close" } }).then(
          async (res) => (await res.arrayBuffer(), res.status),
          () => 0,
        );
        const deadline = Date.now() + 30_000;
        while (!(stopped = before.filter((t) => t.status === "STOPPED")).length && Date.now() < deadline) await sleep(20);
        hookStatus = await hook;
        await ctx.service.steady();
      });
      const problems: string[] = [];
      const victim = stopped[0];
      if (!victim) return { load, problems: [`no task stopped within 30 s of the request to ${MEMORY_HOOK_PATH}`], notes: [] };
      const killedAt = victim.stoppedAt!;
      const target = targets.get(victim)!;
      const others = before.filter((t) => t !== victim && t.status === "STOPPED");
      if (others.length) problems.push(`other tasks stopped too: ${others.map((t) => `${t.id} (${t.stopReason})`).join(", ")}`);
      if (victim.exitCode !== 137 || victim.stopReason !== OUT_OF_MEMORY)
        problems.push(`${victim.id} stopped with exit ${victim.exitCode} (${victim.stopReason}), not 137 (${OUT_OF_MEMORY})`);
      const foreign = load.failures.filter((f) => f.target !== target);
      if (foreign.length)
        problems.push(
          `${foreign.length} failed requests did not go to the task out of memory (${target}): ${describeFailures({ ...load, failures: foreign })}`,
        );
      const late = load.failures.filter((f) => f.at - killedAt > window);
      if (late.length) problems.push(`${late.length} failed requests came more than ${window} ms after the task stopped, past the health checks' window`);
      const last = Math.max(killedAt, ...load.failures.map((f) => f.at));
      return {
        load,
        recoveryMs: last - killedAt,
        problems,
        notes: [
          `${victim.id} stopped ${killedAt - sentAt} ms after the request, exit ${victim.exitCode}: ${victim.stopReason} (its ${victim.memory?.bytes ? victim.memory.bytes / 2 ** 20 : "?"} MiB enforced by ${victim.memory?.kind ?? "nothing"}); the request itself answered ${hookStatus || "nothing"}`,
          `${failed(load)} requests in flight to or routed to ${target} before it was taken out`,
        ],
      };
    },
  },
  rotationScenario("database first"),
  rotationScenario("secret first"),
  {
    name: "database restart",
    proves: "PostgreSQL down and back: only 503 with Retry-After meanwhile, then recovery without replacing a task",
    async run(ctx) {
      const before = ctx.service.running().map((t) => t.id);
      const tg = ctx.spec.targetGroup;
      const window = ctx.time.ms(tg.unhealthyThreshold * tg.intervalSeconds + tg.timeoutSeconds) + 1000;
      let downAt = 0;
      let upAt = 0;
      const { load } = await ctx.load(10, async () => {
        await sleep(1500);
        downAt = Date.now();
        await ctx.db.restart(2000);
        upAt = Date.now();
      });
      const problems: string[] = [];
      const last = outageProblems(ctx, load, before, upAt, { boundMs: window, after: "after the database was back" }, problems);
      return {
        load,
        recoveryMs: last - upAt,
        problems,
        notes: [`down ${upAt - downAt} ms; ${failed(load)} requests answered 503 with Retry-After; no task replaced`],
      };
    },
  },
  {
    name: "database failover",
    proves:
      "an RDS Multi-AZ failover: every connection silent (no FIN, no RST) for a minute, then new ones reach the new primary while the old stay silent: every failure a 503 with Retry-After, none after the pool's idle timeout plus the query timeout, no task replaced",
    async run(ctx) {
      const before = ctx.service.running().map((t) => t.id);
      const silentMs = ctx.time.ms(FAILOVER_SILENT_SECONDS);
      const queryMs = Number(ctx.durations.DB_QUERY_TIMEOUT_MS);
      const idleMs = Number(ctx.durations.DB_POOL_IDLE_TIMEOUT_MS);
      // A stale pooled connection is used at the latest just before the pool closes it as idle, and fails a query timeout later.
      const bound = idleMs + queryMs + 1000;
      let downAt = 0;
      let upAt = 0;
      const warm: number[] = [];
      // Clients do not queue behind one another's hung requests: as many in flight as arrive within a query timeout, and more.
      const connections = Math.ceil((2 * rate(ctx) * queryMs) / 1000);
      const { load } = await ctx.load(
        silentMs / 1000 + bound / 1000 + 2,
        async () => {
          await sleep(1500);
          // Pools as full as a busy hour leaves them, so the silence catches many idle connections, not the one or two steady load keeps;
          // in steps of 5, as load grows, since logins cost CPU that the time scale does not shorten (30, then 10-20-30, at once outran
          // the 600 ms connect timeout here after the restart had emptied the pools).
          for (let n = 5; n <= 30; n += 5) {
            warm.push(...(await concurrentReads(ctx, n)));
            await sleep(200);
          }
          downAt = Date.now();
          ctx.proxy.blackhole();
          await sleep(silentMs);
          upAt = Date.now();
          ctx.proxy.restore();
        },
        connections,
      );
      const problems: string[] = [];
      if (!failed(load)) problems.push("no request failed: the silence never reached the app");
      const cold = warm.filter((status) => status !== 200);
      if (cold.length) problems.push(`${cold.length} of ${warm.length} concurrent reads before the failover failed (${cold.join(", ")})`);
      const last = outageProblems(
        ctx,
        load,
        before,
        upAt,
        { boundMs: bound, after: `(pool idle ${idleMs} + query timeout ${queryMs} + 1000) after the database answered again` },
        problems,
      );
      return {
        load,
        recoveryMs: last - upAt,
        problems,
        notes: [
          `silent ${upAt - downAt} ms; ${failed(load)} requests answered 503 with Retry-After; the last ${last - upAt} ms after the database answered again (bound ${bound} ms); no task replaced`,
        ],
      };
    },
  },
  {
    name: "Secrets Manager outage",
    proves:
      "Secrets Manager silent (no answer) for longer than the login's cache, logins made all along: each task keeps serving on its last good login, tries a refresh once its cache expired and gives it up within DB_SECRET_TIMEOUT_MS, no login waits on it; once it answers again, each task reads it, and a rotation after it is picked up",
    async run(ctx) {
      if (!ctx.appLogin) return { problems: [], notes: ["the app logs in as the master user through ECS secrets: no secret of its own to read"] };
      const cacheMs = Number(ctx.durations.DB_SECRET_CACHE_MS);
      const timeoutMs = Number(ctx.durations.DB_SECRET_TIMEOUT_MS);
      const retryMs = Number(ctx.durations.DB_SECRET_RETRY_MS);
      // New logins come from bursts of reads beyond what the pools keep, one each time the pools' idle connections have closed
      // (no session is ended by hand: one ended as a query is handed to it would fail a request the outage did not).
      const spacingMs = Number(ctx.durations.DB_POOL_IDLE_TIMEOUT_MS) + 500;
      // After it: the longest backoff a failed read leaves (60 × DB_SECRET_RETRY_MS, credentials.ts), a burst's spacing, a read.
      const pickupBoundMs = 60 * retryMs + spacingMs + timeoutMs + 1000;
      const appLogin = ctx.appLogin;
      const proxy = ctx.secretsProxy;
      const before = ctx.service.running();
      const ids = before.map((t) => t.id);
      // Each task's cache expires DB_SECRET_CACHE_MS after its last read (the proxy saw every one; a task with none seen counts
      // from now). The outage lasts past the last of those expiries by a burst and a read's timeout, so every task's cache is
      // expired inside it (or already was, with no read since) and a login then tries its refresh; and two bursts at least.
      const plannedSilentAt = Date.now() + 1000;
      const expiries = ids.map((id) => Math.max(0, ...proxy.calls.filter((c) => c.task === id && c.status === 200).map((c) => c.at)) + cacheMs);
      const outageMs = Math.max(
        2 * spacingMs,
        Math.max(...expiries.map((e) => (e > cacheMs ? e : plannedSilentAt + cacheMs))) - plannedSilentAt + spacingMs + timeoutMs + 1000,
      );
      let newSessions = 0;
      let silentAt = 0;
      let restoredAt = 0;
      let pickedUpAt = 0;
      let rotatedAt = 0;
      let secretAt = 0;
      let logins = 0;
      const during: { status: number; ms: number }[] = [];
      let after: { status: number; ms: number }[] = [];
      const answeredSince = (since: number) => new Set(proxy.calls.filter((c) => !c.held && c.at >= since && c.status === 200).map((c) => c.task));
      const picked = () => ids.every((id) => answeredSince(restoredAt).has(id));
      const { load } = await ctx.load(
        // The load covers the outage, a burst after it and the rotation; a longer pickup (a broken build's) runs on without it.
        (outageMs + spacingMs) / 1000 + 6,
        async () => {
          await sleep(1000);
          silentAt = Date.now();
          proxy.silence();
          const connections = ctx.proxy.counts.connections;
          while (Date.now() - silentAt < outageMs) {
            const burstAt = Date.now();
            during.push(...(await timedReads(ctx, 12)));
            await sleep(Math.max(0, burstAt + spacingMs - Date.now()));
          }
          logins = ctx.proxy.counts.connections - connections;
          restoredAt = Date.now();
          proxy.restore();
          // Each task reads the secret again once its backoff allows and a login asks for it.
          while (Date.now() - restoredAt < pickupBoundMs && !picked()) {
            const burstAt = Date.now();
            await timedReads(ctx, 12);
            while (Date.now() < burstAt + spacingMs && !picked()) await sleep(100);
          }
          pickedUpAt = Date.now();
          // The new secret after the outage: a rotation in RDS's order, back to back, then new logins on it.
          rotatedAt = Date.now();
          const password = `app-rotated-${randomUUID()}`;
          await ctx.db.setPassword(appLogin.username, password);
          await ctx.secrets.send(
            new PutSecretValueCommand({ SecretId: appLogin.secretArn, SecretString: JSON.stringify({ username: appLogin.username, password }) }),
          );
          secretAt = Date.now();
          // Every connection a new one, as in the rotation scenarios: idle sessions ended twice, then reads beyond what the pools hold.
          await ctx.db.dropIdleSessions(appLogin.username);
          await sleep(2500);
          await ctx.db.dropIdleSessions(appLogin.username);
          after = await timedReads(ctx, 30);
          const { rows } = await ctx.db.sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND backend_start > $2", [
            appLogin.username,
            new Date(secretAt),
          ]);
          newSessions = rows[0].n;
        },
        undefined,
        40,
      );
      const problems: string[] = [];
      const early = load.failures.filter((f) => f.at < rotatedAt);
      if (early.length)
        problems.push(`${early.length} requests failed before the rotation (${describeFailures({ ...load, failures: early })}): the outage reached the app`);
      const rotation = load.failures.filter((f) => f.at >= rotatedAt);
      const windowEnd = secretAt + retryMs + 1000;
      const badRotation = rotation.filter((f) => f.status !== 503 || !f.retryAfter || f.at > windowEnd);
      if (badRotation.length)
        problems.push(
          `${badRotation.length} requests failed after the outage's rotation other than 503 with Retry-After in its window (${describeFailures({ ...load, failures: badRotation })})`,
        );
      const duringFailed = during.filter((r) => r.status !== 200);
      if (duringFailed.length)
        problems.push(`${duringFailed.length} of ${during.length} reads at once during the outage failed (${duringFailed.map((r) => r.status).join(", ")})`);
      const slow = during.filter((r) => r.ms >= timeoutMs);
      if (slow.length)
        problems.push(
          `${slow.length} of ${during.length} reads at once during the outage took DB_SECRET_TIMEOUT_MS (${timeoutMs} ms) or more: they waited on a hung read`,
        );
      const held = proxy.calls.filter((c) => c.held && c.at >= silentAt && c.at < restoredAt && ids.includes(c.task));
      const expiredIn = new Set(held.map((c) => c.task));
      const neverTried = ids.filter((id) => !expiredIn.has(id));
      if (neverTried.length) problems.push(`${neverTried.join(", ")} never read the secret during the outage: its cache did not expire inside it`);
      const end = Date.now();
      const hung = held.filter((c) => (c.endedAt ?? end) - c.at > timeoutMs + 500);
      if (hung.length)
        problems.push(
          `${hung.length} of ${held.length} reads during the outage were not given up within DB_SECRET_TIMEOUT_MS (${timeoutMs} ms + 500): ${hung
            .slice(0, 3)
            .map((c) => `${c.task} ${c.endedAt ? `after ${c.endedAt - c.at} ms` : "never"}`)
            .join(", ")}`,
        );
      const readAfter = answeredSince(restoredAt);
      const stale = ids.filter((id) => !readAfter.has(id));
      if (stale.length) problems.push(`${stale.join(", ")} did not read the secret within ${pickupBoundMs} ms of Secrets Manager answering again`);
      const afterFailed = after.filter((r) => r.status !== 200);
      if (afterFailed.length)
        problems.push(
          `${afterFailed.length} of ${after.length} reads at once after the outage's rotation failed (${afterFailed.map((r) => r.status).join(", ")})`,
        );
      if (newSessions === 0) problems.push("no task logged in with the rotated login after the outage");
      const after2 = ctx.service.running().map((t) => t.id);
      if (after2.join() !== ids.join()) problems.push(`tasks were replaced: ${ids.join(", ")} → ${after2.join(", ")}`);
      const gaveUp = held.filter((c) => c.endedAt).map((c) => c.endedAt! - c.at);
      return {
        load,
        recoveryMs: pickedUpAt - restoredAt,
        problems,
        notes: [
          `silent ${restoredAt - silentAt} ms; the tasks' caches (${cacheMs} ms) expired ${expiries.map((e) => (e > cacheMs ? `${e - silentAt}` : "?")).join(", ")} ms into it; ${held.length} reads held (${[...expiredIn].map((id) => `${id} ${held.filter((c) => c.task === id).length}`).join(", ")}), each given up after ${gaveUp.length ? `${Math.min(...gaveUp)}–${Math.max(...gaveUp)}` : "-"} ms (DB_SECRET_TIMEOUT_MS ${timeoutMs})`,
          `${logins} new connections to the database during it; ${during.length} reads at once beside the load: ${duringFailed.length} failed, the slowest ${Math.max(0, ...during.map((r) => r.ms))} ms`,
          `${stale.length ? `${stale.length} of ${ids.length} tasks never read the secret again, stopped waiting` : "every task read the secret"} ${pickedUpAt - restoredAt} ms after it answered again (bound ${pickupBoundMs} ms); after the rotation that followed, ${after.length - afterFailed.length} of ${after.length} reads at once served, ${rotation.length} requests failed in its window`,
        ],
      };
    },
  },
  {
    name: "migration lock",
    proves:
      "tasks starting together while a slow migration holds the lock queue on it (pg_locks), end after its release, one applies v3's contract and the others wait for it (timestamps); nothing fails; every acknowledged write reads back",
    run: (ctx) => migrationLock(ctx, releaseHelpers(ctx)),
  },
  {
    name: "migration over budget",
    proves:
      "a migration past MIGRATION_TIMEOUT_MS stops the new tasks within the grace period with the budget's line; the circuit breaker rolls back; v4's migration is not applied; nothing fails",
    run: (ctx) => migrationOverBudget(ctx, releaseHelpers(ctx)),
  },
  {
    name: "request sizes vs WAF",
    proves: "each body the API accepts, the synthesized web ACL (its own rules, evaluated) lets through, and each it refuses, the web ACL refuses too",
    async run(ctx) {
      const acl = ctx.spec.webAcl;
      if (!acl) return { problems: [], notes: ["no web ACL in this environment: nothing to agree with"] };
      const problems: string[] = [];
      const notes: string[] = [];
      for (const probe of sizeProbes()) {
        const body = JSON.stringify(probe.body);
        const headers = { "content-type": "application/json", "user-agent": PROBE_USER_AGENT };
        const res = await fetch(`${ctx.lb.url}/notes`, { method: "POST", headers, body });
        await res.arrayBuffer();
        const apiAccepts = res.status === 201;
        // The request as the load balancer receives it on AWS: addressed to its name, not to this machine's loopback.
        const waf = evaluateWebAcl(acl.resource, { method: "POST", uri: "/notes", headers: { ...headers, host: PROBE_HOST }, body });
        const verdict = `${waf.action}${waf.terminatingRule ? ` (${waf.terminatingRule})` : ""}${waf.counted.length ? `, counted ${waf.counted.join(", ")}` : ""}`;
        if (apiAccepts !== (waf.action === "allow")) problems.push(`${probe.name}: the API answered ${res.status}, the web ACL would ${verdict}`);
        notes.push(`${probe.name}: API ${res.status}, WAF ${verdict}`);
      }
      return { problems, notes };
    },
  },
  ...WORKER_SCENARIOS,
];

/**
 * How long RDS's rotation leaves between its two steps (the password set in the database, the secret's AWSCURRENT moved):
 * AWS gives no figure, so the harness's own, scaled; long enough that logins land inside it.
 */
const ROTATION_WINDOW_SECONDS = 10;

/**
 * A rotation of the master user's and the app's own logins in one order or the other, with new logins inside the window
 * between its steps and after it. In RDS's order (the database first) a login inside the window is refused whatever the app
 * does (its secret still holds the old password): a 503 with Retry-After, which a client retries; in the reverse order the
 * app keeps logging in with what it last read until PostgreSQL refuses it. Either way nothing fails once both steps are done.
 */
function rotationScenario(order: "database first" | "secret first"): Scenario {
  return {
    name: order === "database first" ? "secret rotation" : "secret rotation in reverse",
    proves:
      order === "database first"
        ? "as RDS rotates: ALTER ROLE … PASSWORD of the master user and of the app's own login, their secrets a window later, new logins inside the window and after: only 503s with Retry-After inside it (the secret still holds the old password), none once the secret moved (a refused login reads it again); never the master user; the old passwords refused; the next tasks' migrate containers read the new password"
        : "the reverse order: the secrets first, ALTER ROLE … PASSWORD a window later, new logins inside the window and after: the app keeps logging in with the login it last read until PostgreSQL refuses it, then reads the new one; only 503s with Retry-After inside the window, none after; the old passwords refused",
    async run(ctx) {
      const { username, appUsername } = ctx.spec.database;
      // The app's sessions: its own role's, or (a stack whose app still logs in as the master user) the master's.
      const appLogin = appUsername ?? username;
      const windowMs = ctx.time.ms(ROTATION_WINDOW_SECONDS);
      const retryMs = Number(ctx.durations.DB_SECRET_RETRY_MS);
      const passwordIn = async (arn: string) =>
        JSON.parse((await ctx.secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!).password as string;
      const old = await passwordIn(ctx.secretArn);
      const appOld = ctx.appLogin && (await passwordIn(ctx.appLogin.secretArn));
      const rotated = `rotated-${randomUUID()}`;
      const appRotated = `app-rotated-${randomUUID()}`;
      // The app's own login the same way (on AWS its IAM token expires instead).
      const database = async () => {
        await ctx.db.setPassword(username, rotated);
        if (ctx.appLogin) await ctx.db.setPassword(ctx.appLogin.username, appRotated);
      };
      const secrets = async () => {
        await ctx.secrets.send(new PutSecretValueCommand({ SecretId: ctx.secretArn, SecretString: JSON.stringify({ username, password: rotated }) }));
        if (ctx.appLogin)
          await ctx.secrets.send(
            new PutSecretValueCommand({
              SecretId: ctx.appLogin.secretArn,
              SecretString: JSON.stringify({ username: ctx.appLogin.username, password: appRotated }),
            }),
          );
      };
      const [first, second] = order === "database first" ? [database, secrets] : [secrets, database];
      let dropped = 0;
      let inWindow: number[] = [];
      let windowLogins = 0;
      let burst: number[] = [];
      let firstAt = 0;
      let secondAt = 0;
      const { load } = await ctx.load(windowMs / 1000 + 8, async () => {
        await sleep(500);
        // The pools emptied of idle sessions first (a scenario before may have filled them), so the window's reads need new connections.
        dropped += await ctx.db.dropIdleSessions(appLogin);
        await sleep(1000);
        firstAt = Date.now();
        await first();
        // Logins inside the window: reads at once beyond what the pools hold, so each task opens new connections (no session is
        // ended here: one ended as a query is handed to it would fail a request the rotation did not).
        const connections = ctx.proxy.counts.connections;
        inWindow = await concurrentReads(ctx, 30);
        windowLogins = ctx.proxy.counts.connections - connections;
        await sleep(Math.max(0, firstAt + windowMs - Date.now()));
        secondAt = Date.now();
        await second();
        dropped += await ctx.db.dropIdleSessions(appLogin);
        // And again later, as the pool's idle timeout would: every connection now is a new one.
        await sleep(2500);
        dropped += await ctx.db.dropIdleSessions(appLogin);
        // A burst beyond the connections the pools hold, so each task logs in anew (steady load alone may never need one).
        burst = await concurrentReads(ctx, 30);
      });
      const problems: string[] = [];
      // Inside the window, a login the database refuses is a 503 a client retries; once the secret moved, a refused login
      // reads it again (at most DB_SECRET_RETRY_MS after the read before), so none fails after that.
      const windowEnd = secondAt + retryMs + 1000;
      const outside = load.failures.filter((f) => f.status !== 503 || !f.retryAfter || f.at < firstAt || f.at > windowEnd);
      if (outside.length)
        problems.push(
          `${outside.length} failed requests outside the rotation's window or other than 503 with Retry-After (${describeFailures({ ...load, failures: outside })}); expected none`,
        );
      const windowOther = inWindow.filter((status) => status !== 200 && status !== 503);
      if (windowOther.length)
        problems.push(`${windowOther.length} of ${inWindow.length} concurrent reads inside the window failed other than 503 (${windowOther.join(", ")})`);
      if (windowLogins === 0) problems.push("no new connection to the database inside the window, so no login was made in it");
      const refused = burst.filter((status) => status !== 200);
      if (refused.length) problems.push(`${refused.length} of ${burst.length} concurrent reads after the rotation failed (${refused.join(", ")})`);
      const { rows } = await ctx.db.sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND backend_start > $2", [
        appLogin,
        new Date(secondAt),
      ]);
      if (rows[0].n === 0) problems.push("no task logged in after the rotation, so new connections were not proven");
      if (appUsername) {
        const master = await ctx.db.sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE 'notes-api-%'", [
          username,
        ]);
        if (master.rows[0].n) problems.push(`${master.rows[0].n} sessions of the app log in as the master user`);
      }
      if (await loginWorks(ctx, username, old)) problems.push("the old password still logs in: the rotation did not happen");
      if (ctx.appLogin && (!appOld || (await loginWorks(ctx, ctx.appLogin.username, appOld))))
        problems.push("the app's old login still works: its rotation did not happen");
      const windowFailed = load.failures.filter((f) => f.at >= firstAt && f.at <= windowEnd).length;
      return {
        load,
        problems,
        notes: [
          `${order}, ${secondAt - firstAt} ms apart: inside the window ${windowLogins} new connections to the database, ${inWindow.filter((s) => s === 200).length} of ${inWindow.length} concurrent reads served (${inWindow.filter((s) => s === 503).length} × 503) and ${windowFailed} requests of the load failed (503 with Retry-After)`,
          `${dropped} idle sessions of ${appLogin} ended; ${rows[0].n} new sessions logged in after the rotation; the old master password${ctx.appLogin ? " and the app's old login are" : " is"} refused`,
          ...(appUsername && order === "database first"
            ? [`no app session logs in as the master user; tasks started later (migration lock) migrate with the rotated password`]
            : []),
        ],
      };
    },
  };
}

/** `n` reads of the seed note at once, beside the load; each one's status and time. */
async function timedReads(ctx: Context, n: number): Promise<{ status: number; ms: number }[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const start = Date.now();
      const res = await fetch(`${ctx.lb.url}/notes/${ctx.noteId}`, { headers: { connection: "close" } }).catch(() => undefined);
      await res?.arrayBuffer();
      return { status: res?.status ?? 0, ms: Date.now() - start };
    }),
  );
}

/** The probes' client and the name it addresses, as a client of the load balancer on AWS would send them. */
const PROBE_USER_AGENT = "gameday-probe/1";
const PROBE_HOST = "api.example.com";

/** Bodies around WAF's documented body limit (scripts/gameday/waf.ts), and the content its managed body rules look for. */
function sizeProbes(): { name: string; body: unknown }[] {
  const note = (body: string) => ({ title: "size", body });
  const base = Buffer.byteLength(JSON.stringify(note("")));
  // Two-byte characters fill 8 KB within the API's character limit: the byte limits meet, not the character one.
  const bytes = (total: number) => "é".repeat(Math.floor((total - base) / 2)) + "x".repeat((total - base) % 2);
  const limit = ALB_BODY_INSPECTION_LIMIT_BYTES;
  return [
    { name: "the longest note (ASCII)", body: note("x".repeat(BODY_MAX)) },
    { name: "8 KB exactly", body: note(bytes(limit)) },
    { name: "8 KB + 1 byte", body: note(bytes(limit + 1)) },
    { name: "a note with HTML", body: note("<b>bold</b> <script>alert(1)</script>") },
    { name: "a note with ../", body: note("see ../../etc/passwd for the format") },
  ];
}

/** `n` reads of the seed note at once, beside the load; their statuses. */
async function concurrentReads(ctx: Context, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(`${ctx.lb.url}/notes/${ctx.noteId}`, { headers: { connection: "close" } }).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status ?? 0;
    }),
  );
}

async function loginWorks(ctx: Context, username: string, password: string): Promise<boolean> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ host: "127.0.0.1", port: ctx.db.port, user: username, password, database: ctx.spec.database.name });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** Seconds (scaled) a task takes to start and pass the load balancer's health checks. */
function startSeconds(spec: GamedaySpec): number {
  return 3 + spec.targetGroup.healthyThreshold * spec.targetGroup.intervalSeconds * scaleOf(spec);
}
/** Seconds (scaled) a stopping task may take: its drain and shutdown. */
function stopSeconds(spec: GamedaySpec): number {
  return spec.task.stopTimeoutSeconds * scaleOf(spec);
}
/** What the release scenarios (migrations.ts) take of the run. */
const releaseHelpers = (ctx: Context) => ({ deploySeconds: deploySeconds(ctx.spec), noFailures });
function deploySeconds(spec: GamedaySpec): number {
  return startSeconds(spec) + spec.targetGroup.deregistrationDelaySeconds * scaleOf(spec) + stopSeconds(spec);
}
let currentScale = DEFAULT_TIME_SCALE;
const scaleOf = (_spec: GamedaySpec) => currentScale;

/**
 * A container's environment and secrets with every Terraform reference resolved as a deploy would, here;
 * `secrets` read from the emulator's Secrets Manager now, as ECS reads them when the task starts.
 */
async function resolveEnvironment(
  spec: GamedaySpec,
  container: Pick<InitContainerSpec, "environment" | "secrets">,
  local: { secretArn: string; dbPort: number; emulatorUrl: string },
  secrets: SecretsManagerClient,
  scale: number,
  breakage?: Breakage,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(container.environment)) {
    if (value === spec.database.addressRef) env[name] = "127.0.0.1";
    else if (value === spec.database.secretArnRef) env[name] = local.secretArn;
    else if (value.includes("${")) throw new Error(`the game day cannot resolve ${name} = ${value}: add it to resolveEnvironment (scripts/gameday/run.ts)`);
    else env[name] = value;
  }
  for (const [name, valueFrom] of Object.entries(container.secrets)) {
    // The master secret by its Terraform reference (`<ref>:<json-key>::`), or any secret by its ARN.
    const ref = spec.database.secretArnRef;
    const [arn, key] = valueFrom.startsWith(ref)
      ? [ref, /^:([^:]*)/.exec(valueFrom.slice(ref.length))?.[1]]
      : (/^(arn:[^:]+:secretsmanager:[^:]+:\d+:secret:[^:]+)(?::([^:]*))?/.exec(valueFrom)?.slice(1) ?? []);
    if (!arn) throw new Error(`the game day reads Secrets Manager secrets only; ${name} is ${valueFrom}`);
    const resolved = arn === ref ? local.secretArn : arn;
    const text = (await secrets.send(new GetSecretValueCommand({ SecretId: resolved }))).SecretString!;
    env[name] = key ? String(JSON.parse(text)[key]) : text;
  }
  // Where RDS listens, this machine's PostgreSQL listens; it has no TLS (the app's TLS test proves verify-full).
  if ("DB_PORT" in env) env.DB_PORT = String(local.dbPort);
  if ("DB_HOST" in env) env.DB_SSL_MODE = "disable";
  // Every duration the app reads, scaled with the synthesized ones (time.ts): none keeps its production length among scaled ones.
  Object.assign(env, scaleEnvironment(env, scale));
  if (breakage) breakageSpec(breakage).environment?.(env);
  // The task role's credentials, from the container credentials endpoint on ECS; here the emulator's.
  Object.assign(env, { AWS_REGION: spec.region, AWS_ENDPOINT_URL: local.emulatorUrl, AWS_ACCESS_KEY_ID: "gameday", AWS_SECRET_ACCESS_KEY: "gameday" });
  return env;
}

export async function runGameday(options: GamedayOptions): Promise<GamedayReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const scale = options.timeScale ?? DEFAULT_TIME_SCALE;
  currentScale = scale;
  const time: Timing = { ms: (seconds) => Math.round(seconds * 1000 * scale) };
  const rate = options.rate ?? 100;
  const started = Date.now();
  const logDir = mkdtempSync(join(tmpdir(), "gameday-logs-"));

  const reporter = options.reporter ?? Reporter.silent();
  const step = async <T>(label: string, work: () => T | Promise<T>): Promise<T> => {
    const progress = reporter.step(`${options.environment}: ${label}`);
    try {
      const result = await work();
      progress.done();
      return result;
    } catch (error) {
      progress.fail(error instanceof Error ? error.message : String(error));
      throw error;
    }
  };

  // The task logs stay after an interruption too: they are what tells why.
  log(`game day: ${options.environment}, timings × ${scale}; task logs in ${logDir}`);
  const { tf, prefix } = await step("synthesize", () => synthesize(options.environment));
  const spec = readSpec(options.environment, tf, prefix);
  // Before anything starts: a scale that would reorder two durations (or give the app one it refuses) proves nothing.
  checkOrder(spec, scale);
  await step("build the app", () => buildApp());
  const imageConfig = readImageConfig();

  const cleanups: (() => Promise<void>)[] = [];
  // Interrupted, the servers, tasks and staged images go as they do at the end of a run.
  const forgetCleanup = onCleanup(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  });
  try {
    const emulator: Emulator = await step("start the emulator", () => startEmulator());
    cleanups.push(() => emulator.stop());
    const db = await step("start PostgreSQL", async () => Postgres.start(await freePort()));
    cleanups.push(() => db.stop());
    const password = `initial-${randomUUID()}`;
    await db.createMaster(spec.database.username, password, spec.database.name);
    const secrets = new SecretsManagerClient({
      region: spec.region,
      endpoint: emulator.url,
      credentials: { accessKeyId: "gameday", secretAccessKey: "gameday" },
    });
    // As RDS does with manageMasterUserPassword: a secret named rds!db-<id> holding the login.
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name: `rds!db-${randomUUID()}`, SecretString: JSON.stringify({ username: spec.database.username, password }) }),
    );
    // The tasks reach the database through the fault proxy (the failover's silent sockets); the harness reaches it directly.
    const proxy = await FaultProxy.start(db.port);
    cleanups.push(() => proxy.stop());
    const local = { secretArn: ARN!, dbPort: proxy.port, emulatorUrl: emulator.url };
    const environment = await resolveEnvironment(spec, spec.task, local, secrets, scale, options.breakage);
    // The app's role logs in with an IAM token on AWS, which nothing here can sign or check: the nearest
    // stand-in is the same role with a password the harness sets (docs/gameday.md, what it cannot prove).
    // The harness makes it first, as the role with LOGIN the migrate container would make; the migrate
    // container grants it, and the app container logs in as it, never as the master user.
    const appUsername = spec.database.appUsername;
    let appLogin: Context["appLogin"];
    if (appUsername && environment.DB_IAM_USER === appUsername) {
      const appPassword = `app-${randomUUID()}`;
      await db.sql(`CREATE ROLE ${appUsername} LOGIN PASSWORD '${appPassword}'`);
      delete environment.DB_IAM_USER;
      // Its login in a secret the app reads when it connects, through the same cache as its IAM token on AWS (credentials.ts), read
      // again when PostgreSQL refuses it; a broken app (secret-once) gets it once, at start, as ECS `secrets` would give it.
      const created = await secrets.send(
        new CreateSecretCommand({ Name: `gameday-app-login-${randomUUID()}`, SecretString: JSON.stringify({ username: appUsername, password: appPassword }) }),
      );
      appLogin = { secretArn: created.ARN!, username: appUsername };
      if (options.breakage && breakageSpec(options.breakage).loginOnce) Object.assign(environment, { DB_USERNAME: appUsername, DB_PASSWORD: appPassword });
      else environment.DB_SECRET_ARN = appLogin.secretArn;
    }
    // The app containers reach Secrets Manager through a proxy that can go silent (the outage), which records each task's calls.
    const secretsProxy = await SecretsProxy.start(emulator.url);
    cleanups.push(() => secretsProxy.stop());
    environment.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsProxy.url;
    const init = spec.task.init;

    const lb = await step("start HAProxy", async () => LoadBalancer.start(spec.targetGroup, spec.idleTimeoutSeconds, await freePort(), time));
    cleanups.unshift(() => lb.stop());
    const images: StagedImage[] = [];
    cleanups.push(async () => images.forEach((i) => i.remove()));
    const stage = (tag: string) => {
      // A release (migrations.ts): its migrations beside the app's and its code's changes, then a broken variant's patches.
      const broken = options.breakage && breakageSpec(options.breakage);
      const r = release(tag, broken ? broken.releaseMigrations : undefined);
      // The game day's own memory hook (memory.ts) in every staged image, never in the app.
      const image = StagedImage.stage(tag, [...r.patches, ...MEMORY_HOOK, ...((broken && broken.patches) || [])], migrationFiles(r));
      images.push(image);
      return image;
    };
    let n = 0;
    const portPool = await PortPool.create(64);
    const service = new EcsService(
      spec.service,
      spec.targetGroup,
      lb,
      (image, id = `${image.tag}-${++n}`) =>
        new Task({
          id,
          spec: spec.task,
          image,
          imageConfig,
          // The SDK's user agent names the task (app/<id>), so the proxy knows whose call it holds.
          environment: { ...environment, AWS_SDK_UA_APP_ID: id },
          // The migrate container's login is read when each task starts, so a task after a rotation reads the new password.
          init: init && { name: init.name, command: init.command, environment: () => resolveEnvironment(spec, init, local, secrets, scale, options.breakage) },
          port: portPool.next(),
          time,
          logDir,
        }),
      time,
    );
    cleanups.unshift(() => service.stop());
    await step(`start ${spec.service.desiredCount} tasks`, () => service.create(stage("v1")));
    log(`${spec.service.desiredCount} tasks of ${spec.task.family} healthy behind HAProxy at ${lb.url}`);

    const seed = await fetch(`${lb.url}/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: "seed" }) });
    const noteId = ((await seed.json()) as { id: string }).id;
    const ctx: Context = {
      spec,
      time,
      service,
      lb,
      db,
      proxy,
      durations: scaleEnvironment(spec.task.environment, scale),
      secrets,
      secretArn: ARN!,
      secretsProxy,
      appLogin,
      stage,
      noteId,
      rate,
      workers: {
        emulatorUrl: emulator.url,
        logDir,
        imageConfig,
        apiEnvironment: environment,
        resolve: (container) => resolveEnvironment(spec, container, local, secrets, scale, options.breakage),
        port: () => portPool.next(),
        scale,
        cleanups,
      },
      load: (seconds, during, connections, perSecond = rate) =>
        underLoad(
          {
            url: lb.url,
            rate: perSecond,
            connections,
            amount: Math.ceil(perSecond * seconds),
            noteId,
            targetOf: (id) => lb.targetOf(id),
            loggedBy: (prefix) => lb.loggedIds(prefix),
          },
          during,
        ),
    };

    const results: ScenarioResult[] = [];
    const acknowledged: string[] = [];
    for (const scenario of SCENARIOS.filter((s) => !options.only || options.only.includes(s.name))) {
      log(`— ${scenario.name}`);
      const progress = reporter.step(`${options.environment}: ${scenario.name}`);
      const at = service.events.length;
      let result: ScenarioResult;
      try {
        result = { name: scenario.name, proves: scenario.proves, ...(await scenario.run(ctx)) };
        // Every request accounted for, whatever the scenario checks: sent = answered + failed, and the load balancer saw as many.
        if (result.load) result.problems.unshift(...accountingProblems(result.load));
        await service.steady();
      } catch (error) {
        result = {
          name: scenario.name,
          proves: scenario.proves,
          problems: [`it could not run: ${error instanceof Error ? error.message : String(error)}`],
          notes: [],
        };
      }
      if (result.problems.length) progress.fail(`${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}`);
      else progress.done();
      for (const e of service.events.slice(at)) log(`    ${new Date(e.at).toISOString().slice(11, 23)} ${e.message}`);
      for (const note of result.notes) log(`    ${note}`);
      for (const problem of result.problems) log(`    FAIL: ${problem}`);
      acknowledged.push(...(result.load?.acknowledged ?? []));
      results.push(result);
    }

    const { rows } = await db.sql("SELECT count(*)::int AS n FROM notes WHERE id = ANY($1::uuid[])", [acknowledged], spec.database.name);
    const lostWrites = acknowledged.length - rows[0].n;
    const passed = lostWrites === 0 && results.every((r) => r.problems.length === 0);
    return {
      environment: options.environment,
      timeScale: scale,
      tasks: spec.service.desiredCount,
      scenarios: results,
      lostWrites,
      seconds: Math.round((Date.now() - started) / 1000),
      logDir,
      passed,
    };
  } finally {
    forgetCleanup();
    await step("stop the servers", async () => {
      for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    });
  }
}

/** Loopback ports for tasks, each used once: a task's port is never reused while the load balancer may still reach it. */
class PortPool {
  private constructor(private readonly ports: number[]) {}
  static async create(count: number): Promise<PortPool> {
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    return new PortPool(ports);
  }
  next(): number {
    const port = this.ports.shift();
    if (port === undefined) throw new Error("the game day ran out of task ports");
    return port;
  }
}

/** The table `npm run gameday` prints. */
export function formatReport(report: GamedayReport): string {
  const rows = report.scenarios.map((s) => [
    s.name,
    s.load ? String(s.load.sent) : "-",
    s.load ? String(s.load.failures.length) : "-",
    s.load ? `${s.load.p50} / ${s.load.p99} ms` : "-",
    s.recoveryMs === undefined ? "-" : `${(s.recoveryMs / 1000).toFixed(1)} s`,
    s.problems.length ? "FAIL" : "pass",
  ]);
  const header = ["scenario", "requests", "failed", "p50 / p99", "recovered", "result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    `Game day of ${report.environment}: ${report.tasks} tasks, timings × ${report.timeScale}, ${report.seconds} s in all`,
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
    `acknowledged writes lost: ${report.lostWrites}`,
    report.passed ? "game day: passed" : "game day: FAILED",
  ].join("\n");
}
