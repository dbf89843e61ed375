/** The order jest starts test files in (__tests__/support/sequencer.cjs), on a fresh clone where jest knows no timings. */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sequencer = require("../support/sequencer.cjs") as new (options: object) => { sort<T>(tests: T[]): T[] };

type FakeTest = { path: string; context: { config: { displayName: { name: string } }; hasteFS: { getSize: () => number } } };
const test_ = (project: string, path: string): FakeTest => ({ path, context: { config: { displayName: { name: project } }, hasteFS: { getSize: () => 1 } } });
const integration = readdirSync(resolve(__dirname, "../integration"))
  .filter((file) => file.endsWith(".test.ts"))
  .map((file) => test_("integration", join(resolve(__dirname, "../integration"), file)));
const order = (tests: FakeTest[]) => new Sequencer({}).sort([...tests]).map((t) => `${t.context.config.displayName.name} ${t.path.split("/").pop()}`);

test("the offline plan starts first, then the integration project, then the app, then the rest", () => {
  const tests = [test_("unit", "/u.test.ts"), test_("app", "/a.test.ts"), ...integration, test_("terraform", "/t.test.ts")];
  const projects = order(tests).map((line) => line.split(" ")[0]);
  expect(projects).toEqual(["terraform", ...integration.map(() => "integration"), "app", "unit"]);
});

test("in the integration project, every stack's lifecycle first and dev's on cdktn last, after the short ones", () => {
  const files = order(integration).map((line) => line.split(" ")[1]);
  expect(files[0]).toBe("lifecycle.emulator.test.ts");
  expect(files.at(-1)).toBe("engine-lifecycle.emulator.test.ts");
  expect(files.slice().sort()).toEqual(integration.map((t) => t.path.split("/").pop()).sort());
});
