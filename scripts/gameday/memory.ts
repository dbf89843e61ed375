/**
 * A task's memory, limited as ECS limits it: the task's containers stopped once together they use more than the task
 * definition's `memory`, the container's exit code 137 and the task's stoppedReason ECS gives
 * ("OutOfMemoryError: Container killed due to memory usage", Amazon ECS Developer Guide, "Amazon ECS stopped task
 * error messages").
 *
 * Where the machine allows it (run as root, with a writable cgroup v1 memory hierarchy, or cgroup v2 with the memory
 * controller), each task gets a cgroup of its own with that limit, and the kernel's OOM killer stops it, as in a
 * container. Otherwise a watchdog samples the container process's resident memory every 50 ms and sends SIGKILL past the
 * limit: it can overshoot by what is allocated between two samples, and counts resident memory only (not the page cache
 * and kernel memory a cgroup charges). docs/gameday.md says which one a run used.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Patch } from "./breakages";

export const OUT_OF_MEMORY = "OutOfMemoryError: Container killed due to memory usage";

const V1 = "/sys/fs/cgroup/memory";
const V2 = "/sys/fs/cgroup";
const WATCHDOG_INTERVAL_MS = 50;

export type MemoryLimitKind = "cgroup v1" | "cgroup v2" | "watchdog";

export class MemoryLimit {
  private killed = false;
  private watchdog?: NodeJS.Timeout;

  private constructor(
    readonly kind: MemoryLimitKind,
    readonly bytes: number,
    /** The cgroup's folder, for the cgroup kinds. */
    private readonly dir?: string,
  ) {}

  /** A limit of `mib` MiB for the task `id`: a cgroup where the machine allows one, else the watchdog. */
  static create(id: string, mib: number, { cgroup = true }: { readonly cgroup?: boolean } = {}): MemoryLimit {
    const bytes = mib * 1024 * 1024;
    const name = `gameday-${id}-${process.pid}`;
    if (cgroup && process.getuid?.() === 0) {
      for (const [kind, root, file] of [
        ["cgroup v1", V1, "memory.limit_in_bytes"],
        ["cgroup v2", V2, "memory.max"],
      ] as const) {
        if (!existsSync(join(root, file === "memory.max" ? "cgroup.controllers" : file))) continue;
        if (kind === "cgroup v2" && !readFileSync(join(root, "cgroup.subtree_control"), "utf8").includes("memory")) continue;
        const dir = join(root, name);
        try {
          mkdirSync(dir);
          writeFileSync(join(dir, file), String(bytes));
          if (Number(readFileSync(join(dir, file), "utf8")) !== bytes) throw new Error("the limit did not hold");
          return new MemoryLimit(kind, bytes, dir);
        } catch {
          try {
            rmdirSync(dir);
          } catch {
            // Not made.
          }
        }
      }
    }
    return new MemoryLimit("watchdog", bytes);
  }

  /** The command to spawn: in the cgroup (a shell that joins it, then execs the command), or as it is. */
  wrap(argv: readonly string[]): string[] {
    if (!this.dir) return [...argv];
    return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', join(this.dir, "cgroup.procs"), ...argv];
  }

  /** The container's process started: the watchdog samples it (a cgroup needs nothing more). */
  watch(child: ChildProcess): void {
    if (this.kind !== "watchdog" || !child.pid) return;
    const pid = child.pid;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      let rss = 0;
      try {
        rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      } catch {
        return;
      }
      if (rss > this.bytes) {
        this.killed = true;
        child.kill("SIGKILL");
      }
    }, WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();
    child.once("exit", () => clearInterval(this.watchdog));
  }

  /** Whether the limit stopped a process of the task (the kernel's OOM killer in its cgroup, or the watchdog). */
  outOfMemory(): boolean {
    if (this.killed || !this.dir) return this.killed;
    try {
      const file = this.kind === "cgroup v1" ? "memory.oom_control" : "memory.events";
      return Number(/^oom_kill (\d+)$/m.exec(readFileSync(join(this.dir, file), "utf8"))?.[1] ?? 0) > 0;
    } catch {
      return false;
    }
  }

  /** The cgroup removed once the task stopped (it must be empty: a moment after the last exit). */
  async remove(): Promise<void> {
    clearInterval(this.watchdog);
    if (!this.dir) return;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/** The game day's own route, in its staged images only (never in the app): a request to it makes its task allocate until it is stopped. */
export const MEMORY_HOOK_PATH = "/__gameday/allocate";

/**
 * The hook, added to every image the game day stages (image.ts) beside the readiness route: 8 MiB filled every 10 ms
 * (resident at once), kept, until the task's limit stops the process. The app itself has no such route.
 */
export const MEMORY_HOOK: readonly Patch[] = [
  {
    file: "dist/server.mjs",
    from: '  app.get("/ready", { logLevel: "warn" }, async (request, reply) => {',
    to:
      `  app.get(${JSON.stringify(MEMORY_HOOK_PATH)}, async () => { const held = []; for (;;) { held.push(Buffer.alloc(8 << 20, 1)); await new Promise((r) => setTimeout(r, 10)); } });\n` +
      '  app.get("/ready", { logLevel: "warn" }, async (request, reply) => {',
    count: 1,
  },
];
