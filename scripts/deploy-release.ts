/**
 * The release path: how CI deploys an environment with its release role (docs/deploy-and-release.md,
 * docs/security.md "Two kinds of change"). It synthesizes with the synth app, plans, and applies that
 * plan only when every change is to a resource type the stack declares a release's (task definitions,
 * services, scaling, schedules, alarms, in place, and new task definition revisions; `"//": { "releaseTypes" }`
 * of the synthesized stack). A plan that
 * would also change what grants or protects (roles, keys, the database, log retention, queues, the
 * network…) is refused before anything is applied, naming each change: the role could not make it, and
 * a half-applied release is worse than none. An administrator deploys that change with `npm run deploy`.
 *
 *   npm run deploy:release -- dev                # synth, plan, check, apply the plan
 *   npm run deploy:release -- --plan-only dev    # synth, plan, check; apply nothing
 *
 * Exit codes: 0 applied (or, with --plan-only, releasable); 3 refused (changes only the administrator
 * deploys); 2 usage; 1 anything else (synth, terraform).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand, UsageError } from "../cli/cli.cjs";
import { foundationChanges, releaseTypesOf, type PlanChanges, type ReleaseTypes } from "../lib/ci/release-changes";

export const DEPLOY_RELEASE_COMMAND = defineCommand({
  name: "deploy:release",
  summary:
    "Deploys an environment as CI does, with its release role: synth, plan, and apply only if every change is one a release may make (task definitions, services, scaling, schedules, alarms).",
  args: "<env>",
  argsHelp: ["env: an environment of environments/environments.ts with `ci` set (its release role)"],
  options: { "plan-only": { type: "boolean", description: "plan and check, apply nothing" } },
  needs: ["terraform 1.10 or newer on PATH", "AWS credentials: the environment's release role (ci), as the workflows assume it"],
  examples: ["npm run deploy:release -- dev", "npm run deploy:release -- --plan-only prod"],
});

/** Exit code of a plan refused for changes only the administrator deploys. */
export const REFUSED_EXIT = 3;

/** What the release path says of a plan: nothing when it may apply, else the refusal, one change a line. */
export function releaseRefusal(env: string, plan: PlanChanges, releaseTypes: ReleaseTypes): string | undefined {
  const changes = foundationChanges(plan, releaseTypes);
  if (!changes.length) return undefined;
  return [
    `${env}: the plan changes what only the administrator deploys, so the release role may not apply it (nothing was applied):`,
    ...changes.map((change) => `  ${change}`),
    `A release may change: ${Object.entries(releaseTypes)
      .map(([type, how]) => (how === "revisions" ? `${type} (new revisions)` : `${type} (in place)`))
      .join(", ")}.`,
    `Deploy this change with administrator credentials first (\`npm run deploy -- ${env}\`, docs/deploy-and-release.md), then release again.`,
  ].join("\n");
}

function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args[0]} exited ${result.status ?? result.signal}`);
  return String(result.stdout ?? "");
}

if (require.main === module) {
  const { values, positionals } = DEPLOY_RELEASE_COMMAND.start();
  try {
    if (positionals.length !== 1) throw DEPLOY_RELEASE_COMMAND.usageError("expected one environment");
    const [env] = positionals;
    const root = resolve(__dirname, "..");
    // The synth app, as `npm run synth`: the one path from the code to the stack (scripts/synth.cjs).
    run(process.execPath, [join(root, "scripts", "synth.cjs")], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    const dir = join(process.env.CDKTF_OUTDIR ?? join(root, "cdktf.out"), "stacks", env);
    const releaseTypes = releaseTypesOf(JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")));
    if (!releaseTypes) throw new UsageError(`${env} has no release role: set ci in environments/environments.ts (docs/deploy-and-release.md, Set up once)`);
    const tf = (args: string[], inherit = true) => run("terraform", args, { cwd: dir, ...(inherit ? { stdio: ["ignore", "inherit", "inherit"] } : {}) });
    tf(["init", "-input=false"]);
    tf(["plan", "-input=false", "-out=release.tfplan"]);
    const refusal = releaseRefusal(env, JSON.parse(tf(["show", "-json", "release.tfplan"], false)) as PlanChanges, releaseTypes);
    if (refusal) {
      console.error(`error: ${refusal}`);
      process.exit(REFUSED_EXIT);
    }
    if (values["plan-only"]) console.log(`${env}: every change is one a release may make.`);
    else tf(["apply", "-input=false", "release.tfplan"]);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      process.exit(error.exitCode);
    }
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
