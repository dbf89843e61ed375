/**
 * The ECS service scheduler, as far as the game day needs it: keep `desiredCount` tasks running and
 * registered with the load balancer, replace a task that stopped, failed its container health check
 * or failed the load balancer's health check after the grace period, and roll a deployment in ECS's
 * order with the service's minimum and maximum healthy percent and its circuit breaker.
 *
 * ECS's order for a task it stops: deregister the target, wait the deregistration delay, then
 * SIGTERM, SIGKILL after the stop timeout. A Fargate Spot interruption or a crash skips the first two.
 */
import type { LoadBalancer } from "./haproxy";
import type { StagedImage } from "./image";
import type { ServiceSpec, TargetGroupSpec } from "./stack";
import type { Task } from "./task";
import type { Timing } from "./haproxy";

export interface ServiceEvent {
  readonly at: number;
  readonly message: string;
}

interface Managed {
  readonly task: Task;
  readonly image: StagedImage;
  /** The load balancer has reported it healthy at least once. */
  everHealthy: boolean;
  /** Being stopped or replaced by the scheduler already. */
  leaving: boolean;
  registered: boolean;
  /** A replacement was started for it. */
  replaced: boolean;
}

export class EcsService {
  readonly events: ServiceEvent[] = [];
  /** Every task the service started, in order, stopped ones too: what a scenario checks of each. */
  readonly launched: Task[] = [];
  private readonly tasks = new Set<Managed>();
  private image!: StagedImage;
  private monitor?: NodeJS.Timeout;
  private busy = false;
  /** Replacement is off while a scenario stops tasks by hand and counts on the scheduler to follow. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly spec: ServiceSpec,
    private readonly targetGroup: TargetGroupSpec,
    private readonly lb: LoadBalancer,
    private readonly launch: (image: StagedImage) => Task,
    private readonly time: Timing,
  ) {}

  log(message: string): void {
    this.events.push({ at: Date.now(), message });
  }

  /** CreateService: desiredCount tasks of `image`, healthy behind the load balancer. */
  async create(image: StagedImage): Promise<void> {
    this.image = image;
    for (let i = 0; i < this.spec.desiredCount; i++) this.start(image);
    await this.waitFor(() => this.healthy(image).length === this.spec.desiredCount, "the first tasks to become healthy");
    this.monitor = setInterval(() => void this.reconcile(), 100);
  }

  /** Running tasks the load balancer finds healthy, of one image or any. */
  healthy(image?: StagedImage): Task[] {
    return [...this.tasks].filter((m) => m.everHealthy && !m.leaving && m.task.status === "RUNNING" && (!image || m.image === image)).map((m) => m.task);
  }

  running(): Task[] {
    return [...this.tasks].filter((m) => !m.leaving && m.task.status === "RUNNING").map((m) => m.task);
  }

  /** UpdateService with a new task definition: ECS's rolling deployment. Resolves true when it completed, false when the circuit breaker rolled it back. */
  async deploy(image: StagedImage): Promise<boolean> {
    const old = this.image;
    this.image = image;
    const desired = this.spec.desiredCount;
    const max = Math.floor((desired * this.spec.maximumPercent) / 100);
    const minHealthy = Math.ceil((desired * this.spec.minimumHealthyPercent) / 100);
    // ECS's threshold: half the desired count, at least 3, at most 200 failed tasks.
    const threshold = Math.min(200, Math.max(3, Math.ceil(desired / 2)));
    let failed = 0;
    this.log(`deployment to ${image.tag}: min ${minHealthy} healthy, max ${max} tasks, circuit breaker after ${threshold} failed tasks`);
    this.busy = true;
    try {
      while (this.healthy(image).length < desired) {
        const live = [...this.tasks].filter((m) => !m.leaving && m.task.status !== "STOPPED");
        const room = Math.min(max - live.length, desired - live.filter((m) => m.image === image).length);
        const started = Array.from({ length: Math.max(0, room) }, () => this.start(image));
        // Wait until the new tasks are healthy, or some of them stopped (a failed start).
        await this.waitFor(
          () => started.every((m) => m.everHealthy || m.task.status === "STOPPED"),
          `new tasks of ${image.tag} to become healthy or fail`,
          this.time.ms(this.spec.healthCheckGracePeriodSeconds + this.targetGroup.healthyThreshold * this.targetGroup.intervalSeconds) + 30_000,
        );
        for (const m of started.filter((m) => m.task.status === "STOPPED")) {
          failed++;
          this.tasks.delete(m);
          this.log(`task ${m.task.id} of ${image.tag} stopped while starting (exit ${m.task.exitCode})`);
        }
        if (this.spec.circuitBreaker && failed >= threshold) {
          this.log(`circuit breaker: ${failed} failed tasks, rolling back to ${old.tag}`);
          this.image = old;
          await Promise.all([...this.tasks].filter((m) => m.image === image).map((m) => this.retire(m, "rollback")));
          return false;
        }
        // Old tasks leave while the healthy count stays at or above the minimum.
        const olds = [...this.tasks].filter((m) => m.image !== image && !m.leaving);
        const surplus = this.healthy().length - minHealthy;
        await Promise.all(olds.slice(0, Math.max(0, surplus)).map((m) => this.retire(m, `replaced by ${image.tag}`)));
      }
      await Promise.all([...this.tasks].filter((m) => m.image !== image && !m.leaving).map((m) => this.retire(m, `replaced by ${image.tag}`)));
      this.log(`deployment to ${image.tag} completed`);
      return true;
    } finally {
      this.busy = false;
    }
  }

  /** A Fargate Spot interruption: SIGTERM at the two-minute warning, the target still registered; ECS starts a replacement. */
  async interrupt(task: Task): Promise<void> {
    const m = this.managed(task);
    m.leaving = true;
    this.log(`spot interruption of ${task.id}: SIGTERM, target still registered`);
    this.start(this.image);
    await task.stop("spot interruption");
    await this.lb.deregister(task.id, 0);
    this.tasks.delete(m);
  }

  /** A task killed outright (out of memory, host lost): no SIGTERM. The scheduler notices and replaces it. */
  async killTask(task: Task): Promise<void> {
    this.log(`SIGKILL to ${task.id}`);
    await task.kill("killed");
  }

  /** Resolves once the service runs desiredCount healthy tasks of its current image again. */
  async steady(timeoutMs = 120_000): Promise<void> {
    await this.waitFor(() => this.healthy(this.image).length === this.spec.desiredCount && this.pending.size === 0, "a steady state", timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    await Promise.all([...this.pending]);
    await Promise.all([...this.tasks].map((m) => m.task.kill("game day over")));
  }

  private managed(task: Task): Managed {
    const m = [...this.tasks].find((x) => x.task === task);
    if (!m) throw new Error(`${task.id} is not a task of the service`);
    return m;
  }

  private start(image: StagedImage): Managed {
    const task = this.launch(image);
    this.launched.push(task);
    const m: Managed = { task, image, everHealthy: false, leaving: false, registered: false, replaced: false };
    this.tasks.add(m);
    this.log(`started ${task.id} (${image.tag})`);
    // awsvpc: the task's address is registered as soon as it has one; the target stays unhealthy until the app answers.
    this.track(this.lb.register(task.id, task.port).then(() => (m.registered = true)));
    return m;
  }

  /** ECS stopping a task it no longer wants: deregister, drain, SIGTERM. */
  private async retire(m: Managed, reason: string): Promise<void> {
    m.leaving = true;
    this.log(`deregistering ${m.task.id} (${reason})`);
    await this.lb.deregister(m.task.id, this.time.ms(this.targetGroup.deregistrationDelaySeconds));
    await m.task.stop(reason);
    this.tasks.delete(m);
    this.log(`${m.task.id} stopped (exit ${m.task.exitCode})`);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
    return promise;
  }

  private async reconcile(): Promise<void> {
    const states = await this.lb.states();
    for (const m of this.tasks) {
      const state = states.get(m.task.id);
      if (state === "healthy") m.everHealthy = true;
    }
    if (this.busy) return;
    for (const m of [...this.tasks]) {
      if (m.leaving) continue;
      const state = states.get(m.task.id);
      const graceOver = Date.now() - m.task.startedAt > this.time.ms(this.spec.healthCheckGracePeriodSeconds);
      if (m.task.status === "STOPPED") {
        // ECS starts a replacement as soon as it sees the task stopped; the dead target stays in the
        // group until its health checks fail (the worst case the scenarios allow for).
        if (!m.replaced) {
          m.replaced = true;
          this.log(`${m.task.id} stopped (exit ${m.task.exitCode}${m.task.stopReason ? `: ${m.task.stopReason}` : ""}): replacing`);
          this.start(this.image);
        }
        if (m.registered && state !== "unhealthy") continue;
        m.leaving = true;
        this.log(`${m.task.id}: the load balancer reports it ${state}; deregistered`);
        this.track(this.lb.deregister(m.task.id, 0).then(() => this.tasks.delete(m)));
      } else if (m.task.health === "UNHEALTHY" || (graceOver && state === "unhealthy" && (m.everHealthy || graceOver))) {
        this.log(`${m.task.id} failed its ${m.task.health === "UNHEALTHY" ? "container" : "load balancer"} health check: replacing`);
        this.start(this.image);
        this.track(this.retire(m, "failed health checks"));
      }
    }
  }

  private async waitFor(done: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events:\n${this.events.map((e) => e.message).join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
      if (!this.monitor) {
        const states = await this.lb.states();
        for (const m of this.tasks) if (states.get(m.task.id) === "healthy") m.everHealthy = true;
      }
    }
  }
}
