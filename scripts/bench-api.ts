/**
 * Benchmark of the REST API: throughput and p99 latency of GET /notes/:id and POST /notes, measured
 * with autocannon against the API bundle as the image runs it. Target on a 2-core machine: reads at
 * 3,000 requests/s or more with p99 at most 20 ms. Prints figures; asserts nothing.
 *
 * Database: BENCH_DATABASE_URL (or TEST_DATABASE_URL), a PostgreSQL server whose user may create a
 * throwaway database; without one, the embedded PGlite, which is single-threaded WebAssembly and far
 * slower than a server (its figures are no guide to RDS).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import autocannon from "autocannon";
import { installSignalHandlers, onCleanup } from "../cli/cli.cjs";
import { RunningApi, databaseEnv } from "../app/harness/api";
import { createOnServer, createPglite, type TestDatabase } from "../app/harness/database";

const APP = join(__dirname, "..", "app");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

/** The same databases and API process the app's tests use (app/harness). */
async function database(): Promise<{ db: TestDatabase; label: string }> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!url) return { db: await createPglite(), label: "PGlite (embedded; set BENCH_DATABASE_URL for a PostgreSQL server)" };
  const db = await createOnServer(url);
  const { rows } = await db.query<{ server_version: string }>("SHOW server_version");
  return { db, label: `PostgreSQL ${rows[0].server_version} at ${db.host}:${db.port}` };
}

function report(name: string, result: autocannon.Result, target?: { rps: number; p99: number }) {
  const rps = result.requests.average;
  const p99 = result.latency.p99;
  const errors = result.errors + result.non2xx;
  const verdict = target
    ? ` (target >= ${target.rps}/s and p99 <= ${target.p99} ms: ${rps >= target.rps && p99 <= target.p99 ? "within target" : "OVER TARGET"})`
    : "";
  console.log(name);
  console.log(`  throughput  ${Math.round(rps)} requests/s over ${SECONDS} s, ${CONNECTIONS} connections${verdict}`);
  console.log(`  latency     p50 ${result.latency.p50} ms, p99 ${p99} ms, max ${result.latency.max} ms`);
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([code, s]) => `${code}: ${(s as { count: number }).count}`)
    .join(", ");
  console.log(`  errors      ${errors} (non-2xx ${result.non2xx}, socket ${result.errors}); statuses ${statuses}`);
}

async function main() {
  execFileSync(process.execPath, [join(APP, "build.mjs")], { stdio: "inherit" });
  const { db, label } = await database();
  let api: RunningApi | undefined;
  // Interrupted (npm run bench hands its SIGTERM on), the API and the benchmark's database go too.
  installSignalHandlers();
  onCleanup(async () => {
    await api?.stop();
    await db.drop();
  });
  try {
    // Request logging off (warn), so the figures are the API's, not the log pipe's.
    api = await RunningApi.start({ ...databaseEnv(db), APP_ENV: "bench", LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn" }, { waitForListening: false });
    const url = api.url;
    for (let i = 0; ; i++) {
      const ok = await api.fetch("/ready").then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300 || api.process.exitCode !== null) throw new Error(`the API did not become ready: ${api.stderr.join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await fetch(`${url}/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: `note ${i}`, body: "x".repeat(200) }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    console.log(`REST API (app/), node ${process.version}, database: ${label}\n`);
    let n = 0;
    const reads = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [{ method: "GET", setupRequest: (req: autocannon.Request) => ({ ...req, path: `/notes/${ids[n++ % ids.length]}` }) }],
    });
    report("GET /notes/:id", reads, { rps: 3000, p99: 20 });
    const writes = await autocannon({
      url: `${url}/notes`,
      connections: CONNECTIONS,
      duration: SECONDS,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "benchmark", body: "x".repeat(200) }),
    });
    report("POST /notes", writes);
  } finally {
    await api?.stop();
    await db.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
