/**
 * Stopping without losing a request. ECS sends SIGTERM either after it deregistered the task from the
 * load balancer (a deploy, a scale-in: nothing routes here any more) or while the target is still
 * registered (a Fargate Spot interruption, a task stopped by hand). The task cannot tell which, so it
 * first fails its health check and keeps serving: once the load balancer has seen enough failures it
 * stops sending requests, and the task closes. When no request at all, health checks included, has
 * arrived for `quietMs`, nothing is routing here and the wait ends early.
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

  /** Every request, health checks included. */
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
