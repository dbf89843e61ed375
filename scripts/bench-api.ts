/**
 * Benchmark of the REST API: throughput and p99 latency of GET /notes/:id and POST /notes, measured
 * with autocannon against the API bundle as the image runs it. Target on a 2-core machine: reads at
 * 3,000 requests/s or more with p99 at most 20 ms. Prints figures; asserts nothing.
 *
 * Database: BENCH_DATABASE_URL (or TEST_DATABASE_URL), a PostgreSQL server whose user may create a
 * throwaway database; without one, the embedded PGlite, which is single-threaded WebAssembly and far
 * slower than a server (its figures are no guide to RDS).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { Client } from "pg";

const APP = join(__dirname, "..", "app");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function firstLine(child: ChildProcess, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => match(line) && resolve(line));
  });
}

async function database(): Promise<{ env: Record<string, string>; label: string; drop: () => Promise<void> }> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (url) {
    const name = `notes_bench_${randomBytes(4).toString("hex")}`;
    const admin = async (sql: string) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(sql).finally(() => client.end());
    };
    await admin(`CREATE DATABASE ${name}`);
    const u = new URL(url);
    const version = new Client({ connectionString: url });
    await version.connect();
    const { rows } = await version.query("SHOW server_version");
    await version.end();
    return {
      label: `PostgreSQL ${rows[0].server_version} at ${u.hostname}:${u.port || 5432}`,
      env: {
        DB_HOST: u.hostname,
        DB_PORT: u.port || "5432",
        DB_NAME: name,
        DB_USERNAME: decodeURIComponent(u.username),
        DB_PASSWORD: decodeURIComponent(u.password),
      },
      drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  const db = spawn(process.execPath, [join(APP, "scripts", "pglite-server.mjs"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(db);
  const { port } = JSON.parse(await firstLine(db, () => true));
  return {
    label: "PGlite (embedded; set BENCH_DATABASE_URL for a PostgreSQL server)",
    env: { DB_HOST: "127.0.0.1", DB_PORT: String(port), DB_NAME: "postgres", DB_USERNAME: "postgres", DB_PASSWORD: "bench" },
    drop: async () => undefined,
  };
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
  const db = await database();
  try {
    const port = await freePort();
    const api = spawn(process.execPath, ["dist/server.mjs"], {
      cwd: APP,
      env: {
        PATH: process.env.PATH ?? "",
        APP_ENV: "bench",
        PORT: String(port),
        HOST: "127.0.0.1",
        DB_SSL_MODE: "disable",
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
        ...db.env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(api);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error("the API did not become ready");
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
    console.log(`REST API (app/), node ${process.version}, database: ${db.label}\n`);
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
    for (const child of children) child.kill("SIGTERM");
    await db.drop();
  }
}

main().catch((error) => {
  for (const child of children) child.kill("SIGKILL");
  console.error(error);
  process.exit(1);
});
