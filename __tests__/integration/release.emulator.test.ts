/**
 * The release behaviour on the emulator, through the same code a deploy runs (release files read and
 * written by lib/settings/environment/releases.ts and scripts/release.ts): the administrator deploys v1, a deploy
 * without IMAGE_TAG changes nothing, v2 (IMAGE_TAG) makes a new revision and is recorded, a rollback to v1
 * runs v1 again. Every deploy after the first goes through the release path (`npm run deploy:release`,
 * lib/ci/release-changes.ts): its plan changes only what the release role may, and a release that would
 * also change what grants or protects (the app's log retention) is refused with nothing applied, then
 * deployed by the administrator. The emulator enforces no IAM: the role's permissions are the IAM table's
 * (__tests__/iam/); this proves what the release's plans change.
 * A sandbox without NAT or database keeps it to a few minutes; CI access is on, so the emulator also
 * creates the OIDC provider and the deploy role.
 *
 * Needs terraform and moto; set SKIP_EMULATOR_TESTS=1 to skip this file deliberately.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  BACKGROUND_NICENESS,
  describeResult,
  LifecycleResult,
  refusedAsExpected,
  runLifecycle,
  StepContext,
  StepResult,
  TerraformWorkspace,
} from "../../emulator/lifecycle";
import { checkEmulatorInstalled } from "../../emulator/server";
import { clientConfig } from "../../emulator/inventory";
import { ApiObservation, observeApi } from "../../emulator/lifecycles";
import { terraformVersion } from "../../scripts/offline-plan";
import { recordRelease } from "../../scripts/release";
import { ApiStack } from "../../stacks/api-stack";
import { dev } from "../../environments/environments";
import { readRelease, resolveReleases } from "../../lib/settings/environment/releases";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { emulatorTarget } from "../../emulator/mode";

const skip = ["1", "true"].includes(process.env.SKIP_EMULATOR_TESTS ?? "");
const settings: EnvironmentSettings = {
  ...dev,
  name: "rel",
  network: { ...dev.network, natMode: "none" },
  database: { enabled: false },
  ci: { githubRepository: "acme/rest-api" },
};
const prefix = `rest-api-${settings.name}`;
const releases = mkdtempSync(join(tmpdir(), "releases-"));
afterAll(() => rmSync(releases, { recursive: true, force: true }));

/** The stack as main.ts builds it: the release comes from the file (IMAGE_TAG recorded into it first). */
const stackFromReleases =
  (processEnv: NodeJS.ProcessEnv, changed: EnvironmentSettings = settings) =>
  (app: import("cdktf").App, { url }: { url: string }) =>
    new ApiStack(app, settings.name, changed, { target: emulatorTarget(url), release: resolveReleases([changed], processEnv, releases)[settings.name] });
/** A change only the administrator deploys: the app's log retention (what keeps its logs). */
const shorterLogs: EnvironmentSettings = { ...settings, task: { ...settings.task, logRetentionDays: 1 } };

const inspect = async (ctx: StepContext) => ({
  ...(await observeApi(ctx, prefix, false)),
  ciRole: (await new IAMClient(clientConfig(ctx.url, ctx.region)).send(new GetRoleCommand({ RoleName: `${prefix}-ci-deploy` }))).Role?.RoleName,
  recorded: readRelease(releases, settings.name),
});
type Seen = ApiObservation & { ciRole?: string; recorded?: { tag?: string } };

let result: LifecycleResult;
function step(name: string): StepResult {
  const found = result.steps.find((s) => s.name.startsWith(name));
  if (!found) throw new Error(`step "${name}" did not run:\n${describeResult(result)}`);
  return found;
}
function seen(name: string): Seen {
  const found = step(name);
  if (found.error) throw new Error(`${found.name} failed: ${found.error}`);
  return found.observed as Seen;
}
const revision = (arn?: string) => Number(arn?.split(":").pop());

(skip ? describe.skip : describe)("releases on the emulator: deploy v1, plain deploy, v2, roll back", () => {
  beforeAll(
    async () => {
      terraformVersion();
      checkEmulatorInstalled();
      result = await runLifecycle(
        {
          name: settings.name,
          region: settings.region!,
          steps: [
            {
              name: "release v1 with npm run release, deploy",
              action: "apply",
              stack: (app, ctx) => {
                recordRelease(releases, [settings], settings.name, "v1");
                return stackFromReleases({})(app, ctx);
              },
              inspect,
            },
            { name: "plan a deploy without IMAGE_TAG", action: "replan", stack: stackFromReleases({}) },
            { name: "deploy without IMAGE_TAG", action: "release", inspect },
            { name: "release v2 with IMAGE_TAG, deploy", action: "release", stack: stackFromReleases({ IMAGE_TAG: "v2" }), inspect },
            {
              name: "a release that also shortens the app's log retention is refused",
              action: "refused-release",
              stack: stackFromReleases({}, shorterLogs),
              inspect,
            },
            { name: "deploy without IMAGE_TAG after v2", action: "release", stack: stackFromReleases({}), inspect },
            {
              name: "roll back to v1 with npm run release, deploy",
              action: "release",
              stack: (app, ctx) => {
                recordRelease(releases, [settings], settings.name, "v1");
                return stackFromReleases({})(app, ctx);
              },
              inspect,
            },
          ],
        },
        new TerraformWorkspace(resolve(".emulator", "jest-release")),
        { niceness: BACKGROUND_NICENESS }, // beside the lifecycle test: see runLifecycles
      );
      console.log(describeResult(result));
    },
    15 * 60 * 1000,
  );

  test("every step succeeded", () => {
    expect(result.steps.filter((s) => s.error && !refusedAsExpected(s)).map((s) => `${s.name}: ${s.error}`)).toEqual([]);
    expect(result.steps).toHaveLength(7);
    expect(result.ok).toBe(true);
  });

  test("every release changed only what a release may: task definitions and services, nothing of the administrator's", () => {
    for (const name of ["deploy without IMAGE_TAG", "release v2", "deploy without IMAGE_TAG after v2", "roll back to v1"]) {
      expect({ name, unexpected: step(name).unexpected }).toEqual({ name, unexpected: [] });
      const types = new Set((step(name).changes ?? []).map((c) => c.split(".")[0]));
      for (const type of types) expect({ name, type }).toEqual({ name, type: expect.stringMatching(/^aws_ecs_(task_definition|service)$/) });
    }
    expect((step("release v2").changes ?? []).some((c) => c.startsWith("aws_ecs_task_definition."))).toBe(true);
  });

  test("a release that also changes what protects data is refused, naming the change, and applies nothing", () => {
    const refused = step("a release that also shortens");
    expect(refused.error).toMatch(/^refused: aws_cloudwatch_log_group\.[^:]+: update/);
    const before = seen("release v2");
    const after = refused.observed as Seen;
    expect(after.service.taskDefinition).toBe(before.service.taskDefinition);
  });

  test("v1 runs from the stack's repository, and CI access exists", () => {
    const v1 = seen("release v1");
    expect(v1.image).toBe(`${v1.repository.uri}:v1`);
    expect(v1.service.taskDefinition).toBe(v1.latestTaskDefinition);
    expect(v1.ciRole).toBe(`${prefix}-ci-deploy`);
  });

  test("a deploy without IMAGE_TAG plans no change but the emulator's known gaps, and keeps the same revision and image", () => {
    expect(step("plan a deploy without IMAGE_TAG").unexpected).toEqual([]);
    const v1 = seen("release v1");
    const plain = seen("deploy without IMAGE_TAG");
    expect(plain.image).toBe(v1.image);
    expect(plain.service.taskDefinition).toBe(v1.service.taskDefinition);
    expect(plain.latestTaskDefinition).toBe(v1.latestTaskDefinition);
  });

  test("v2 through IMAGE_TAG makes a new revision, runs it, and is recorded so the next plain deploy keeps it", () => {
    const plain = seen("deploy without IMAGE_TAG");
    const v2 = seen("release v2");
    expect(v2.image).toBe(`${v2.repository.uri}:v2`);
    expect(revision(v2.service.taskDefinition)).toBeGreaterThan(revision(plain.service.taskDefinition));
    expect(v2.service.taskDefinition).toBe(v2.latestTaskDefinition);
    expect(v2.recorded?.tag).toBe("v2");
    const after = seen("deploy without IMAGE_TAG after v2");
    expect(after.image).toBe(v2.image);
    expect(after.service.taskDefinition).toBe(v2.service.taskDefinition);
  });

  test("rolling back to v1 runs v1 again, in a newer revision", () => {
    const v2 = seen("release v2");
    const back = seen("roll back to v1");
    expect(back.image).toBe(`${back.repository.uri}:v1`);
    expect(back.service.taskDefinition).toBe(back.latestTaskDefinition);
    expect(revision(back.service.taskDefinition)).toBeGreaterThan(revision(v2.service.taskDefinition));
    expect(back.recorded?.tag).toBe("v1");
  });
});
