/**
 * A database that cannot answer is a 503 with Retry-After, never a 500: node-postgres's own timeouts,
 * PostgreSQL's cancel and connection limit, and a failover's silent sockets; TCP keepalive on the pool's
 * connections. The last test runs the bundled API against PostgreSQL through a proxy that goes silent (no
 * FIN, no RST), as an RDS Multi-AZ failover leaves the old primary's connections.
 */
import net from "node:net";
import { readConfig } from "../src/config";
import { CredentialsUnavailable, fixedCredentials } from "../src/credentials";
import { connectionConfig, createPool, isUnavailable } from "../src/database";
import { RunningApi, databaseEnv } from "../harness/api";
import { BACKENDS } from "../harness/database";
import { CuttableProxy } from "./support/proxy";

jest.setTimeout(60_000);

const pgError = (code: string, message = "error") => Object.assign(new Error(message), { code });

describe("isUnavailable: the database cannot answer now (503), not a wrong query (500)", () => {
  it.each([
    ["node-postgres's query_timeout on a socket that stopped answering", new Error("Query read timeout")],
    ["statement_timeout (57014)", pgError("57014", "canceling statement due to statement timeout")],
    ["too many connections (53300)", pgError("53300", "sorry, too many clients already")],
    ["a client's connect timeout", new Error("Connection terminated due to connection timeout")],
    ["the pool's connect timeout", new Error("timeout exceeded when trying to connect")],
    ["a connection ended mid-query", new Error("Connection terminated unexpectedly")],
    ["the server starting up (57P03)", pgError("57P03")],
    ["a crash shutdown (57P02)", pgError("57P02")],
    ["unable to establish a connection (08001)", pgError("08001")],
    ["a TCP timeout", pgError("ETIMEDOUT")],
    ["the login's source unreachable", new CredentialsUnavailable(new Error("no answer within 5000 ms"))],
  ])("%s", (_, error) => {
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ["a syntax error (42601)", pgError("42601")],
    ["a unique violation (23505)", pgError("23505")],
    ["a plain bug", new TypeError("x is undefined")],
  ])("but not %s", (_, error) => {
    expect(isUnavailable(error)).toBe(false);
  });
});

describe("the pool's connections", () => {
  const env = { APP_ENV: "test", DB_HOST: "127.0.0.1", DB_NAME: "app", DB_USERNAME: "u", DB_PASSWORD: "p", DB_SSL_MODE: "disable" };

  it("take their timeouts from the environment (so the game day scales them), the statement's below the query's", () => {
    const config = readConfig({ ...env, DB_CONNECT_TIMEOUT_MS: "300", DB_STATEMENT_TIMEOUT_MS: "400", DB_QUERY_TIMEOUT_MS: "500", DB_KEEPALIVE_MS: "700" });
    expect(connectionConfig(config, fixedCredentials({ username: "u", password: "p" }), "u")).toMatchObject({
      connectionTimeoutMillis: 300,
      statement_timeout: 400,
      query_timeout: 500,
      keepAlive: true,
      keepAliveInitialDelayMillis: 700,
    });
    expect(() => readConfig({ ...env, DB_STATEMENT_TIMEOUT_MS: "11000" })).toThrow("DB_STATEMENT_TIMEOUT_MS");
  });

  it("set TCP keepalive on the socket, after DB_KEEPALIVE_MS of idleness", async () => {
    // A server that takes the connection and never answers: what matters is the socket the pool made.
    const server = net.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const calls: unknown[][] = [];
    const spy = jest.spyOn(net.Socket.prototype, "setKeepAlive").mockImplementation(function (this: net.Socket, ...args: unknown[]) {
      calls.push(args);
      return this;
    });
    try {
      const config = readConfig({ ...env, DB_PORT: String((server.address() as net.AddressInfo).port), DB_CONNECT_TIMEOUT_MS: "200", DB_KEEPALIVE_MS: "1234" });
      const pool = await createPool(config);
      pool.on("error", () => undefined);
      const error = await pool.query("SELECT 1").catch((e: unknown) => e);
      expect(isUnavailable(error)).toBe(true);
      expect(calls).toContainEqual([true, 1234]);
      await pool.end();
    } finally {
      spy.mockRestore();
      server.close();
    }
  });
});

const postgres = BACKENDS.find((b) => b.separateSessions) ?? BACKENDS[0];

describe(`a failover's silent connections, on ${postgres.name}`, () => {
  it("every request answers 503 with Retry-After within the query timeout, none 500, and the API recovers when the database answers again", async () => {
    const db = await postgres.create();
    const proxy = await CuttableProxy.start({ host: db.host, port: db.port });
    const api = await RunningApi.start({
      ...databaseEnv(db, proxy.port),
      DB_CONNECT_TIMEOUT_MS: "500",
      DB_STATEMENT_TIMEOUT_MS: "600",
      DB_QUERY_TIMEOUT_MS: "800",
      RETRY_AFTER_SECONDS: "2",
    });
    try {
      const note = (await (await api.json("POST", "/notes", { title: "before the failover" })).json()) as { id: string };
      // Connections in the pool, open and idle, as a busy task has them.
      await Promise.all(Array.from({ length: 5 }, () => api.fetch(`/notes/${note.id}`)));
      proxy.blackhole();
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const res = i % 2 ? await api.fetch(`/notes/${note.id}`) : await api.json("POST", "/notes", { title: "during" });
          return { status: res.status, retryAfter: res.headers.get("retry-after"), ms: Date.now() - started };
        }),
      );
      for (const answer of answers) expect(answer).toMatchObject({ status: 503, retryAfter: "2" });
      // Bounded by the query timeout (on a pooled connection) or the connect timeout (a new one), not by TCP's minutes.
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(3000);
      proxy.restore();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await api.fetch(`/notes/${note.id}`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await api.stop();
      await proxy.stop();
      await db.drop();
    }
  });
});
