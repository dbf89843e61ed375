/**
 * The game day's releases and the scenarios that deploy them with migrations. v1 is the app as built;
 * v2, v3 and v4 are releases of it with a schema change each, in expand/contract order, so a deploy
 * really migrates while the release before still serves:
 *
 * - v2 (rolling deploy), expand: `body_chars` added and filled for every row, and a trigger that fills it
 *   for v1's writes (v1 never names the column); v2's code writes it itself.
 * - v3 (migration lock), contract: the trigger only v1 needed dropped, the column NOT NULL and checked
 *   against the body; v3's code writes it and reads through it (a note whose count is wrong is not found).
 * - v4 (migration over budget): an index, which the held lock never lets apply.
 *
 * The migrations are the game day's own (`scripts/gameday/releases/`), staged into that release's image copy
 * beside the app's, and the code changes are expressions replaced in its staged bundle, as the broken variants
 * are: a column the harness invents has no place in the starter's schema, which a fork builds its own on.
 * Each is a real migration all the same, applied by the migrate container under node-pg-migrate's lock.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Patch } from "./breakages";
import type { LoadResult } from "./load";
import type { EcsService } from "./ecs";
import type { LoadBalancer, Timing } from "./haproxy";
import type { StagedImage } from "./image";
import type { Postgres } from "./postgres";
import type { GamedaySpec } from "./stack";
import type { Task } from "./task";

const RELEASES_DIR = join(__dirname, "releases");
/** node-pg-migrate's advisory lock (its PG_MIGRATE_LOCK_ID), which a migrating task holds. */
export const MIGRATION_LOCK_ID = 7241865325823964n;

/** What a release adds to the app as built: migrations staged beside the app's, and its code's changes to the bundle. */
export interface Release {
  /** Files of scripts/gameday/releases/, in order. */
  readonly migrations: readonly string[];
  readonly patches: readonly Patch[];
}

const EXPAND = "1790000000000_gameday-v2-expand-body-chars.sql";
const CONTRACT = "1790000100000_gameday-v3-contract-body-chars.sql";
const INDEX = "1790000200000_gameday-v4-index-body-chars.sql";
/** The broken variant contract-early's v2: expand and contract at once. */
export const CONTRACT_EARLY = "broken/1790000000000_gameday-v2-contract-early.sql";

/** v2's and later code: every write of a body sets body_chars itself. */
const WRITES: readonly Patch[] = [
  {
    file: "dist/server.mjs",
    from: "INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING",
    to: "INSERT INTO notes (title, body, body_chars) VALUES ($1, $2, char_length($2::varchar)) RETURNING",
    count: 1,
  },
  {
    file: "dist/server.mjs",
    from: "body = COALESCE($3, body), updated_at = now()",
    to: "body = COALESCE($3, body), body_chars = char_length(COALESCE($3, body)), updated_at = now()",
    count: 1,
  },
];
/** v3's code reads a note through the column: one the expand missed (NULL) or miscounted is not found. */
const READS: Patch = {
  file: "dist/server.mjs",
  from: "FROM notes WHERE id = $1`",
  to: "FROM notes WHERE id = $1 AND body_chars = char_length(body)`",
  count: 1,
};

export const RELEASES: Readonly<Record<string, Release>> = {
  v1: { migrations: [], patches: [] },
  v2: { migrations: [EXPAND], patches: WRITES },
  v3: { migrations: [EXPAND, CONTRACT], patches: [...WRITES, READS] },
  v4: { migrations: [EXPAND, CONTRACT, INDEX], patches: [...WRITES, READS] },
};

/** The order releases deploy in: a scenario run alone deploys those before its own first. */
export const RELEASE_ORDER = ["v1", "v2", "v3", "v4"] as const;

/** A release by its tag, with a broken variant's replacement migrations; throws for a tag with no release. */
export function release(tag: string, replace?: Readonly<Record<string, readonly string[]>>): Release {
  const found = RELEASES[tag];
  if (!found) throw new Error(`the game day has no release ${tag}: add it to RELEASES in scripts/gameday/migrations.ts`);
  return { ...found, migrations: replace?.[tag] ?? found.migrations };
}

/** The release's migration files, as paths on this machine. */
export function migrationFiles(r: Release): string[] {
  return r.migrations.map((m) => join(RELEASES_DIR, m));
}

/** node-pg-migrate's name of a migration file: its base name without the extension. */
export function migrationName(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.[^.]+$/, "");
}

/** What the release scenarios need of the run. */
export interface ReleaseContext {
  readonly spec: GamedaySpec;
  readonly time: Timing;
  readonly service: EcsService;
  readonly lb: LoadBalancer;
  readonly db: Postgres;
  readonly durations: Readonly<Record<string, string>>;
  readonly stage: (tag: string) => StagedImage;
  readonly load: <T>(seconds: number, during: (elapsed: () => number) => Promise<T>) => Promise<{ load: LoadResult; outcome: T }>;
}

export interface ReleaseHelpers {
  /** Seconds (scaled) a deploy takes: start, deregistration delay, stop. */
  readonly deploySeconds: number;
  readonly noFailures: (load: LoadResult, problems: string[]) => void;
}

interface Outcome {
  readonly load: LoadResult;
  readonly problems: string[];
  readonly notes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The release the service runs now, by its tasks' ids (`<tag>-<n>`). */
function currentRelease(ctx: ReleaseContext): string | undefined {
  const tags = new Set(ctx.service.healthy().map((t) => t.id.replace(/-\d+$/, "")));
  return tags.size === 1 ? [...tags][0] : undefined;
}

/** Deploys, without load, each release before `tag` the service does not run yet (a scenario run alone with --only). */
async function upTo(ctx: ReleaseContext, tag: string): Promise<string[]> {
  const order: readonly string[] = RELEASE_ORDER;
  const from = order.indexOf(currentRelease(ctx) ?? "v1");
  const deployed: string[] = [];
  for (const t of order.slice(from + 1, order.indexOf(tag))) {
    if (!(await ctx.service.deploy(ctx.stage(t)))) throw new Error(`the deploy of ${t}, before ${tag}, did not complete`);
    deployed.push(t);
  }
  return deployed;
}

/** Ids of `ids` that do not read back 200 through the load balancer (the release's code, as clients read them). */
export async function unreadable(lbUrl: string, ids: readonly string[], inFlight = 8): Promise<string[]> {
  const missing: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const res = await fetch(`${lbUrl}/notes/${id}`, { headers: { connection: "close" } }).catch(() => undefined);
        await res?.arrayBuffer();
        if (res?.status !== 200) missing.push(`${id} (${res?.status ?? "no answer"})`);
      }
    }),
  );
  return missing;
}

async function acknowledgedReadable(ctx: ReleaseContext, load: LoadResult, problems: string[], notes: string[]): Promise<void> {
  const missing = await unreadable(ctx.lb.url, load.acknowledged);
  if (missing.length) problems.push(`${missing.length} of ${load.acknowledged.length} acknowledged writes do not read back: ${missing.slice(0, 3).join(", ")}`);
  else notes.push(`all ${load.acknowledged.length} acknowledged writes read back through the release serving`);
}

/** The schema as a release left it: body_chars present, filled and right for every row; NOT NULL and no trigger once contracted. */
export async function schemaProblems(db: Postgres, database: string, stage: "expanded" | "contracted"): Promise<string[]> {
  const problems: string[] = [];
  const column = await db.sql(
    "SELECT a.attnotnull AS not_null FROM pg_attribute a WHERE a.attrelid = 'notes'::regclass AND a.attname = 'body_chars' AND NOT a.attisdropped",
    [],
    database,
  );
  if (!column.rows[0]) return ["the notes table has no body_chars column: the expand migration was not applied"];
  const wrong = await db.sql("SELECT count(*)::int AS n FROM notes WHERE body_chars IS DISTINCT FROM char_length(body)", [], database);
  if (wrong.rows[0].n) problems.push(`${wrong.rows[0].n} notes have body_chars NULL or wrong: the backfill or a write missed them`);
  const trigger = await db.sql("SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND tgname = 'notes_body_chars'", [], database);
  if (stage === "expanded" && !trigger.rows[0].n) problems.push("no trigger fills body_chars for v1's writes while v1 serves");
  if (stage === "contracted") {
    if (trigger.rows[0].n) problems.push("the trigger only v1 needed is still there: the contract migration was not applied");
    if (!column.rows[0].not_null) problems.push("body_chars is still nullable: the contract migration was not applied");
  }
  return problems;
}

/** v2: the expand migration applied by the new tasks while v1 serves, v1's writes filled by the trigger; every acknowledged write reads back. */
export async function rollingDeploy(ctx: ReleaseContext, h: ReleaseHelpers): Promise<Outcome> {
  const v2 = ctx.stage("v2");
  const { load, outcome } = await ctx.load(h.deploySeconds + 5, () => ctx.service.deploy(v2));
  const problems: string[] = [];
  const notes = [`${ctx.service.healthy(v2).length} tasks of v2 healthy`];
  if (!outcome) problems.push("the deployment did not complete");
  h.noFailures(load, problems);
  problems.push(...(await schemaProblems(ctx.db, ctx.spec.database.name, "expanded")));
  await acknowledgedReadable(ctx, load, problems, notes);
  return { load, problems, notes };
}

/** A sample of who holds node-pg-migrate's lock and how many wait for it. */
interface LockSample {
  readonly at: number;
  readonly holder?: number;
  readonly waiting: number;
}

/** Samples pg_locks for node-pg-migrate's advisory lock every 50 ms until stopped. */
function sampleLock(db: Postgres): { stop: () => Promise<LockSample[]> } {
  const hi = Number(MIGRATION_LOCK_ID >> 32n);
  const lo = Number(MIGRATION_LOCK_ID & 0xffffffffn);
  const samples: LockSample[] = [];
  let running = true;
  const client = db.admin();
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ pid: number; granted: boolean }>(
        "SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1",
        [hi, lo],
      );
      samples.push({ at: Date.now(), holder: rows.find((r) => r.granted)?.pid, waiting: rows.filter((r) => !r.granted).length });
      await sleep(50);
    }
    await client.end();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** A migrate container's log lines that say how it ended: the migrations it applied, or the schema found up to date, with their time. */
export function migrateOutcome(log: string): { at: number; applied?: readonly string[] } | undefined {
  for (const line of log.split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: string; applied?: string[] };
    if (entry.msg === "migrations applied" || entry.msg === "schema up to date") return { at: Date.parse(entry.time!), applied: entry.applied ?? [] };
  }
  return undefined;
}

function readLog(task: Task, container: string): string {
  try {
    return readFileSync(task.logFile(container), "utf8");
  } catch {
    return "";
  }
}

/**
 * v3: the lock held by a slow migration (the harness) while the deploy starts its tasks together. From timestamps: every
 * new task's migrate container was waiting on the lock in pg_locks while the harness held it, ended only after its
 * release, and exactly one applied v3's migration; the others found the schema up to date only after that one had
 * (they waited for its lock, not only the harness's). The contract leaves the schema contracted; every acknowledged write reads back.
 */
export async function migrationLock(ctx: ReleaseContext, h: ReleaseHelpers): Promise<Outcome> {
  const deployed = await upTo(ctx, "v3");
  const v3 = ctx.stage("v3");
  const init = ctx.spec.task.init?.name ?? "migrate";
  const budget = Number(ctx.durations.MIGRATION_TIMEOUT_MS);
  const hold = Math.floor(budget / 4);
  let releasedAt = 0;
  let holderPid = 0;
  const sampler = sampleLock(ctx.db);
  const { load, outcome } = await ctx.load(h.deploySeconds + hold / 1000 + 5, async () => {
    const holder = ctx.db.admin(ctx.spec.database.name);
    await holder.connect();
    holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    const deploy = ctx.service.deploy(v3);
    await sleep(hold);
    releasedAt = Date.now();
    await holder.end();
    return deploy;
  });
  const samples = await sampler.stop();
  const problems: string[] = [];
  const notes = deployed.length ? [`deployed ${deployed.join(", ")} first, without load (run alone)`] : [];
  if (!outcome) problems.push("the deployment did not complete");
  h.noFailures(load, problems);

  const started = ctx.service.launched.filter((t) => t.id.startsWith("v3-"));
  if (!started.length) problems.push("the deployment started no task of v3");
  // 1. While the harness held the lock, the new tasks' migrate containers were queued on it (pg_locks).
  const queued = Math.max(0, ...samples.filter((s) => s.holder === holderPid).map((s) => s.waiting));
  if (queued < started.length)
    problems.push(`only ${queued} of ${started.length} new tasks' migrate containers ever waited on the lock in pg_locks while it was held`);
  // 2. Each ended only after the release.
  const early = started.filter((t) => !t.initExit || t.initExit.at < releasedAt);
  if (early.length)
    problems.push(
      `${early.length} of ${started.length} new tasks did not wait for the lock: their migrate containers ended ${early
        .map((t) => (t.initExit ? `${releasedAt - t.initExit.at} ms before it was released (exit ${t.initExit.code})` : "never"))
        .join(", ")}`,
    );
  // 3. One applied v3's migration under the lock; the others, started before it applied, found it done only afterwards.
  const contract = migrationName(CONTRACT);
  const ends = started.map((t) => ({ task: t, end: migrateOutcome(readLog(t, init)) }));
  const appliers = ends.filter((e) => e.end?.applied?.includes(contract));
  if (appliers.length !== 1) problems.push(`${appliers.length} migrate containers applied ${contract}; exactly one should, under the lock`);
  else {
    const first = appliers[0];
    const others = ends.filter((e) => e !== first);
    const unordered = others.filter((e) => !e.end || e.end.at < first.end!.at || e.task.startedAt > first.end!.at);
    if (unordered.length)
      problems.push(`${unordered.length} migrate containers did not wait for ${first.task.id}'s migration: they ended before it, or started after it`);
    const handoff = samples.some((s) => s.holder !== undefined && s.holder !== holderPid && s.waiting > 0);
    notes.push(
      `lock held ${hold} ms of the ${budget} ms budget; up to ${queued} migrate containers waited on it in pg_locks; ${first.task.id} applied ${contract} ${
        first.end!.at - releasedAt
      } ms after the release, ${others.map((e) => `${e.task.id} found it up to date ${e.end ? e.end.at - first.end!.at : "?"} ms later`).join(", ")}${
        handoff ? " (pg_locks saw a task hold it while another waited)" : ""
      }`,
    );
  }
  problems.push(...(await schemaProblems(ctx.db, ctx.spec.database.name, "contracted")));
  await acknowledgedReadable(ctx, load, problems, notes);
  return { load, problems, notes };
}

/** The migrate container's line when the budget ran out (app/src/migrate.ts with app/src/migrations.ts's MigrationTimeout), to the character. */
export function budgetLine(budgetMs: number): string {
  const half = Math.floor(budgetMs / 2);
  return (
    `notes-api migrate: migrations did not finish within MIGRATION_TIMEOUT_MS (${budgetMs} ms: ${half} ms for a lock, ${half} ms for a statement); nothing was applied. ` +
    "Run a long migration as a one-off task before the deploy (MIGRATIONS=off, node dist/migrate.mjs), split as expand/contract steps."
  );
}

/**
 * v4: the lock held past the budget (released at the grace period's end at the latest, so a task that waits longer
 * migrates and shows). Each new task's migrate container exits 1 within the grace period with the budget's line, no app
 * container starts, the circuit breaker rolls back, v4's migration is not applied, every acknowledged write reads back.
 */
export async function migrationOverBudget(ctx: ReleaseContext, h: ReleaseHelpers): Promise<Outcome> {
  const deployed = await upTo(ctx, "v4");
  const v4 = ctx.stage("v4");
  const init = ctx.spec.task.init?.name ?? "migrate";
  const budget = Number(ctx.durations.MIGRATION_TIMEOUT_MS);
  const grace = ctx.time.ms(ctx.spec.service.healthCheckGracePeriodSeconds);
  const before = ctx.service.running();
  const { load, outcome } = await ctx.load(budget / 1000 + h.deploySeconds + 5, async () => {
    const holder = ctx.db.admin(ctx.spec.database.name);
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    let released = false;
    const release = () => (released ? undefined : ((released = true), holder.end()));
    const timer = setTimeout(() => void release(), grace + 1000);
    try {
      return await ctx.service.deploy(v4);
    } finally {
      clearTimeout(timer);
      await release();
    }
  });
  const problems: string[] = [];
  const notes = deployed.length ? [`deployed ${deployed.join(", ")} first, without load (run alone)`] : [];
  if (outcome) problems.push("the deployment completed, though its migration could not");
  if (!ctx.spec.service.circuitBreaker) problems.push("the service has no deployment circuit breaker");
  h.noFailures(load, problems);
  const kept = ctx.service.running().filter((t) => before.includes(t));
  if (kept.length !== before.length) problems.push(`the old tasks did not all keep serving (${kept.length} of ${before.length})`);
  const started = ctx.service.launched.filter((t) => t.id.startsWith("v4-"));
  if (!started.length) problems.push("the deployment started no task of v4");
  const line = budgetLine(budget);
  const byBudget = started.filter((t) => t.initExit?.code === 1 && readLog(t, init).split("\n").includes(line));
  if (byBudget.length !== started.length)
    problems.push(
      `${started.length - byBudget.length} of ${started.length} new tasks' migrate containers did not stop with MIGRATION_TIMEOUT_MS's line ("${line.slice(0, 80)}…")`,
    );
  const late = started.filter((t) => !t.initExit || t.initExit.at - t.startedAt > grace);
  if (late.length)
    problems.push(
      `${late.length} of ${started.length} new tasks' migrate containers were still running at the end of the ${grace} ms grace period (${late
        .map((t) => (t.initExit ? `exited after ${t.initExit.at - t.startedAt} ms` : "never exited"))
        .join(", ")})`,
    );
  const appStarted = started.filter((t) => t.initExit?.code === 0);
  if (appStarted.length) problems.push(`${appStarted.length} new tasks started their app container`);
  const { rows } = await ctx.db.sql("SELECT count(*)::int AS n FROM pgmigrations WHERE name = $1", [migrationName(INDEX)], ctx.spec.database.name);
  if (rows[0].n) problems.push(`${migrationName(INDEX)} was applied: the schema is not v3's any more`);
  problems.push(...(await schemaProblems(ctx.db, ctx.spec.database.name, "contracted")));
  await acknowledgedReadable(ctx, load, problems, notes);
  const waited = started.filter((t) => t.initExit).map((t) => t.initExit!.at - t.startedAt);
  notes.push(
    `${byBudget.length} of ${started.length} new tasks' migrate containers exited 1 with MIGRATION_TIMEOUT_MS's line (${budget} ms); they ended after ${waited.join(", ")} ms (grace period ${grace} ms); ${
      outcome ? "deployed" : "rolled back"
    }; ${migrationName(INDEX)} ${rows[0].n ? "applied" : "not applied"}`,
  );
  return { load, problems, notes };
}
