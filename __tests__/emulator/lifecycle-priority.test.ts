/** The run's long lifecycles get the CPU first; the plain ones use what they leave (emulator/lifecycle.ts, runLifecycles). */
import { BACKGROUND_NICENESS, lifecycleNiceness, type LifecycleSpec, type Step } from "../../emulator/lifecycle";
import { apiLifecycle } from "../../emulator/lifecycles";
import { environments } from "../../environments/environments";
import { examples } from "../support/variants";

const spec = (name: string, ...actions: Step["action"][]): LifecycleSpec => ({
  name,
  region: "us-east-1",
  steps: actions.map((action, i) => ({ name: `${action} ${i}`, action })),
});

test("lifecycles with more steps that apply or destroy than the plain ones run at normal priority; plans only read, so they do not count", () => {
  const plain = spec("plain", "apply", "apply", "replan", "destroy");
  const upgraded = spec("upgraded", "apply", "upgrade-plan", "apply", "apply", "replan", "destroy");
  const protectedDb = spec("protected", "apply", "apply", "replan", "refused-destroy", "apply", "destroy");
  expect(lifecycleNiceness([plain, upgraded, protectedDb, { ...plain, name: "twin" }])).toEqual([BACKGROUND_NICENESS, 0, 0, BACKGROUND_NICENESS]);
  expect(lifecycleNiceness([plain, spec("more plans", "apply", "apply", "replan", "replan", "destroy")])).toEqual([0, 0]);
});

test("every stack's lifecycle: the upgraded and the protected ones at normal priority, the plain ones after them", () => {
  const all = [...environments, ...examples];
  const specs = all.map(apiLifecycle);
  const niceness = lifecycleNiceness(specs);
  const long = specs.filter((s) => s.steps.some((step) => step.action === "upgrade-plan" || step.action === "refused-destroy")).map((s) => s.name);
  expect(all.map((s, i) => [s.name, niceness[i]])).toEqual(all.map((s) => [s.name, long.includes(s.name) || long.length === 0 ? 0 : BACKGROUND_NICENESS]));
});
