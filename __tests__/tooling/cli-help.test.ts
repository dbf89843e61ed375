/**
 * Every `npm run` script answers `--help` with its usage and starts nothing, refuses an option it does
 * not know (exit 2, naming it), and stops what it started when interrupted (cli/cli.cjs). The scripts
 * are read from package.json, so a new one is covered as soon as it exists. Each runs as npm runs it
 * (its command line through `sh -c`, the arguments appended), without npm's own start-up.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";

const root = join(__dirname, "../..");
const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
/** The lead wires scripts/fork-proof.ts to cli/cli.cjs; until then its --help would run the fork proof. */
const NOT_YET_WIRED = new Set<string>([]);
const names = Object.keys(scripts).filter((name) => !NOT_YET_WIRED.has(name));
/** Folders the scripts' work writes: none may change while they only print help. */
const WORK_FOLDERS = [".offline", "cdktf.out", ".emulator", ".build", ".local", "app/dist"];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Processes still in the run's process group after it exited: work it started and left behind. */
  readonly leftBehind: number[];
  /** What the run left in its own temp folder. */
  readonly temp: string[];
}

/** Live processes of a process group (Linux's /proc; elsewhere none are seen). */
function processGroup(pgid: number): number[] {
  if (!existsSync("/proc/self/stat")) return [];
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // pid (comm) state ppid pgrp …; comm may hold spaces, so read after its closing parenthesis.
        const [state, , pgrp] = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        // A zombie has exited (tsx's esbuild, until init reaps it): it does no work.
        return Number(pgrp) === pgid && state !== "Z";
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A temp folder of the run's own, with tsx's compile cache linked in so each start stays fast. */
function ownTemp(): string {
  const dir = mkdtempSync(join(tmpdir(), "cli-help-"));
  const cache = join(tmpdir(), `tsx-${userInfo().uid}`);
  if (existsSync(cache)) symlinkSync(cache, join(dir, `tsx-${userInfo().uid}`));
  return dir;
}

/** `npm run <name> -- <args>` as npm runs it: the script's command line with the arguments appended, in a process group of its own. */
function runScript(name: string, args: string[]): Promise<Run> {
  const temp = ownTemp();
  const started = Date.now();
  const child = spawn("sh", ["-c", `${scripts[name]} ${args.join(" ")}`], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter),
      TMPDIR: temp,
      npm_lifecycle_event: name,
      CI: "1",
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) =>
    child.once("close", (code) => {
      const ms = Date.now() - started;
      const leftBehind = processGroup(child.pid!);
      for (const pid of leftBehind) process.kill(pid, "SIGKILL");
      const left = readdirSync(temp).filter((entry) => !entry.startsWith("tsx-"));
      rmSync(temp, { recursive: true, force: true });
      done({ code, stdout, stderr, ms, leftBehind, temp: left });
    }),
  );
}

/** Runs `work` over `items`, `limit` at a time: the machine's cores are shared. */
async function pooled<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

function workFolders(): Record<string, string> {
  return Object.fromEntries(
    WORK_FOLDERS.map((folder) => {
      const dir = join(root, folder);
      if (!existsSync(dir)) return [folder, "absent"];
      return [
        folder,
        readdirSync(dir)
          .map((entry) => `${entry}@${statSync(join(dir, entry)).mtimeMs}`)
          .join(","),
      ];
    }),
  );
}

describe("every npm script", () => {
  let help: Map<string, Run>;
  let unknown: Map<string, Run>;
  let before: Record<string, string>;

  beforeAll(async () => {
    before = workFolders();
    const runs = await pooled(
      names.flatMap((name) => [
        { name, args: ["--help"] },
        { name, args: ["--no-such-option"] },
      ]),
      4,
      async ({ name, args }) => ({ name, args, run: await runScript(name, args) }),
    );
    help = new Map(runs.filter((r) => r.args[0] === "--help").map((r) => [r.name, r.run]));
    unknown = new Map(runs.filter((r) => r.args[0] !== "--help").map((r) => [r.name, r.run]));
  }, 180_000);

  test("is covered, but for the one the lead wires", () => {
    expect(names.length).toBeGreaterThan(20);
    expect([...NOT_YET_WIRED].filter((name) => scripts[name] === undefined)).toEqual([]);
  });

  test.each(names)("%s answers --help with its usage line, options and needs, and starts nothing", (name) => {
    const run = help.get(name)!;
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")[0]).toMatch(new RegExp(`^usage: npm run ${name.replace(/[:]/g, "\\$&")}( |$)`));
    expect(run.stdout).toMatch(/\noptions:\n( {2}.*\n)* {2}-h, --help +print this help and start nothing\n/);
    expect(run.stdout).toMatch(/\nneeds:\n {2}\S/);
    // Started nothing: no process left in its group, nothing in its temp folder, and quick (loading is all it does).
    expect({ leftBehind: run.leftBehind, temp: run.temp }).toEqual({ leftBehind: [], temp: [] });
    expect(run.ms).toBeLessThan(30_000);
  });

  test.each(names)("%s refuses an unknown option, naming it, with exit code 2", (name) => {
    const run = unknown.get(name)!;
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: unknown option --no-such-option for npm run ${name}; see npm run ${name} -- --help\n`);
    expect({ stdout: run.stdout, leftBehind: run.leftBehind, temp: run.temp }).toEqual({ stdout: "", leftBehind: [], temp: [] });
  });

  test("none of them touched the folders work writes (.offline, cdktf.out, .emulator, ...)", () => {
    expect(workFolders()).toEqual(before);
  });
});

const emulatorMissing =
  process.env.SKIP_EMULATOR_TESTS === "1" ||
  spawnSync(process.env.EMULATOR_PYTHON ?? "python3", ["-c", "import moto, flask, flask_cors, werkzeug"], { stdio: "ignore" }).status !== 0;

(emulatorMissing ? test.skip : test)(
  "npm run emulator, interrupted (SIGINT), stops the moto server it started and exits 130",
  async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "emulator/server.ts"], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    try {
      const line = await new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error("the emulator did not start within 30 s")), 30_000);
        createInterface({ input: child.stdout }).once("line", (first) => {
          clearTimeout(timer);
          done(first);
        });
      });
      expect(line).toMatch(/^AWS emulator listening: export AWS_EMULATOR_URL=http:\/\/127\.0\.0\.1:\d+$/);
      const emulator = processGroup(child.pid!).filter((pid) => pid !== child.pid);
      expect(emulator.length).toBeGreaterThan(0);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(processGroup(child.pid!)).toEqual([]);
    } finally {
      for (const pid of processGroup(child.pid!)) process.kill(pid, "SIGKILL");
    }
  },
  60_000,
);
