import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The package root loads all ~1,500 AWS resource classes: ~10x slower synth and >1 GB of memory. */
const ROOT_IMPORT = /from\s+["']@cdktf\/provider-aws["']|require\(\s*["']@cdktf\/provider-aws["']\s*\)/;
const DIRS = ["lib", "stacks", "environments", "emulator", "scripts", "__tests__"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

test("every provider class is imported from its own path, never from the package root", () => {
  const root = join(__dirname, "../..");
  const files = ["main.ts", ...DIRS.flatMap((d) => sourceFiles(join(root, d)).map((f) => f.slice(root.length + 1)))];
  const offenders = files.filter((f) => f !== "__tests__/tooling/imports.test.ts" && ROOT_IMPORT.test(readFileSync(join(root, f), "utf8")));
  expect(offenders).toEqual([]);
});

test("the check catches a root-barrel import", () => {
  expect(ROOT_IMPORT.test('import { EcsService } from "@cdktf/provider-aws";')).toBe(true);
  expect(ROOT_IMPORT.test('import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";')).toBe(false);
});
