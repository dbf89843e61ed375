/**
 * The User-Agent of the container health check (dist/healthcheck.mjs, the task definition's
 * `healthCheck` command): its requests come from inside the task, so they say nothing about whether the
 * load balancer still routes here, and must not keep a drained task alive (isContainerHealthCheck).
 */
export const CONTAINER_HEALTH_CHECK_AGENT = "ecs-container-health-check";

/**
 * The container health check's own request: GET of the health path from the task itself (loopback), with
 * its User-Agent. The load balancer's come from its nodes' addresses (awsvpc), with its own User-Agent.
 */
export function isContainerHealthCheck(request: { url: string; headers: Record<string, unknown>; remoteAddress?: string }): boolean {
  const loopback = request.remoteAddress === "127.0.0.1" || request.remoteAddress === "::1" || request.remoteAddress === "::ffff:127.0.0.1";
  return loopback && request.url === "/health" && request.headers["user-agent"] === CONTAINER_HEALTH_CHECK_AGENT;
}

/**
 * Stopping without losing a request. ECS sends SIGTERM either after it deregistered the task from the
 * load balancer (a deploy, a scale-in: nothing routes here any more) or while the target is still
 * registered (a Fargate Spot interruption, a task stopped by hand). The task cannot tell which, so it
 * first fails its health check and keeps serving: once the load balancer has seen enough failures it
 * stops sending requests, and the task closes. When no request at all, the load balancer's health checks
 * included, has arrived for `quietMs`, nothing is routing here and the wait ends early. The container
 * health check's requests are not counted (app.ts): they come from inside the task whether or not the load
 * balancer still routes here, so with an interval under `quietMs` they would hold a deregistered task to
 * the whole drain.
 */
export class Drain {
  private startedAt?: number;
  private lastRequestAt: number;

  constructor(
    /** The longest the task keeps serving after SIGTERM: the target group's unhealthyThreshold × interval + timeout. */
    readonly timeoutMs: number,
    /** No request for this long (the health check's interval + timeout) means the load balancer no longer checks this task. */
    readonly quietMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastRequestAt = now();
  }

  /** True once SIGTERM arrived: the health check answers 503. */
  get draining(): boolean {
    return this.startedAt !== undefined;
  }

  /** Every request but the container health check's, the load balancer's health checks included. */
  seen(): void {
    this.lastRequestAt = this.now();
  }

  /** Starts failing the health check; resolves when the load balancer has had time to stop sending requests. */
  async begin(): Promise<{ waitedMs: number; reason: "quiet" | "timeout" | "none" }> {
    this.startedAt ??= this.now();
    if (this.timeoutMs === 0) return { waitedMs: 0, reason: "none" };
    for (;;) {
      const now = this.now();
      if (now - this.lastRequestAt >= this.quietMs) return { waitedMs: now - this.startedAt, reason: "quiet" };
      if (now - this.startedAt >= this.timeoutMs) return { waitedMs: now - this.startedAt, reason: "timeout" };
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, this.quietMs)));
    }
  }
}
