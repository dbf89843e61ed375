/**
 * The game day's broken variants (`--break <name>`): each an API broken in one way a real API has been,
 * run to prove that its scenario fails where production would. A variant breaks the app through its
 * environment (as a wrong task definition would), or through its image: the bundle staged with one
 * expression replaced (a build of the app without the property), found exactly as many times as it
 * should be, so a change to the app cannot turn a variant into a quiet no-op.
 */

/** One expression of the staged bundle replaced, expected exactly `count` times. */
export interface Patch {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

export interface BreakageSpec {
  /** The scenario it must fail. */
  readonly scenario: string;
  /** What is broken, for the help and the report. */
  readonly what: string;
  /** Applied to each container's environment after it was resolved and scaled. */
  readonly environment?: (env: Record<string, string>) => void;
  /** Applied to every image the run stages. */
  readonly patches?: readonly Patch[];
  /** The app container gets its login once, at start, as fixed DB_USERNAME and DB_PASSWORD (as ECS `secrets`), never the secret's ARN. */
  readonly loginOnce?: boolean;
  /** A release's migrations replaced (files of scripts/gameday/releases/, by release tag: migrations.ts). */
  readonly releaseMigrations?: Readonly<Record<string, readonly string[]>>;
}

/** Every migrate entry point's call of node-pg-migrate, with `noLock` for its advisory lock. */
const noLock = ["dist/migrate.mjs", "dist/server.mjs"].map((file) => ({ file, from: 'advisoryLockMode: "wait"', to: "noLock: true", count: 1 }));

export const BREAKAGES = {
  "no-drain": {
    scenario: "spot interruption",
    what: "closes at once on SIGTERM (DRAIN_TIMEOUT_MS=0), the behaviour before the drain existed",
    environment: (env) => {
      env.DRAIN_TIMEOUT_MS = "0";
    },
  },
  "secret-once": {
    scenario: "secret rotation",
    what: "reads its database login once, when the task starts (fixed DB_USERNAME and DB_PASSWORD, as ECS `secrets`), and never again",
    loginOnce: true,
  },
  "secret-no-timeout": {
    scenario: "Secrets Manager outage",
    what: "reads its login with no timeout (its build without the cache's abort and the SDK's request timeout), so a read Secrets Manager never answers hangs for good",
    patches: [
      {
        file: "dist/server.mjs",
        from: "requestHandler: { connectionTimeout: Math.min(1e3, timeoutMs), requestTimeout: timeoutMs, throwOnRequestTimeout: true }",
        to: "requestHandler: { connectionTimeout: Math.min(1e3, timeoutMs) }",
        count: 1,
      },
      {
        file: "dist/server.mjs",
        from: "          }, timeoutMs);\n        });\n        const credentials = await Promise.race([read(abort.signal), timeout]);",
        to: "          }, 2147483647);\n        });\n        const credentials = await read(new AbortController().signal);",
        count: 1,
      },
    ],
  },
  "no-retry-after": {
    scenario: "database restart",
    what: "answers 503 without Retry-After (its build with the header left out)",
    patches: [{ file: "dist/server.mjs", from: 'reply.header("retry-after", String(retryAfterSeconds))', to: "reply", count: 2 }],
  },
  "no-keepalive-timeout": {
    scenario: "database failover",
    what: "no query or statement timeout and no early TCP keepalive (each at the app's maximum, 10 minutes): a silent connection hangs its request",
    environment: (env) => {
      Object.assign(env, { DB_QUERY_TIMEOUT_MS: "600000", DB_STATEMENT_TIMEOUT_MS: "599999", DB_KEEPALIVE_MS: "600000" });
    },
  },
  "no-migration-lock": {
    scenario: "migration lock",
    what: "migrates without node-pg-migrate's advisory lock (its build with noLock), so tasks starting together do not wait for one another",
    patches: noLock,
  },
  "migration-budget-past-grace": {
    scenario: "migration over budget",
    what: "a migration budget past the health check grace period (MIGRATION_TIMEOUT_MS four times what the task sets), so a task still waits on the lock when ECS's grace ends",
    environment: (env) => {
      if (env.MIGRATION_TIMEOUT_MS) env.MIGRATION_TIMEOUT_MS = String(Number(env.MIGRATION_TIMEOUT_MS) * 4);
    },
  },
  "contract-early": {
    scenario: "rolling deploy",
    what: "v2 expands and contracts in one release: body_chars required at once, with no trigger to fill it for v1's writes while v1 still serves",
    releaseMigrations: { v2: ["broken/1790000000000_gameday-v2-contract-early.sql"] },
  },
  "worker-no-idempotency": {
    scenario: "worker killed mid-message",
    what: "a worker that acts on every delivery (its build without the inbox check), so a message delivered again is applied again",
    patches: [{ file: "dist/worker.mjs", from: "if (fresh.rowCount === 0) {", to: "if (false) {", count: 1 }],
  },
} satisfies Record<string, BreakageSpec>;

export type Breakage = keyof typeof BREAKAGES;

export const BREAKAGE_NAMES = Object.keys(BREAKAGES) as Breakage[];

export function breakageSpec(name: Breakage): BreakageSpec {
  return BREAKAGES[name];
}

/** `text` with each patch of `file` applied; throws when a patch's expression is not found exactly `count` times. */
export function applyPatches(file: string, text: string, patches: readonly Patch[]): string {
  let result = text;
  for (const patch of patches.filter((p) => p.file === file)) {
    const found = result.split(patch.from).length - 1;
    if (found !== patch.count)
      throw new Error(
        `the broken build expects ${patch.count} × ${JSON.stringify(patch.from)} in ${file}, and the bundle has ${found}: update scripts/gameday/breakages.ts`,
      );
    result = result.split(patch.from).join(patch.to);
  }
  return result;
}
