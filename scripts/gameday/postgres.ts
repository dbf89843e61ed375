/**
 * PostgreSQL 15 standing in for RDS: a server of the game day's own (initdb into a temporary folder,
 * a free loopback port), so it can be restarted and its login rotated without touching any other
 * database on the machine. Passwords are checked as RDS checks them (scram-sha-256 over TCP); the
 * harness itself connects as the superuser through the server's Unix socket.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const RUNS_AS_ROOT = process.getuid?.() === 0;
/** PostgreSQL refuses to run as root; as root the server runs as the image's uid instead. */
const SERVER_UID = 1000;

/** The folder of PostgreSQL's server programs: PG_BIN, or Debian's for the newest installed version. */
export function findPostgres(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.PG_BIN
    ? [env.PG_BIN]
    : existsSync("/usr/lib/postgresql")
      ? readdirSync("/usr/lib/postgresql")
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  const found = candidates.find((dir) => existsSync(join(dir, "postgres")) && existsSync(join(dir, "initdb")));
  if (!found)
    throw new Error(
      "PostgreSQL's server programs were not found (looked in PG_BIN and /usr/lib/postgresql/*/bin). Install them with " +
        "`apt-get install -y postgresql-15` (docs/gameday.md's requirement), point PG_BIN at the folder holding postgres and initdb, " +
        "or set SKIP_GAMEDAY=1 to skip the game day.",
    );
  return found;
}

function asServerUser(bin: string, args: string[]): [string, string[]] {
  return RUNS_AS_ROOT ? ["setpriv", [`--reuid=${SERVER_UID}`, `--regid=${SERVER_UID}`, "--clear-groups", bin, ...args]] : [bin, args];
}

export class Postgres {
  private server?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(port: number): Promise<Postgres> {
    const bin = findPostgres();
    const dir = mkdtempSync(join(tmpdir(), "gameday-pg-"));
    if (RUNS_AS_ROOT) chownSync(dir, SERVER_UID, SERVER_UID);
    chmodSync(dir, 0o700);
    const [cmd, args] = asServerUser(join(bin, "initdb"), [
      "-D",
      join(dir, "data"),
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
    ]);
    const init = spawnSync(cmd, args, { encoding: "utf8" });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error}`);
    const db = new Postgres(bin, dir, port);
    await db.startServer();
    return db;
  }

  /** The superuser, through the socket; for the harness only. */
  admin(database = "postgres"): pg.Client {
    return new pg.Client({ host: this.dir, port: this.port, user: "postgres", database });
  }

  async sql(text: string, values?: unknown[], database?: string): Promise<pg.QueryResult> {
    const client = this.admin(database);
    await client.connect();
    try {
      return await client.query(text, values);
    } finally {
      await client.end();
    }
  }

  /** RDS's first state: the master user owning the database, with this password; as RDS's, it may create roles and databases, and is no superuser. */
  async createMaster(username: string, password: string, database: string): Promise<void> {
    await this.sql(`CREATE ROLE ${pg.escapeIdentifier(username)} LOGIN CREATEROLE CREATEDB PASSWORD ${pg.escapeLiteral(password)}`);
    await this.sql(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${pg.escapeIdentifier(username)}`);
  }

  async setPassword(username: string, password: string): Promise<void> {
    await this.sql(`ALTER ROLE ${pg.escapeIdentifier(username)} PASSWORD ${pg.escapeLiteral(password)}`);
  }

  /**
   * Ends the role's sessions that have sat idle for a second, as the pool's idle timeout would close
   * them: the next connection is a new login. (A session that just went idle could be handed a query
   * in the instant it ends; a pool reuses its most recent connection first, so those are left alone.)
   */
  async dropIdleSessions(username: string): Promise<number> {
    const { rows } = await this.sql(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE usename = $1 AND state = 'idle' AND state_change < now() - interval '1 second' AND pid <> pg_backend_pid()`,
      [username],
    );
    return rows[0].n;
  }

  /** Stops the server as a reboot does (fast: sessions are ended, transactions rolled back), then starts it again after `downMs`. */
  async restart(downMs: number): Promise<void> {
    await this.stopServer();
    await new Promise((r) => setTimeout(r, downMs));
    await this.startServer();
  }

  async stop(): Promise<void> {
    await this.stopServer();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    writeFileSync(join(this.dir, "data", "postgresql.auto.conf"), "");
    const [cmd, args] = asServerUser(join(this.bin, "postgres"), [
      "-D",
      join(this.dir, "data"),
      "-p",
      String(this.port),
      "-k",
      this.dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
    ]);
    const server = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    server.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    this.server = server;
    this.exited = new Promise((resolve) => server.once("exit", () => resolve()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.sql("SELECT 1");
        return;
      } catch {
        if (server.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async stopServer(): Promise<void> {
    if (!this.server || this.server.exitCode !== null) return;
    // SIGINT is PostgreSQL's fast shutdown: sessions ended, a clean checkpoint.
    this.server.kill("SIGINT");
    await this.exited;
  }
}
