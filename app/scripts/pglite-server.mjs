// An embedded PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly) served on a TCP port, so the API
// connects to it with node-postgres exactly as to a real server. Used by the tests, `npm run api:local`
// and the benchmark when no PostgreSQL URL is given. Prints {"port": N} once it listens.
//   node scripts/pglite-server.mjs [--port 0] [--data <dir>]   (no --data: in memory)
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, data: { type: "string" }, connections: { type: "string", default: "32" } } });
const db = await PGlite.create(values.data ?? "memory://");
const server = new PGLiteSocketServer({ db, port: Number(values.port), host: "127.0.0.1", maxConnections: Number(values.connections) });
server.addEventListener("error", () => undefined);
await server.start();
// getServerConn() is "host:port", with the port the OS chose for --port 0.
process.stdout.write(`${JSON.stringify({ port: Number(server.getServerConn().split(":").pop()) })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
