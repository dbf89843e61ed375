import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { APP_DIR, RunningApi, databaseEnv } from "../harness/api";
import { BACKENDS, type TestDatabase } from "../harness/database";

jest.setTimeout(60_000);

/**
 * The runtime image holds only dist/ and migrations/ (app/Dockerfile), runs as uid 1000, and its root
 * filesystem is read-only. With no Docker engine here, the same layout is staged in a folder: no
 * node_modules anywhere above it, nothing writable, and, when the tests run as root, uid 1000.
 */
const asUid1000 = process.getuid?.() === 0 ? ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"] : [];

function makeReadOnly(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) makeReadOnly(full);
    chmodSync(full, statSync(full).isDirectory() ? 0o555 : 0o444);
  }
  chmodSync(dir, 0o555);
}

describe("the API from the image's layout", () => {
  let dir: string;
  let db: TestDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "notes-image-"));
    cpSync(path.join(APP_DIR, "dist"), path.join(dir, "dist"), { recursive: true });
    cpSync(path.join(APP_DIR, "migrations"), path.join(dir, "migrations"), { recursive: true });
    makeReadOnly(dir);
    db = await BACKENDS[BACKENDS.length - 1].create();
  });
  afterAll(async () => {
    await db?.drop();
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  });

  it("has no node_modules to fall back on: the bundle must carry every dependency", () => {
    for (let at = dir; at !== path.dirname(at); at = path.dirname(at)) expect(existsSync(path.join(at, "node_modules"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["dist", "migrations"]);
  });

  it("migrates, serves, passes its health check and stops cleanly, writing nothing", async () => {
    const api = await RunningApi.start({ ...databaseEnv(db), HOME: "/nonexistent" }, { cwd: dir, prefix: asUid1000 });
    try {
      const created = await api.json("POST", "/notes", { title: "from the image layout" });
      expect(created.status).toBe(201);
      const probe = spawnSync(
        asUid1000[0] ?? process.execPath,
        [...asUid1000.slice(1), ...(asUid1000.length ? [process.execPath] : []), "dist/healthcheck.mjs"],
        {
          cwd: dir,
          env: { PORT: String(api.port) },
          timeout: 10_000,
        },
      );
      expect(probe.status).toBe(0);
    } finally {
      expect(await api.stop()).toBe(0);
    }
    expect(readdirSync(dir).sort()).toEqual(["dist", "migrations"]);
  });
});
