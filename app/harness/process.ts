/**
 * A process of the image (the API, a worker) started from its dist/ as ECS starts it, with its JSON
 * log lines collected so tests, the bench and the game day can wait for what it says.
 */
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export class RunningProcess {
  readonly logs: Record<string, unknown>[] = [];
  readonly stderr: string[] = [];
  private readonly exited: Promise<number | null>;

  constructor(
    readonly process: ChildProcess,
    /** How errors name it, e.g. "the API". */
    private readonly what: string,
  ) {
    createInterface({ input: process.stdout! }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        this.logs.push({ msg: line });
      }
    });
    createInterface({ input: process.stderr! }).on("line", (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => process.once("exit", (code) => resolve(code)));
  }

  /** The first log line that matches; fails as soon as the process exits, or after `timeoutMs`. */
  async waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (this.process.exitCode !== null) throw new Error(`${this.what} exited with ${this.process.exitCode}: ${this.stderr.join("\n")}\n${this.dump()}`);
      if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; logs:\n${this.dump()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  dump(): string {
    return this.logs.map((l) => JSON.stringify(l)).join("\n");
  }

  exitCode(): Promise<number | null> {
    return this.exited;
  }

  /** Sends the signal unless the process already ended, and resolves with its exit code. */
  async signal(signal: NodeJS.Signals): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    return this.exited;
  }
}
