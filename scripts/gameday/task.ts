/**
 * A task: the task definition's app container run as ECS runs it, on this machine, after the container
 * it depends on (the API's migrate container) exited 0. The image's
 * entrypoint and CMD unless the container has a command; the image's ENV, then the container's
 * environment, then its `secrets` read from Secrets Manager as the execution role would; the
 * container's user (uid 1000: files of the image read-only, nothing of the project writable); its
 * health check command on its schedule; SIGTERM, then SIGKILL after `stopTimeout`.
 *
 * Its memory is limited to the task definition's `memory` (memory.ts: a cgroup of its own where the
 * machine allows one, else a watchdog), and a task over it stops as ECS stops one: exit code 137,
 * stoppedReason "OutOfMemoryError: Container killed due to memory usage".
 *
 * What it cannot be: a network namespace of its own (every task listens on loopback at a port of its
 * own, where awsvpc gives each the same port on its own address), a CPU limit,
 * and a root filesystem made read-only by the runtime (the image's files are read-only; /tmp stands
 * in for the scratch volume).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { IMAGE_NODE, imageNode, type ImageConfig, type StagedImage } from "./image";
import type { ContainerHealthCheck, TaskSpec } from "./stack";
import type { Timing } from "./haproxy";
import { MemoryLimit, OUT_OF_MEMORY } from "./memory";

const RUNS_AS_ROOT = process.getuid?.() === 0;
/** The image's Node.js major, as the image runs it (see imageNode). */
const NODE = imageNode();

export type TaskStatus = "PROVISIONING" | "RUNNING" | "STOPPING" | "STOPPED";

export interface TaskOptions {
  readonly id: string;
  readonly spec: TaskSpec;
  readonly image: StagedImage;
  readonly imageConfig: ImageConfig;
  /** The container's environment and secrets, resolved: Terraform references and ARNs replaced by values. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * A container the app container depends on with condition SUCCESS (the API's migrate container): run to
   * its end first, its environment and `secrets` resolved when the task starts, as ECS resolves them; the
   * app container starts only once it exited 0, else the task stops with its exit code.
   */
  readonly init?: { readonly name: string; readonly command?: readonly string[]; readonly environment: () => Promise<Record<string, string>> };
  readonly port: number;
  readonly time: Timing;
  readonly logDir: string;
}

export class Task {
  readonly id: string;
  readonly port: number;
  readonly startedAt = Date.now();
  status: TaskStatus = "PROVISIONING";
  /** The container health check's verdict: HEALTHY, UNHEALTHY, or UNKNOWN during its start period. */
  health: "UNKNOWN" | "HEALTHY" | "UNHEALTHY" = "UNKNOWN";
  exitCode: number | null = null;
  /** When its last container exited. */
  stoppedAt?: number;
  /** When the container the app depends on (the migrate container) exited, and with what: a scenario proves from it that the task waited. */
  initExit?: { readonly at: number; readonly code: number };
  stopReason?: string;
  /** The container running now: the init container's, then the app's. */
  private process?: ChildProcess;
  private readonly exited: Promise<void>;
  private checks?: NodeJS.Timeout;
  private stopping?: NodeJS.Signals;
  /** The task definition's memory, enforced (memory.ts); none when it names none. */
  readonly memory?: MemoryLimit;

  constructor(private readonly options: TaskOptions) {
    this.id = options.id;
    this.port = options.port;
    mkdirSync(options.logDir, { recursive: true });
    if (options.spec.memoryMiB) this.memory = MemoryLimit.create(options.id, options.spec.memoryMiB);
    // The task runs while its init container does (ECS reports it RUNNING once a container started).
    this.status = "RUNNING";
    this.exited = this.run();
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Where a container's output goes: the app's `<id>.log`, another's `<id>-<name>.log`. */
  logFile(container: string): string {
    return join(this.options.logDir, container === "app" ? `${this.id}.log` : `${this.id}-${container}.log`);
  }

  /** Resolves when the container has exited. */
  stopped(): Promise<void> {
    return this.exited;
  }

  /** StopTask: SIGTERM, then SIGKILL once the stop timeout has passed. */
  async stop(reason: string): Promise<void> {
    if (this.status === "STOPPED") return;
    this.stopReason ??= reason;
    this.status = "STOPPING";
    this.signal("SIGTERM");
    const killer = setTimeout(() => this.signal("SIGKILL"), this.options.time.ms(this.options.spec.stopTimeoutSeconds));
    await this.exited;
    clearTimeout(killer);
  }

  /** The host reclaimed or the process died: no SIGTERM, no chance to finish. */
  async kill(reason: string): Promise<void> {
    this.stopReason ??= reason;
    this.signal("SIGKILL");
    await this.exited;
  }

  private signal(signal: NodeJS.Signals): void {
    this.stopping = signal;
    this.process?.kill(signal);
  }

  private async run(): Promise<void> {
    const { spec, init } = this.options;
    if (init) {
      let code: number;
      try {
        const environment = await init.environment();
        code = this.stopping ? 143 : await this.container(init.name, init.command, environment);
        this.initExit = { at: Date.now(), code };
      } catch (error) {
        // ECS cannot read the container's secrets: the task stops before any container runs.
        this.stopReason ??= `ResourceInitializationError: ${error instanceof Error ? error.message : String(error)}`;
        code = 1;
      }
      if (code !== 0 || this.stopping) {
        this.stopReason ??= `${init.name} exited ${code}: the app container's dependency (SUCCESS) failed`;
        this.finish(code);
        return;
      }
    }
    const exit = this.container("app", spec.command, this.options.environment, () => {
      if (spec.healthCheck) this.scheduleHealthChecks(spec.healthCheck);
    });
    this.finish(await exit);
  }

  private finish(code: number): void {
    this.stoppedAt = Date.now();
    this.exitCode = code;
    this.status = "STOPPED";
    if (this.checks) clearInterval(this.checks);
    void this.memory?.remove();
  }

  /** One container to its end: the image's ENTRYPOINT (distroless Node's) with the container's command, or the image's CMD; resolves its exit code. */
  private container(
    name: string,
    command: readonly string[] | undefined,
    environment: Readonly<Record<string, string>>,
    started?: () => void,
  ): Promise<number> {
    const { spec, image, imageConfig } = this.options;
    const argv = [IMAGE_NODE, ...(command ?? imageConfig.cmd)].map((arg) =>
      arg === IMAGE_NODE ? process.execPath : arg.startsWith(imageConfig.workdir) ? image.resolve(arg, imageConfig.workdir) : arg,
    );
    const user = spec.user ?? imageConfig.user;
    const [uid, gid] = user.split(":");
    const prefix = RUNS_AS_ROOT ? ["setpriv", `--reuid=${uid}`, `--regid=${gid ?? uid}`, "--clear-groups"] : [];
    const log = createWriteStream(this.logFile(name));
    const env = { PATH: "/usr/bin:/bin", HOME: "/nonexistent", ...imageConfig.env, ...environment, PORT: String(this.port) };
    // In the task's memory cgroup when it has one (the shell joins it, then execs the command).
    const full = this.memory ? this.memory.wrap([...prefix, ...argv]) : [...prefix, ...argv];
    const child = spawn(full[0], full.slice(1), {
      cwd: image.root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.process = child;
    this.memory?.watch(child);
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    started?.();
    return new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        log.end();
        // Killed over the task's memory: ECS's reason, whoever sent the SIGKILL.
        if (this.memory?.outOfMemory()) this.stopReason ??= OUT_OF_MEMORY;
        resolve(code ?? (signal === "SIGKILL" ? 137 : 143));
      }),
    );
  }

  /** The container health check: ECS runs the command in the container; `retries` failures in a row after the start period make it UNHEALTHY. */
  private scheduleHealthChecks(hc: ContainerHealthCheck): void {
    const { time, image, imageConfig } = this.options;
    const [kind, ...command] = hc.command;
    if (kind !== "CMD") throw new Error(`the game day runs exec-form health checks only (the distroless image has no shell); got ${kind}`);
    const argv = command.map((arg) => (arg === IMAGE_NODE ? NODE : arg.startsWith("/") ? image.resolve(arg, imageConfig.workdir) : arg));
    let failures = 0;
    const run = () => {
      if (this.status !== "RUNNING") return;
      const probe = spawn(argv[0], argv.slice(1), { env: { PORT: String(this.port) }, stdio: "ignore", timeout: time.ms(hc.timeoutSeconds) });
      probe.once("exit", (code) => {
        const inStartPeriod = Date.now() - this.startedAt < time.ms(hc.startPeriodSeconds);
        if (code === 0) {
          failures = 0;
          this.health = "HEALTHY";
        } else if (!inStartPeriod && ++failures >= hc.retries) this.health = "UNHEALTHY";
      });
    };
    this.checks = setInterval(run, time.ms(hc.intervalSeconds));
    this.checks.unref();
  }
}
