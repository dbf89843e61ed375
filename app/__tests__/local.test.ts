import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../harness/api";

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, "..", "..");

/** The pids of this process tree's descendants, from /proc. */
function descendants(pid: number): number[] {
  const all = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      all.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of all)
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each(["SIGTERM", "SIGINT"] as const)("npm run api:local, stopped by %s to npm's pid", (signal) => {
  it("stops the API and the embedded database with it", async () => {
    const data = mkdtempSync(path.join(tmpdir(), "api-local-"));
    const port = await freePort();
    const npm = spawn("npm", ["run", "api:local"], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), DB_PORT: String(await freePort()), API_LOCAL_DATA: data, DB_HOST: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let up = false;
      // Up to a minute: a loaded CI machine builds the bundle and starts PGlite slowly.
      for (let i = 0; i < 240 && !up; i++) {
        up = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (!up) await new Promise((r) => setTimeout(r, 250));
      }
      expect(up).toBe(true);
      const children = descendants(npm.pid!);
      expect(children.length).toBeGreaterThanOrEqual(3); // the shell(s), local.mjs, the API, PGlite
      npm.kill(signal);
      const deadline = Date.now() + 20_000;
      while (children.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(children.filter(alive)).toEqual([]);
      expect(
        await fetch(`http://127.0.0.1:${port}/health`).then(
          () => "answered",
          () => "closed",
        ),
      ).toBe("closed");
    } finally {
      for (const pid of descendants(npm.pid!)) if (alive(pid)) process.kill(pid, "SIGKILL");
      npm.kill("SIGKILL");
      rmSync(data, { recursive: true, force: true });
    }
  });
});
