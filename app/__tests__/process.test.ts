import { spawnSync } from "node:child_process";
import path from "node:path";
import net from "node:net";
import { APP_DIR, RunningApi, databaseEnv } from "../harness/api";
import { BACKENDS, type TestDatabase } from "../harness/database";
import { CuttableProxy } from "./support/proxy";

jest.setTimeout(90_000);

describe("starting with a bad environment", () => {
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["dist/server.mjs"], { cwd: APP_DIR, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8", timeout: 20_000 });
  const good = { APP_ENV: "test", DB_HOST: "127.0.0.1", DB_NAME: "app", DB_USERNAME: "app", DB_PASSWORD: "s3cret-value", DB_SSL_MODE: "disable" };

  it("stops with exit 1 and one line naming each missing variable, no stack trace", () => {
    const result = run({ APP_ENV: "test" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    for (const name of ["DB_HOST", "DB_NAME", "DB_USERNAME", "DB_PASSWORD"]) expect(result.stderr).toContain(`${name}: not set`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("names a bad value and never prints the password", () => {
    const result = run({ ...good, PORT: "http", DB_PASSWORD: "s3cret-value", DB_POOL_MAX: "0" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT = "http": not a number');
    expect(result.stderr).toContain('DB_POOL_MAX = "0": below 1');
    expect(result.stderr).not.toContain("s3cret-value");
  });
});

describe.each(BACKENDS)("the API process on $name", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("refuses to talk to the database without TLS by default (DB_SSL_MODE=verify-full)", async () => {
    const api = await RunningApi.start({ ...databaseEnv(db), DB_SSL_MODE: "verify-full" }, { waitForListening: false });
    expect(await api.exitCode()).toBe(1);
    expect(api.stderr.join("\n")).toMatch(/does not support SSL/);
  });

  (backend.separateSessions ? it : it.skip)("three processes starting at once apply each migration once, and all serve", async () => {
    const fresh = await backend.create();
    try {
      const apis = await Promise.all([0, 1, 2].map(() => RunningApi.start(databaseEnv(fresh))));
      try {
        const applied = apis.flatMap((api) => api.logs.filter((l) => l.msg === "migrations applied" || l.msg === "schema up to date"));
        expect(applied).toHaveLength(3);
        expect(applied.filter((l) => l.msg === "migrations applied")).toHaveLength(1);
        const { rows } = await fresh.query<{ name: string }>("SELECT name FROM pgmigrations");
        expect(rows.map((r) => r.name)).toEqual(["1763800000000_create-notes", "1764000000000_note-word-count"]);
        for (const api of apis) expect((await api.fetch("/ready")).status).toBe(200);
      } finally {
        await Promise.all(apis.map((api) => api.stop()));
      }
    } finally {
      await fresh.drop();
    }
  });

  it("a second start finds the schema up to date", async () => {
    const first = await RunningApi.start(databaseEnv(db));
    await first.stop();
    const second = await RunningApi.start(databaseEnv(db));
    await second.stop();
    expect(second.logs.find((l) => l.msg === "schema up to date")).toBeDefined();
  });

  it("on SIGTERM finishes the request in flight, refuses new ones, closes the pool and exits 0", async () => {
    const api = await RunningApi.start(databaseEnv(db));
    const created = (await (await api.json("POST", "/notes", { title: "locked" })).json()) as { id: string };
    // A transaction holding the note's row keeps the PATCH below waiting inside the app.
    const holder = await db.client();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM notes WHERE id = $1 FOR UPDATE", [created.id]);
      const inFlight = api.json("PATCH", `/notes/${created.id}`, { title: "finished during shutdown" });
      await api.waitForLog((l) => l.msg === "incoming request" && (l.req as { method: string }).method === "PATCH");
      const started = Date.now();
      api.process.kill("SIGTERM");
      await api.waitForLog((l) => l.msg === "shutting down: no new connections, finishing requests in flight");
      const during = await fetch(`${api.url}/health`).then(
        (r) => r.status,
        () => "refused",
      );
      expect(during).toBe("refused");
      expect(api.process.exitCode).toBeNull();
      await holder.query("COMMIT");
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ title: "finished during shutdown" });
      const code = await api.exitCode();
      expect({ code, stderr: api.stderr, lastLogs: api.logs.slice(-3) }).toMatchObject({ code: 0, stderr: [] });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(api.logs.map((l) => l.msg)).toContain("stopped");
    } finally {
      await holder.end();
      await api.stop("SIGKILL");
    }
  });

  it("on SIGTERM behind a load balancer: fails /health, keeps serving while checks keep coming, closes at DRAIN_TIMEOUT_MS", async () => {
    const drain = { DRAIN_TIMEOUT_MS: "2000", DRAIN_QUIET_MS: "1000" };
    const api = await RunningApi.start({ ...databaseEnv(db), ...drain });
    const started = Date.now();
    api.process.kill("SIGTERM");
    await api.waitForLog((l) => String(l.msg).startsWith("stopping: failing the health check"));
    const seen: string[] = [];
    // A load balancer checking every 200 ms, and traffic still arriving until it lets go.
    while (api.process.exitCode === null && Date.now() - started < 10_000) {
      const health = await api.fetch("/health").then(
        (r) => r.status,
        () => "refused",
      );
      const read = await api.fetch("/notes?limit=1").then(
        (r) => r.status,
        () => "refused",
      );
      seen.push(`${health}/${read}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const elapsed = Date.now() - started;
    expect(await api.exitCode()).toBe(0);
    expect(seen[0]).toBe("503/200");
    expect(seen.filter((s) => s === "503/200").length).toBeGreaterThanOrEqual(5);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(api.logs.find((l) => l.msg === "drained")).toMatchObject({ reason: "timeout" });
  });

  it("on SIGTERM after the load balancer let go (no request for DRAIN_QUIET_MS), closes without waiting out the drain", async () => {
    const api = await RunningApi.start({ ...databaseEnv(db), DRAIN_TIMEOUT_MS: "20000", DRAIN_QUIET_MS: "500" });
    await new Promise((r) => setTimeout(r, 600));
    const started = Date.now();
    api.process.kill("SIGTERM");
    expect(await api.exitCode()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(api.logs.find((l) => l.msg === "drained")).toMatchObject({ reason: "quiet" });
  });

  it("on SIGTERM after the load balancer let go, the container health check (run as ECS runs it, more often than DRAIN_QUIET_MS) does not keep it alive", async () => {
    const api = await RunningApi.start({ ...databaseEnv(db), DRAIN_TIMEOUT_MS: "20000", DRAIN_QUIET_MS: "1000" });
    const started = Date.now();
    api.process.kill("SIGTERM");
    await api.waitForLog((l) => String(l.msg).startsWith("stopping: failing the health check"));
    // The task definition's health check command, every 300 ms; no load balancer request at all.
    const exits: (number | null)[] = [];
    while (api.process.exitCode === null && Date.now() - started < 10_000) {
      exits.push(spawnSync(process.execPath, ["dist/healthcheck.mjs"], { cwd: APP_DIR, env: { PORT: String(api.port) }, timeout: 5000 }).status);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(await api.exitCode()).toBe(0);
    // It ran against the draining task (503: exit 1), and the task still closed at the quiet, far before DRAIN_TIMEOUT_MS.
    expect(exits.filter((e) => e === 1).length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(api.logs.find((l) => l.msg === "drained")).toMatchObject({ reason: "quiet" });
  });

  (backend.separateSessions ? it : it.skip)("a migration lock held past MIGRATION_TIMEOUT_MS fails the start within it, naming the budget", async () => {
    const fresh = await backend.create();
    const holder = await fresh.client();
    try {
      // node-pg-migrate's lock: another task migrating for longer than this task's budget.
      await holder.query("SELECT pg_advisory_lock(7241865325823964)");
      const started = Date.now();
      const api = await RunningApi.start({ ...databaseEnv(fresh), MIGRATION_TIMEOUT_MS: "3000" }, { waitForListening: false });
      expect(await api.exitCode()).toBe(1);
      expect(Date.now() - started).toBeLessThan(8000);
      expect(api.stderr.join("\n")).toContain("migrations did not finish within MIGRATION_TIMEOUT_MS (3000 ms");
      expect((await fresh.query("SELECT to_regclass('notes') AS t")).rows[0].t).toBeNull();
    } finally {
      await holder.end();
      await fresh.drop();
    }
  });

  it("is not ready while the database is unreachable, stays alive, and recovers", async () => {
    const proxy = await CuttableProxy.start({ host: db.host, port: db.port });
    const api = await RunningApi.start(databaseEnv(db, proxy.port));
    try {
      expect((await api.fetch("/ready")).status).toBe(200);
      const note = (await (await api.json("POST", "/notes", { title: "survives" })).json()) as { id: string };

      proxy.sever();
      const ready = await api.fetch("/ready");
      expect(ready.status).toBe(503);
      expect(ready.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect((await api.fetch("/health")).status).toBe(200);
      const read = await api.fetch(`/notes/${note.id}`);
      expect(`${read.status} ${await read.clone().text()}`).toMatch(/^503 /);
      expect(read.headers.get("retry-after")).toBe("5");

      proxy.restore();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await api.fetch("/ready")).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      expect((await api.fetch(`/notes/${note.id}`)).status).toBe(200);
    } finally {
      await api.stop();
      await proxy.stop();
    }
  });

  it("the container health check command exits 0 against a live API and 1 when nothing listens", async () => {
    const api = await RunningApi.start(databaseEnv(db));
    const healthcheck = (port: number) =>
      spawnSync(process.execPath, [path.join(APP_DIR, "dist", "healthcheck.mjs")], { env: { PORT: String(port) }, timeout: 10_000 }).status;
    try {
      expect(healthcheck(api.port)).toBe(0);
    } finally {
      await api.stop();
    }
    // A port held by a server that answers nothing: a port merely free could be taken by a parallel test's API before the check runs.
    const silent = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      expect(healthcheck((silent.address() as net.AddressInfo).port)).toBe(1);
    } finally {
      silent.close();
    }
  });
});
