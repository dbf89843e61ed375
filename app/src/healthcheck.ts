import { request } from "node:http";

/**
 * The container health check (`node dist/healthcheck.mjs`): the runtime image has no shell, curl or
 * wget, only node. Exit 0 when GET /health answers 200 within 3 s.
 */
const port = Number(process.env.PORT ?? 8080);
const req = request({ host: "127.0.0.1", port, path: "/health", timeout: 3000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timeout")));
req.on("error", () => process.exit(1));
req.end();
