import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";

/**
 * The PostgreSQL servers the app's tests run against: PGlite (embedded, always) and, when
 * TEST_DATABASE_URL is set, a real server (CI starts PostgreSQL 15 and sets it). Each suite gets a
 * fresh, empty database.
 */
export interface TestDatabase {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
  /** Runs SQL on a connection of its own. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A client the test controls (e.g. to hold a row lock). */
  client(): Promise<pg.Client>;
  drop(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /**
   * PGlite is one PostgreSQL backend behind a multiplexer: every connection shares one session, so
   * session-level advisory locks cannot exclude each other there. Tests of the migration lock need
   * a real server.
   */
  readonly separateSessions: boolean;
  create(): Promise<TestDatabase>;
}

const APP_DIR = path.join(__dirname, "..");

export const BACKENDS: readonly Backend[] = [
  { name: "PGlite (embedded)", separateSessions: false, create: createPglite },
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: "PostgreSQL server (TEST_DATABASE_URL)", separateSessions: true, create: () => createOnServer(process.env.TEST_DATABASE_URL!) }]
    : []),
];

function helpers(config: pg.ClientConfig, drop: () => Promise<void>) {
  return {
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      const client = new pg.Client(config);
      await client.connect();
      try {
        return await client.query<R>(text, values);
      } finally {
        await client.end();
      }
    },
    async client() {
      const client = new pg.Client(config);
      await client.connect();
      return client;
    },
    drop,
  };
}

/** Starts the embedded server in a process of its own (PGlite is WebAssembly; jest's sandbox is not the place). */
export async function startPgliteServer(): Promise<{ port: number; process: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(APP_DIR, "scripts", "pglite-server.mjs"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`pglite-server exited with ${code} before listening`)));
    lines.once("line", (line) => resolve(JSON.parse(line).port));
  });
  return { port, process: child };
}

/** A fresh in-memory PGlite behind its own socket server. */
export async function createPglite(): Promise<TestDatabase> {
  const server = await startPgliteServer();
  const config = { host: "127.0.0.1", port: server.port, database: "postgres", user: "postgres", password: "postgres" };
  const drop = async () => {
    if (server.process.exitCode !== null) return;
    const exited = new Promise((resolve) => server.process.once("exit", resolve));
    server.process.kill("SIGTERM");
    await exited;
  };
  return { host: config.host, port: config.port, name: config.database, user: config.user, password: config.password, ...helpers(config, drop) };
}

/** A fresh database on the server at `serverUrl`, whose user may create databases; `drop()` removes it. */
export async function createOnServer(serverUrl: string): Promise<TestDatabase> {
  const url = new URL(serverUrl);
  const admin = { connectionString: url.toString() };
  const name = `notes_test_${randomBytes(6).toString("hex")}`;
  const run = async (sql: string) => {
    const client = new pg.Client(admin);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const config = {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: name,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
  return {
    host: config.host,
    port: config.port,
    name,
    user: config.user,
    password: config.password,
    ...helpers(config, () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}
