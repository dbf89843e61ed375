/**
 * A task's memory limit (scripts/gameday/memory.ts): a process that allocates past it is stopped with SIGKILL and
 * reported out of memory, by a cgroup where this machine allows one and by the watchdog; one that stays under it is not.
 */
import { spawn } from "node:child_process";
import { MemoryLimit } from "../../scripts/gameday/memory";

/** Runs node allocating `mib` MiB (8 at a time, filled) under `limit`; its exit code and whether the limit stopped it. */
async function allocate(limit: MemoryLimit, mib: number): Promise<{ code: number; outOfMemory: boolean }> {
  const script = `const held = []; for (let i = 0; i < ${mib / 8}; i++) { held.push(Buffer.alloc(8 << 20, 1)); await new Promise((r) => setTimeout(r, 5)); }`;
  const argv = limit.wrap([process.execPath, "--input-type=module", "-e", script]);
  const child = spawn(argv[0], argv.slice(1), { stdio: "ignore" });
  limit.watch(child);
  const code = await new Promise<number>((resolve) => child.once("exit", (c, signal) => resolve(c ?? (signal === "SIGKILL" ? 137 : 143))));
  const outOfMemory = limit.outOfMemory();
  await limit.remove();
  return { code, outOfMemory };
}

describe.each([
  ["as the machine allows (a cgroup when run as root with one writable)", {}],
  ["by the watchdog", { cgroup: false }],
] as const)("a task's memory limit, %s", (_, options) => {
  test("a process allocating past it is killed (137) and reported out of memory", async () => {
    expect(await allocate(MemoryLimit.create(`test-over-${process.pid}`, 96, options), 400)).toEqual({ code: 137, outOfMemory: true });
  }, 30_000);

  test("a process that stays under it runs to its end", async () => {
    expect(await allocate(MemoryLimit.create(`test-under-${process.pid}`, 256, options), 32)).toEqual({ code: 0, outOfMemory: false });
  }, 30_000);
});

test("the watchdog is the fallback: a limit made without a cgroup says so", () => {
  expect(MemoryLimit.create("test-kind", 64, { cgroup: false }).kind).toBe("watchdog");
});
