import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { APP_DIR, databaseEnv, RunningApi } from "../harness/api";
import { BACKENDS, type TestDatabase } from "../harness/database";

jest.setTimeout(60_000);

/**
 * Least privilege inside the database: migrations run as the owner (`node dist/migrate.mjs` with the
 * owner's login, as the API task's migrate container runs it), which creates the app's role and grants
 * it the app's tables; the app's role reads and writes notes and can do nothing else.
 */

/** `node dist/migrate.mjs` as the image runs it; resolves its exit code and output. */
function runMigrate(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dist/migrate.mjs"], {
      cwd: APP_DIR,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}

const PERMISSION_DENIED = "42501";

describe.each(BACKENDS)("the app's role on $name", (backend) => {
  let db: TestDatabase;
  // Roles are the server's, not the database's: a name of this run's own.
  const role = `notes_app_${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  let migrated: { code: number | null; output: string };

  beforeAll(async () => {
    db = await backend.create();
    migrated = await runMigrate({ ...databaseEnv(db), DB_IAM_USER: role, LOG_LEVEL: "info" });
    // The role logs in by IAM token on RDS; here the owner gives it a password, as the game day does.
    if (backend.separateSessions) await db.query(`ALTER ROLE ${role} PASSWORD '${password}'`);
  });
  afterAll(async () => {
    await db?.drop();
    if (backend.separateSessions && db) {
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
    }
  });

  /** Runs statements as the app's role: its own login on a server, SET ROLE on PGlite (one session for every connection). */
  async function asApp<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    if (!backend.separateSessions) {
      const client = await db.client();
      try {
        await client.query(`SET ROLE ${role}`);
        return await work(client);
      } finally {
        await client.query("RESET ROLE").catch(() => undefined);
        await client.end();
      }
    }
    const client = new pg.Client({ host: db.host, port: db.port, database: db.name, user: role, password });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
  const refused = async (sql: string) =>
    asApp((c) =>
      c.query(sql).then(
        () => "allowed",
        (e: { code?: string }) => e.code,
      ),
    );

  it("the migrate entry, as the owner, applies the migrations and creates the role with LOGIN and nothing more", async () => {
    expect(migrated.code).toBe(0);
    expect(migrated.output).toContain("app role granted the app's tables");
    const { rows } = await db.query("SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1", [role]);
    expect(rows).toEqual([{ rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false }]);
    // RDS's rds_iam exists only on RDS: skipped here, granted there.
    const iam = await db.query("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'");
    expect(iam.rowCount).toBe(0);
  });

  it("reads and writes notes", async () => {
    const result = await asApp(async (c) => {
      const { rows } = await c.query<{ id: string }>("INSERT INTO notes (title, body) VALUES ('mine', 'text') RETURNING id");
      await c.query("UPDATE notes SET body = 'changed' WHERE id = $1", [rows[0].id]);
      const read = await c.query("SELECT body FROM notes WHERE id = $1", [rows[0].id]);
      await c.query("DELETE FROM notes WHERE id = $1", [rows[0].id]);
      return read.rows[0].body;
    });
    expect(result).toBe("changed");
  });

  it.each([
    ["DROP TABLE", "DROP TABLE notes"],
    ["ALTER TABLE", "ALTER TABLE notes ADD COLUMN extra text"],
    ["CREATE TABLE", "CREATE TABLE mine (id int)"],
    ["CREATE ROLE", "CREATE ROLE intruder LOGIN"],
    ["TRUNCATE", "TRUNCATE notes"],
    ["a write to the migrations' table", "DELETE FROM pgmigrations"],
  ])("cannot %s", async (_, sql) => {
    expect(await refused(sql)).toBe(PERMISSION_DENIED);
  });

  it("reads which migrations were applied (the app container's check), nothing more of them", async () => {
    expect(await asApp(async (c) => (await c.query("SELECT count(*)::int AS n FROM pgmigrations")).rows[0].n)).toBeGreaterThan(0);
  });

  it("a table the owner creates in a later migration is granted to the role by default privileges", async () => {
    await db.query("CREATE TABLE later_table (id serial PRIMARY KEY, value text)");
    const value = await asApp(async (c) => {
      await c.query("INSERT INTO later_table (value) VALUES ('granted')");
      return (await c.query("SELECT value FROM later_table")).rows[0].value;
    });
    expect(value).toBe("granted");
  });

  it("migrating again is idempotent: the role is kept and granted again", async () => {
    const again = await runMigrate({ ...databaseEnv(db), DB_IAM_USER: role, LOG_LEVEL: "info" });
    expect(again.code).toBe(0);
    expect(again.output).toContain("schema up to date");
  });

  it("refuses to make the owner the app's role", async () => {
    const result = await runMigrate({ ...databaseEnv(db), DB_IAM_USER: db.user });
    expect(result.code).toBe(1);
    expect(result.output).toContain("is the owner, a superuser or bypasses row security");
  });

  (backend.separateSessions ? describe : describe.skip)("logged in as itself (a server: PGlite has one session for every login)", () => {
    it("cannot connect to another database of the owner's", async () => {
      const other = `${db.name}_other`;
      await db.query(`CREATE DATABASE ${other}`);
      try {
        await runMigrate({ ...databaseEnv(db), DB_IAM_USER: role });
        const client = new pg.Client({ host: db.host, port: db.port, database: other, user: role, password });
        const error = await client.connect().then(
          () => undefined,
          (e: { code?: string; message: string }) => e,
        );
        await client.end().catch(() => undefined);
        expect(error?.code).toBe(PERMISSION_DENIED);
        expect(error?.message).toContain("permission denied for database");
      } finally {
        await db.query(`DROP DATABASE IF EXISTS ${other} WITH (FORCE)`);
      }
    });

    it("the API serves as the app's role, checking the schema instead of migrating (a login that does not own the database)", async () => {
      const api = await RunningApi.start({ ...databaseEnv(db), DB_USERNAME: role, DB_PASSWORD: password });
      try {
        expect(api.logs.map((l) => l.msg)).toContain("schema up to date (migrated by the owner)");
        const res = await api.json("POST", "/notes", { title: "as the app's role" });
        expect(res.status).toBe(201);
      } finally {
        await api.stop();
      }
    });

    it("the app's role on an unmigrated database cannot migrate: it fails naming the pending migrations", async () => {
      const fresh = await backend.create();
      try {
        await fresh.query(`GRANT CONNECT ON DATABASE ${fresh.name} TO ${role}`);
        const result = await runMigrate({ ...databaseEnv(fresh), DB_USERNAME: role, DB_PASSWORD: password });
        expect(result.code).toBe(1);
        expect(result.output).toMatch(
          /2 migrations are not applied \(1763800000000_create-notes, 1764000000000_note-word-count\), and this login does not own/,
        );
      } finally {
        await fresh.drop();
      }
    });
  });
});
