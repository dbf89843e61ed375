/**
 * The recorded releases: `releases/<env>.json`, one file per environment, committed in git. The
 * pipeline writes it after a successful deploy, `npm run release -- <env> <tag-or-digest>` writes it
 * by hand (a rollback is the same command with an earlier release), and every synth reads it. So a deploy
 * without IMAGE_TAG runs the recorded release instead of falling back to the placeholder or to
 * `task.image.tag`, which is how a plain infrastructure deploy used to roll a release back.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeRelease, parseReleaseRef, Release, releaseFromJson, releaseToJson } from "../../registry/release";
import { check } from "../validate";
import type { EnvironmentSettings } from "./settings";

export function releasePath(dir: string, env: string): string {
  return join(dir, `${env}.json`);
}

/** The recorded release of one environment, or undefined before its first release. */
export function readRelease(dir: string, env: string): Release | undefined {
  const file = releasePath(dir, env);
  if (!existsSync(file)) return undefined;
  const source = `releases/${env}.json`;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    check(false, source, readFileSync(file, "utf8").slice(0, 200), `not JSON (${(error as Error).message})`, "the file `npm run release` writes");
  }
  return releaseFromJson(json, source);
}

export function writeRelease(dir: string, env: string, release: Release): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(releasePath(dir, env), releaseToJson(release));
}

/** True when `given` names the recorded release (a tag alone agrees with the same tag plus its digest). */
function agrees(recorded: Release | undefined, given: Release): boolean {
  if (!recorded) return false;
  const tagOk = given.tag === undefined ? recorded.tag === undefined || given.digest === recorded.digest : given.tag === recorded.tag;
  const digestOk = given.digest === undefined || given.digest === recorded.digest;
  return tagOk && digestOk;
}

/**
 * Each environment's release for this synth: its file, or IMAGE_TAG recorded into its file first.
 *
 * IMAGE_TAG stays a one-off way to release, but it is written to the file before synth, so the next
 * plain deploy keeps it. Refused: IMAGE_TAG when several stacks are synthesized and IMAGE_ENV does not
 * name one (every `cdktf` command synthesizes every stack, so the app cannot know which one is deployed,
 * and recording the tag for all of them would release prod on its next deploy), IMAGE_TAG against a
 * different pinned `task.image.tag` or a `task.image.uri`, and a malformed tag or digest.
 */
export function resolveReleases(
  environments: readonly EnvironmentSettings[],
  env: NodeJS.ProcessEnv,
  dir: string,
  // On stderr: cdktf shows the app's output, and the new file must be committed or the next checkout rolls back.
  say: (line: string) => void = (line) => console.error(line),
): Record<string, Release | undefined> {
  const names = environments.map((e) => e.name);
  const imageTag = env.IMAGE_TAG || undefined;
  const imageEnv = env.IMAGE_ENV || undefined;
  check(
    !imageEnv || Boolean(imageTag),
    "IMAGE_ENV",
    imageEnv,
    "it names the environment IMAGE_TAG is for, but IMAGE_TAG is not set",
    "IMAGE_ENV together with IMAGE_TAG, or neither",
  );
  check(!imageEnv || names.includes(imageEnv), "IMAGE_ENV", imageEnv, "no such environment", names.map((n) => JSON.stringify(n)).join(", "));
  check(
    !imageTag || Boolean(imageEnv) || names.length === 1,
    "IMAGE_TAG",
    imageTag,
    `${names.length} stacks are synthesized (${names.join(", ")}) and every cdktf command synthesizes all of them, so the tag would be released to each`,
    `IMAGE_ENV=<${names.join(" | ")}> beside IMAGE_TAG, or \`npm run release -- <env> ${imageTag}\` then a plain deploy`,
  );
  const target = imageTag ? (imageEnv ?? names[0]) : undefined;
  const releases: Record<string, Release | undefined> = {};
  for (const settings of environments) {
    const recorded = readRelease(dir, settings.name);
    if (settings.name !== target) {
      releases[settings.name] = recorded;
      continue;
    }
    const given = parseReleaseRef("IMAGE_TAG", imageTag!, "IMAGE_TAG");
    const pinned = settings.task?.image;
    check(
      !pinned?.uri,
      "IMAGE_TAG",
      imageTag,
      `task.image.uri = "${pinned?.uri}" runs an image from another registry in ${settings.name}`,
      "IMAGE_TAG unset, or task.image.uri removed",
    );
    check(
      !pinned?.tag || pinned.tag === given.tag,
      "IMAGE_TAG",
      imageTag,
      `task.image.tag = "${pinned?.tag}" pins another tag for ${settings.name} in environments/environments.ts`,
      `IMAGE_TAG = "${pinned?.tag}", or remove task.image.tag so the recorded release decides`,
    );
    if (agrees(recorded, given)) {
      releases[settings.name] = recorded;
    } else {
      writeRelease(dir, settings.name, given);
      say(`release: recorded ${describeRelease(given)} in releases/${settings.name}.json (was ${recorded ? describeRelease(recorded) : "none"}); commit it.`);
      releases[settings.name] = { ...given, source: `releases/${settings.name}.json` };
    }
  }
  return releases;
}
