// `npm run api:local`: the API on http://localhost:8080 against a local database. With DB_HOST set, it
// uses that database (e.g. a PostgreSQL on this machine); otherwise an embedded PGlite keeps its data
// in .local/pgdata at the repository root (API_LOCAL_DATA names another folder). It builds the bundle
// first. Ctrl-C, or SIGTERM or SIGINT to this process or to the npm that started it, stops both.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

import cli from "../../cli/cli.cjs";

// Its own signal handling below: the children get SIGTERM (the API drains) whichever signal arrives.
cli
  .defineCommand({
    name: "api:local",
    summary: "The API on http://localhost:8080 (PORT) against a local database: DB_HOST's, or an embedded PGlite keeping its data in .local/pgdata.",
    needs: ["nothing beyond Node.js and `npm ci`; DB_HOST (and DB_PORT, DB_NAME, DB_USERNAME, DB_PASSWORD) for a PostgreSQL of your own"],
    examples: ["npm run api:local", "API_LOCAL_DATA=/tmp/pgdata npm run api:local"],
  })
  .start(process.argv.slice(2), { signals: false });

const appDir = path.join(import.meta.dirname, "..");
await import("../build.mjs");
const env = { ...process.env, APP_ENV: process.env.APP_ENV ?? "local", PORT: process.env.PORT ?? "8080", DB_SSL_MODE: process.env.DB_SSL_MODE ?? "disable" };
const children = [];

if (!process.env.DB_HOST) {
  const data = process.env.API_LOCAL_DATA ?? path.join(appDir, "..", ".local", "pgdata");
  mkdirSync(data, { recursive: true });
  const db = spawn(process.execPath, [path.join(appDir, "scripts", "pglite-server.mjs"), "--port", process.env.DB_PORT ?? "5433", "--data", data], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(db);
  const { port } = JSON.parse(
    await new Promise((resolve, reject) => {
      db.once("exit", (code) => reject(new Error(`the embedded database exited with ${code} (is port ${process.env.DB_PORT ?? 5433} taken? set DB_PORT)`)));
      createInterface({ input: db.stdout }).once("line", resolve);
    }),
  );
  Object.assign(env, { DB_HOST: "127.0.0.1", DB_PORT: String(port), DB_NAME: "postgres", DB_USERNAME: "postgres", DB_PASSWORD: "local" });
  process.stderr.write(`api:local: embedded PostgreSQL (PGlite) on 127.0.0.1:${port}, data in ${path.relative(process.cwd(), data)}\n`);
}

const api = spawn(process.execPath, ["dist/server.mjs"], { cwd: appDir, env, stdio: "inherit" });
children.push(api);
const stop = (signal) => children.forEach((child) => child.exitCode === null && child.signalCode === null && child.kill(signal));
process.on("SIGINT", () => stop("SIGTERM"));
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGHUP", () => stop("SIGTERM"));

// `kill <pid of npm run api:local>` reaches npm, but not through the shell npm runs this in: when a
// process that started this one is gone, stop as if signalled. (/proc: Linux; elsewhere Ctrl-C only.)
const parentOf = (pid) => {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
  } catch {
    return undefined;
  }
};
const starters = [];
for (let pid = process.ppid; pid > 1 && starters.length < 4; pid = parentOf(pid)) starters.push(pid);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
setInterval(() => {
  if (starters.some((pid) => !alive(pid) || parentOf(pid) === undefined)) stop("SIGTERM");
}, 300).unref();
api.on("exit", (code) => {
  stop("SIGTERM");
  process.exitCode = code ?? 1;
});
