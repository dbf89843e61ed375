/**
 * The variants of __tests__/support/variants.ts are built from the environments and say what they change, so a
 * fork's settings flow into them; one that inherits what its change rules out names itself.
 */
import { dev } from "../../environments/environments";
import { examples, variant, variantError, withoutDatabaseGrants } from "../support/variants";
import { synth } from "../support/helpers";

const devWithWorker = { ...dev, services: { worker: { task: { command: ["dist/worker.mjs"] }, database: true } } };

test("a variant inherits what it does not change, section by section", () => {
  const lite = variant(devWithWorker, "lite", { database: { enabled: false } });
  expect(lite).toMatchObject({ name: "lite", network: dev.network, task: dev.task, database: { ...dev.database, enabled: false } });
});

test("given a variant without a database built from an environment whose worker is granted one, synth refuses it naming the variant and what it inherits", () => {
  const lite = variant(devWithWorker, "lite", { database: { enabled: false } });
  expect(() => synth(lite)).toThrow(
    /^Variant lite \(dev with database changed\) cannot apply services\.worker\.database, inherited from dev: Invalid setting services\.worker\.database = true: the environment has no database.* Declare what lite does with services in __tests__\/support\/variants\.ts/,
  );
});

test("a variant that declares it drops the grants builds, its worker kept", () => {
  const lite = variant(devWithWorker, "lite", { database: { enabled: false }, services: withoutDatabaseGrants(devWithWorker.services) });
  expect(Object.keys(synth(lite).resource.aws_ecs_service)).toHaveLength(2);
});

test("errors of what a variant changes itself, and of plain environments, are left as they are", () => {
  const error = new Error("not a setting error");
  expect(variantError(examples[0], error)).toBeUndefined();
  expect(variantError(dev, error)).toBeUndefined();
});
