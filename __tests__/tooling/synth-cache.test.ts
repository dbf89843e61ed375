/**
 * The synthesized stacks the tests share between files and runs (__tests__/support/synth-cache.cjs)
 * are kept under a hash of every input of synthesis: a change to any of them is a new folder, so no
 * run reads a stack an older code wrote.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { env, synth } from "../support/helpers";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { codeHash } = require("../support/synth-cache.cjs") as { codeHash: (root?: string, env?: NodeJS.ProcessEnv) => string };

describe("the synth cache's key", () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "synth-cache-key-"));
    write("lib/compute/service.ts", "export const port = 8080;");
    write("environments/environments.ts", "export const dev = {};");
    write("package-lock.json", "{}");
    write("__tests__/compute/service.test.ts", "test('x', () => {});");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test.each([
    ["a construct", "lib/compute/service.ts", "export const port = 8081;"],
    ["an environment", "environments/environments.ts", "export const dev = { task: {} };"],
    ["the locked library versions", "package-lock.json", '{"lockfileVersion":3}'],
    ["the stack's composition (a new file)", "stacks/api-stack.ts", "export class ApiStack {}"],
    ["the test helpers", "__tests__/support/helpers.ts", "export const synth = 1;"],
    ["the example variants", "__tests__/support/variants.ts", "export const examples = [];"],
  ])("changes with %s", (_what, file, text) => {
    const before = codeHash(root, {});
    write(file, text);
    expect(codeHash(root, {})).not.toBe(before);
  });

  test("changes with the switches synth reads (HCL output, the engine)", () => {
    expect(codeHash(root, { SYNTH_HCL_OUTPUT: "true" })).not.toBe(codeHash(root, {}));
    expect(codeHash(root, { CDK_ENGINE: "cdktn" })).not.toBe(codeHash(root, {}));
  });

  test("stays when only a test changes, so a test edited and run again reads the stacks already written", () => {
    const before = codeHash(root, {});
    write("__tests__/compute/service.test.ts", "test('y', () => {});");
    expect(codeHash(root, {})).toBe(before);
  });
});

describe("a refusal, cached like a stack (__tests__/support/helpers.ts)", () => {
  const refused = env({ task: { cpu: 333 } });
  const thrown = () => {
    try {
      synth(refused);
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
    throw new Error("synth accepted task.cpu = 333");
  };

  test("throws the same error, name and message, from the cache as synth threw it", () => {
    const first = thrown();
    expect(first).toEqual({ name: "SettingError", message: expect.stringMatching(/^Invalid setting task\.cpu = 333: /) });
    // The second comes from this file's memo, or from the run's folder when the first did.
    expect(thrown()).toEqual(first);
  });

  test("is kept in the run's folder, so the next file or run reads it instead of building the stack", () => {
    thrown();
    const folder = process.env.SYNTH_CACHE_DIR; // set by the project's globalSetup (jest.config.js)
    expect(folder).toBeDefined();
    const kept = readdirSync(folder!).map((file) => readFileSync(join(folder!, file), "utf8"));
    expect(kept.filter((text) => text.startsWith("refused:") && text.includes("task.cpu = 333"))).toHaveLength(1);
  });
});
