/**
 * Records which image an environment runs: `releases/<env>.json`, read by every synth.
 *
 *   npm run release -- <env> <tag | sha256:digest | tag@sha256:digest>   # record a release (or roll back to an earlier one)
 *   npm run release -- <env>                                            # print the recorded release
 *   npm run release -- --describe <env>                                 # key=value facts for a CI job's $GITHUB_OUTPUT
 *
 * Then deploy (`npm run deploy:release -- <env>`, the release path CI takes) and commit the file, so every
 * later deploy keeps the release.
 */
import { resolve } from "node:path";
import { defineCommand, UsageError } from "../cli/cli.cjs";
import { resolveImage } from "../lib/registry/container-image";
import { describeRelease, parseReleaseRef, Release } from "../lib/registry/release";
import { check, SettingError } from "../lib/settings/validate";
import { readRelease, writeRelease } from "../lib/settings/environment/releases";
import { resourcePrefix, type EnvironmentSettings } from "../lib/settings/environment/settings";

export const RELEASES_DIR = resolve(__dirname, "..", "releases");

function find(environments: readonly EnvironmentSettings[], name: string | undefined): EnvironmentSettings {
  const found = environments.find((e) => e.name === name);
  check(Boolean(found), "environment", name, "no such environment in environments/environments.ts", environments.map((e) => JSON.stringify(e.name)).join(", "));
  return found!;
}

/** Records `ref` as the release of `name`, after the checks synth would make; returns the previous one. */
export function recordRelease(dir: string, environments: readonly EnvironmentSettings[], name: string, ref: string): { previous?: Release; current: Release } {
  const settings = find(environments, name);
  const source = `releases/${name}.json`;
  const current = parseReleaseRef("release", ref, source);
  // The same refusals as synth (a pinned tag or a URI naming another image), before anything is written.
  resolveImage(settings.task?.image, undefined, current);
  const previous = readRelease(dir, name);
  writeRelease(dir, name, current);
  return { previous, current };
}

/** What a CI job needs to know about an environment, from the same settings the stack is built from. */
export function describeEnvironment(settings: EnvironmentSettings, release?: Release): Record<string, string> {
  const prefix = resourcePrefix(settings);
  const arm = (settings.task?.cpuArchitecture ?? "X86_64") === "ARM64";
  return {
    region: settings.region ?? "us-east-1",
    repository: prefix,
    cluster: prefix,
    service: prefix,
    // Build natively on a runner of the task's architecture: no emulation, and the image runs where it is built for.
    platform: arm ? "linux/arm64" : "linux/amd64",
    runner: arm ? "ubuntu-24.04-arm" : "ubuntu-24.04",
    state: (settings.state ?? { backend: "local" }).backend,
    release: release ? describeRelease(release) : "",
    releaseTag: release?.tag ?? "",
    releaseDigest: release?.digest ?? "",
  };
}

export const RELEASE_COMMAND = defineCommand({
  name: "release",
  summary: "Records which image an environment runs (releases/<env>.json, read by every synth), or prints the recorded one.",
  args: "<env> [<tag | sha256:digest | tag@sha256:digest>]",
  argsHelp: ["env: an environment of environments/environments.ts; with a release, records it (or rolls back to an earlier one)"],
  options: { describe: { type: "boolean", description: "print key=value facts about <env> for a CI job's $GITHUB_OUTPUT" } },
  examples: ["npm run release -- dev v1.0.0", "npm run release -- dev", "npm run release -- --describe dev"],
});

if (require.main === module) {
  const { values, positionals: args } = RELEASE_COMMAND.start();
  void (async () => {
    const { environments } = await import("../environments/environments");
    try {
      if (values.describe) {
        if (args.length !== 1) throw RELEASE_COMMAND.usageError("--describe takes one environment");
        const settings = find(environments, args[0]);
        const facts = describeEnvironment(settings, readRelease(RELEASES_DIR, settings.name));
        for (const [key, value] of Object.entries(facts)) console.log(`${key}=${value}`);
        return;
      }
      const [name, ref] = args;
      if (args.length < 1 || args.length > 2) throw RELEASE_COMMAND.usageError("expected an environment and optionally a release");
      if (ref === undefined) {
        const recorded = readRelease(RELEASES_DIR, find(environments, name).name);
        console.log(recorded ? describeRelease(recorded) : `no release recorded for ${name}: it runs task.image.tag, task.image.uri or the placeholder`);
        return;
      }
      const { previous, current } = recordRelease(RELEASES_DIR, environments, name, ref);
      console.log(`releases/${name}.json: ${previous ? describeRelease(previous) : "none"} -> ${describeRelease(current)}`);
      console.log(`Deploy it with \`npm run deploy:release -- ${name}\`, and commit releases/${name}.json so every later deploy keeps it.`);
    } catch (error) {
      if (error instanceof SettingError || error instanceof UsageError) {
        console.error(`error: ${error.message}`);
        process.exit(error instanceof UsageError ? error.exitCode : 1);
      }
      throw error;
    }
  })();
}
