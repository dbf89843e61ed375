/**
 * No dependency runs code at install: npm (11.19 and later) skips install scripts it has no decision
 * for, and warns. Every locked package with an install script has one in package.json's `allowScripts`,
 * so `npm ci` is quiet and a new dependency that wants to run code at install is a decision someone
 * writes down (docs/security.md, supply chain). The three denied work without theirs: esbuild and
 * @swc/core load their platform's optional package, node-pty ships its prebuilt binaries.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..", "..");
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { hasInstallScript?: boolean }> };
const { allowScripts = {} } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> };

test("every locked package with an install script has an allowScripts decision, and none is allowed", () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
  expect(withScripts.filter((name) => !(name in allowScripts))).toEqual([]);
  expect(Object.entries(allowScripts).filter(([, allowed]) => allowed)).toEqual([]);
});

test("each denied package still loads: its work is done without the script", () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  expect(typeof require("esbuild").buildSync).toBe("function");
  expect(typeof require("@swc/core").transformSync).toBe("function");
  expect(typeof require("@cdktf/node-pty-prebuilt-multiarch").spawn).toBe("function");
  /* eslint-enable @typescript-eslint/no-require-imports */
});
