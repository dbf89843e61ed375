import { request } from "node:http";
import { CONTAINER_HEALTH_CHECK_AGENT } from "./drain";

/**
 * The container health check (`node dist/healthcheck.mjs`): the runtime image has no shell, curl or
 * wget, only node. Exit 0 when GET /health answers 200 within 3 s. It names itself (User-Agent), so a
 * draining task does not count it as the load balancer still routing here (drain.ts).
 */
const port = Number(process.env.PORT ?? 8080);
const req = request({ host: "127.0.0.1", port, path: "/health", timeout: 3000, headers: { "user-agent": CONTAINER_HEALTH_CHECK_AGENT } }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timeout")));
req.on("error", () => process.exit(1));
req.end();
