import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseReleaseRef } from "../../lib/registry/release";
import { describeEnvironment, recordRelease } from "../../scripts/release";
import { readRelease, resolveReleases as resolveAndSay, writeRelease } from "../../lib/settings/environment/releases";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { container, env, only, ref, synth } from "../support/helpers";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { judgeRollout } = require("../../scripts/verify-rollout.cjs");

const DIGEST = `sha256:${"ab".repeat(32)}`;
const OTHER_DIGEST = `sha256:${"cd".repeat(32)}`;
const dev: EnvironmentSettings = env({ name: "dev" });
const prod: EnvironmentSettings = env({ name: "prod" });
// One temporary folder per test file, a subfolder per test, all removed at the end.
const root = mkdtempSync(join(tmpdir(), "releases-"));
let folders = 0;
const dir = () => {
  const folder = join(root, String(folders++));
  mkdirSync(folder);
  return folder;
};
afterAll(() => rmSync(root, { recursive: true, force: true }));
// What synth would print for the person releasing, kept for the tests to read instead of printed among jest's output.
const said: string[] = [];
const resolveReleases = (environments: readonly EnvironmentSettings[], vars: NodeJS.ProcessEnv, folder: string) =>
  resolveAndSay(environments, vars, folder, (line) => said.push(line));
const imageOf = (settings: EnvironmentSettings, release = readRelease("/nonexistent", settings.name)) =>
  container(synth(settings, { release })).image as string;
const repoUrl = (settings: EnvironmentSettings) => {
  const tf = synth(settings);
  return ref(tf, "aws_ecr_repository", only(tf, "aws_ecr_repository"), "repository_url");
};

describe("release references", () => {
  test.each([
    ["v1.0.0", { tag: "v1.0.0" }],
    [DIGEST, { digest: DIGEST }],
    [`3f9c2e1@${DIGEST}`, { tag: "3f9c2e1", digest: DIGEST }],
  ])("%s is read as %j", (value, expected) => {
    expect(parseReleaseRef("release", value, "x")).toEqual({ ...expected, source: "x" });
  });

  test.each(["-v1", "v1 0", "sha256:abc", `v1@${DIGEST}x`, "", "a".repeat(129), `v1@md5:${"a".repeat(32)}`])("refuses %j", (value) => {
    expect(() => parseReleaseRef("release", value, "x")).toThrow(/^Invalid setting release = .*: not an image tag or digest\. Allowed: "<tag>", "sha256:/);
  });
});

describe("the recorded release decides what every deploy runs", () => {
  test("a recorded digest runs exactly that image, by digest", () => {
    expect(imageOf(dev, { tag: "3f9c2e1", digest: DIGEST, source: "releases/dev.json" })).toBe(`${repoUrl(dev)}@${DIGEST}`);
  });

  test("a recorded tag without digest runs that tag", () => {
    expect(imageOf(dev, { tag: "v2", source: "releases/dev.json" })).toBe(`${repoUrl(dev)}:v2`);
  });

  test("a plain synth after a release (no IMAGE_TAG) keeps the release instead of going back to the placeholder", () => {
    const releases = dir();
    said.length = 0;
    resolveReleases([dev, prod], { IMAGE_TAG: "v1", IMAGE_ENV: "dev" }, releases);
    // the person releasing is told to commit the record
    expect(said).toEqual(["release: recorded v1 in releases/dev.json (was none); commit it."]);
    const plain = resolveReleases([dev, prod], {}, releases);
    expect(imageOf(dev, plain.dev)).toBe(`${repoUrl(dev)}:v1`);
    expect(plain.prod).toBeUndefined();
  });

  test("IMAGE_TAG is recorded into the file of the environment IMAGE_ENV names, and only that one", () => {
    const releases = dir();
    writeRelease(releases, "prod", { tag: "v0", source: "" });
    const result = resolveReleases([dev, prod], { IMAGE_TAG: `v1@${DIGEST}`, IMAGE_ENV: "dev" }, releases);
    expect(readFileSync(join(releases, "dev.json"), "utf8")).toBe(`{\n  "tag": "v1",\n  "digest": "${DIGEST}"\n}\n`);
    expect(result.dev).toEqual({ tag: "v1", digest: DIGEST, source: "releases/dev.json" });
    expect(result.prod).toEqual({ tag: "v0", source: "releases/prod.json" });
  });

  test("IMAGE_TAG naming the recorded tag keeps the recorded digest", () => {
    const releases = dir();
    writeRelease(releases, "dev", { tag: "v1", digest: DIGEST, source: "" });
    expect(resolveReleases([dev], { IMAGE_TAG: "v1" }, releases).dev).toEqual({ tag: "v1", digest: DIGEST, source: "releases/dev.json" });
  });

  test("with a single environment, IMAGE_TAG needs no IMAGE_ENV", () => {
    expect(resolveReleases([dev], { IMAGE_TAG: "v3" }, dir()).dev?.tag).toBe("v3");
  });

  test("rolling back is recording an earlier release: the next synth runs it", () => {
    const releases = dir();
    recordRelease(releases, [dev, prod], "dev", "v1");
    recordRelease(releases, [dev, prod], "dev", "v2");
    const { previous, current } = recordRelease(releases, [dev, prod], "dev", "v1");
    expect([previous?.tag, current.tag]).toEqual(["v2", "v1"]);
    expect(imageOf(dev, resolveReleases([dev, prod], {}, releases).dev)).toBe(`${repoUrl(dev)}:v1`);
  });
});

describe("ambiguous input is refused at synth, naming the setting and what is allowed", () => {
  test("IMAGE_TAG with several stacks and no IMAGE_ENV: it would release every environment", () => {
    const releases = dir();
    expect(() => resolveReleases([dev, prod], { IMAGE_TAG: "v2" }, releases)).toThrow(
      'Invalid setting IMAGE_TAG = "v2": 2 stacks are synthesized (dev, prod) and every cdktf command synthesizes all of them, so the tag would be released to each. Allowed: IMAGE_ENV=<dev | prod> beside IMAGE_TAG',
    );
    expect(readRelease(releases, "dev")).toBeUndefined(); // nothing recorded by a refused synth
  });

  test("IMAGE_ENV naming no environment, or without IMAGE_TAG", () => {
    expect(() => resolveReleases([dev, prod], { IMAGE_TAG: "v2", IMAGE_ENV: "stage" }, dir())).toThrow(
      'Invalid setting IMAGE_ENV = "stage": no such environment. Allowed: "dev", "prod".',
    );
    expect(() => resolveReleases([dev, prod], { IMAGE_ENV: "dev" }, dir())).toThrow(/Invalid setting IMAGE_ENV = "dev": .*IMAGE_TAG is not set/);
  });

  test("IMAGE_TAG against a different pinned task.image.tag, or a task.image.uri", () => {
    const pinned = { ...dev, task: { image: { tag: "v1" } } };
    expect(() => resolveReleases([pinned], { IMAGE_TAG: "v2" }, dir())).toThrow(
      'Invalid setting IMAGE_TAG = "v2": task.image.tag = "v1" pins another tag for dev in environments/environments.ts. Allowed: IMAGE_TAG = "v1", or remove task.image.tag so the recorded release decides.',
    );
    expect(resolveReleases([pinned], { IMAGE_TAG: "v1" }, dir()).dev?.tag).toBe("v1");
    const uri = { ...dev, task: { image: { uri: "ghcr.io/acme/api:1" } } };
    expect(() => resolveReleases([uri], { IMAGE_TAG: "v2" }, dir())).toThrow(
      /Invalid setting IMAGE_TAG = "v2": task\.image\.uri = "ghcr\.io\/acme\/api:1" runs an image from another registry/,
    );
  });

  test("a malformed IMAGE_TAG", () => {
    expect(() => resolveReleases([dev], { IMAGE_TAG: "v2@sha256:123" }, dir())).toThrow(
      /Invalid setting IMAGE_TAG = "v2@sha256:123": not an image tag or digest/,
    );
  });

  test("a recorded release against a different pinned tag, or a URI", () => {
    const release = { tag: "v2", source: "releases/test.json" };
    expect(() => synth(env({ task: { image: { tag: "v1" } } }), { release })).toThrow(
      'Invalid setting task.image.tag = "v1": releases/test.json records the release v2, another image. Allowed: task.image.tag removed so the recorded release decides, or `npm run release -- <env> v1`.',
    );
    expect(() => synth(env({ task: { image: { uri: "ghcr.io/acme/api:1" } } }), { release })).toThrow(
      /Invalid setting releases\/test\.json = "v2": .*task\.image\.uri/,
    );
  });

  test("a one-off tag that disagrees with the recorded release", () => {
    expect(() => synth(env(), { imageTag: "v3", release: { tag: "v2", source: "releases/test.json" } })).toThrow(
      /Invalid setting IMAGE_TAG = "v3": releases\/test\.json records the release v2; a deploy of another one would be rolled back by the next plain deploy/,
    );
  });

  test.each([
    ['{"tag": "v1", "image": "x"}', /Invalid setting releases\/dev\.json = .*: not a release record/],
    ["{}", /Invalid setting releases\/dev\.json = \{\}: names neither a tag nor a digest/],
    ['{"digest": "sha256:1"}', /Invalid setting releases\/dev\.json digest = "sha256:1": not an image digest/],
    ["v1", /Invalid setting releases\/dev\.json = "v1": not JSON/],
  ])("a malformed release file %s", (content, message) => {
    const releases = dir();
    writeFileSync(join(releases, "dev.json"), content);
    expect(() => resolveReleases([dev], {}, releases)).toThrow(message);
  });

  test("npm run release refuses what synth would refuse, before writing anything", () => {
    const releases = dir();
    expect(() => recordRelease(releases, [{ ...dev, task: { image: { tag: "v1" } } }], "dev", "v2")).toThrow(/Invalid setting task\.image\.tag = "v1"/);
    expect(() => recordRelease(releases, [dev], "staging", "v2")).toThrow(
      'Invalid setting environment = "staging": no such environment in environments/environments.ts. Allowed: "dev".',
    );
    expect(readRelease(releases, "dev")).toBeUndefined();
  });
});

describe("what CI reads about an environment", () => {
  test("builds on a runner of the task's CPU architecture", () => {
    expect(describeEnvironment(dev)).toMatchObject({ platform: "linux/amd64", runner: "ubuntu-24.04", repository: "rest-api-dev", region: "eu-west-1" });
    expect(describeEnvironment({ ...dev, task: { cpuArchitecture: "ARM64" } })).toMatchObject({ platform: "linux/arm64", runner: "ubuntu-24.04-arm" });
    expect(describeEnvironment(dev, { tag: "v1", digest: DIGEST, source: "" }).release).toBe(`v1@${DIGEST}`);
  });
});

describe("the rollout check after a deploy", () => {
  const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/rest-api-dev@${DIGEST}`;
  const OLD = `123456789012.dkr.ecr.us-east-1.amazonaws.com/rest-api-dev@${OTHER_DIGEST}`;
  const deployment = (status: string, rolloutState: string, extra = {}) => ({
    status,
    rolloutState,
    taskDefinition: "td",
    desiredCount: 1,
    runningCount: 1,
    ...extra,
  });
  const service = (...deployments: object[]) => ({ status: "ACTIVE", deployments });

  test("passes when the PRIMARY deployment runs the release and is COMPLETED", () => {
    expect(judgeRollout(service(deployment("PRIMARY", "COMPLETED")), IMAGE, IMAGE).state).toBe("completed");
  });

  test("waits while the release rolls out", () => {
    expect(judgeRollout(service(deployment("PRIMARY", "IN_PROGRESS"), deployment("ACTIVE", "COMPLETED")), IMAGE, IMAGE).state).toBe("pending");
  });

  test("fails when the circuit breaker rolled the release back, although the old image's deployment COMPLETED", () => {
    const rolledBack = service(
      deployment("PRIMARY", "COMPLETED"),
      deployment("ACTIVE", "FAILED", { rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." }),
    );
    const verdict = judgeRollout(rolledBack, OLD, IMAGE);
    expect(verdict.state).toBe("failed");
    expect(verdict.message).toMatch(/circuit breaker rolled the release back \(ECS deployment circuit breaker: tasks failed to start\.\)/);
  });

  test("fails when the release's own rollout FAILED", () => {
    expect(judgeRollout(service(deployment("PRIMARY", "FAILED", { rolloutStateReason: "x" })), IMAGE, IMAGE)).toEqual({
      state: "failed",
      message: "the release's deployment failed: x",
    });
  });

  test("fails when another image runs, or the service is gone", () => {
    expect(judgeRollout(service(deployment("PRIMARY", "COMPLETED")), OLD, IMAGE).state).toBe("failed");
    expect(judgeRollout(undefined, undefined, IMAGE).state).toBe("failed");
    expect(judgeRollout({ status: "DRAINING", deployments: [] }, undefined, IMAGE).state).toBe("failed");
  });
});
