/**
 * The API started from its dist/ as the image runs it, for the app's tests, the bench
 * (scripts/bench-api.ts) and the game day: not shipped in the image, which copies dist/ only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import type { TestDatabase } from "./database";
import { RunningProcess } from "./process";

export const APP_DIR = path.join(__dirname, "..");

export interface StartOptions {
  /** Resolve when the process has started listening. @default true */
  readonly waitForListening?: boolean;
  /** Folder holding dist/ and migrations/. @default the app folder */
  readonly cwd?: string;
  /** A command that runs node, e.g. setpriv to change user. @default none */
  readonly prefix?: readonly string[];
}

/** The API as the image runs it: `node dist/server.mjs` in the app folder, configured by environment. */
export class RunningApi extends RunningProcess {
  private constructor(
    process: ChildProcess,
    readonly port: number,
  ) {
    super(process, "the API");
  }

  /** Starts the API and waits until it listens (or exits, e.g. on a bad environment). */
  static async start(env: Record<string, string>, options: StartOptions = {}): Promise<RunningApi> {
    const port = Number(env.PORT ?? (await freePort()));
    const [command, ...args] = [...(options.prefix ?? []), process.execPath, "dist/server.mjs"];
    const child = spawn(command, args, {
      cwd: options.cwd ?? APP_DIR,
      env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const api = new RunningApi(child, port);
    if (options.waitForListening !== false) await api.waitForLog((line) => String(line.msg).startsWith("Server listening"), 30_000);
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  fetch(pathname: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.url}${pathname}`, init);
  }

  json(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(pathname, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    return this.signal(signal);
  }
}

export function databaseEnv(db: Pick<TestDatabase, "host" | "port" | "name" | "user" | "password">, port = db.port): Record<string, string> {
  return {
    APP_ENV: "test",
    DB_HOST: db.host,
    DB_PORT: String(port),
    DB_NAME: db.name,
    DB_USERNAME: db.user,
    DB_PASSWORD: db.password,
    DB_SSL_MODE: "disable",
    LOG_LEVEL: "info",
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
