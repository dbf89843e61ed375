/**
 * Offline proof: for each synthesized stack, `terraform init` and `plan` (which validates) with no AWS
 * credentials and no network. Synthesize with OFFLINE=1 first (`npm run plan:offline` does both).
 *
 * Provider install: if a local filesystem mirror of hashicorp/aws holds the pinned version (found in
 * TF_PROVIDER_MIRROR or a usual place), this writes a Terraform CLI config that installs from it and
 * nothing else; otherwise Terraform downloads from the registry as usual. Either way a shared plugin
 * cache means one provider copy for all stacks, and each stack is initialised once per run.
 */
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { promisify } from "node:util";
import providerPackage from "@cdktf/provider-aws/package.json";
import { join, resolve } from "node:path";
import { defineCommand, killOnInterrupt, Reporter } from "../cli/cli.cjs";
import { describeEngine, engineFromEnv } from "./engine.cjs";

const run = promisify(execFile);

const PROVIDER = "registry.terraform.io/hashicorp/aws";
/** The provider version @cdktf/provider-aws was generated for; the synthesized JSON pins it. */
export const PROVIDER_VERSION: string = providerPackage.cdktf.provider.version;

export interface PlanResult {
  readonly stack: string;
  /** Planned creations by resource type, e.g. `{ aws_subnet: 4 }`. */
  readonly creates: Record<string, number>;
  /** Planned actions other than create; empty for a fresh offline plan. */
  readonly otherActions: string[];
  /** Each resource's planned values that are known before apply, by address. */
  readonly planned: Record<string, unknown>;
}

export function terraformVersion(): string {
  const result = spawnSync("terraform", ["version", "-json"], { encoding: "utf8", env: quietEnv() });
  if (result.error || result.status !== 0) {
    throw new Error(
      "terraform was not found on PATH (or does not run). Install Terraform >= 1.10 to prove the " +
        "synthesized stacks offline, or set SKIP_TERRAFORM_TESTS=1 to skip those tests.",
    );
  }
  return JSON.parse(result.stdout).terraform_version;
}

/** A local mirror directory holding the pinned provider, or undefined to use the registry. */
export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.TF_PROVIDER_MIRROR,
    "/opt/tf-plugins",
    join(homedir(), ".terraform.d", "plugins"),
    join(homedir(), ".local", "share", "terraform", "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
  ].filter((c): c is string => Boolean(c));
  return candidates.find((dir) => existsSync(join(dir, PROVIDER, PROVIDER_VERSION)));
}

/** Writes the CLI config into `workDir` and returns the environment terraform runs with. */
export function offlineTerraformEnv(workDir: string, mirror = findProviderMirror()): NodeJS.ProcessEnv {
  const dir = resolve(workDir);
  const cache = join(dir, "plugin-cache");
  mkdirSync(cache, { recursive: true });
  const install = mirror
    ? [
        "provider_installation {",
        `  filesystem_mirror {\n    path    = ${JSON.stringify(resolve(mirror))}\n    include = ["${PROVIDER}"]\n  }`,
        `  direct {\n    exclude = ["${PROVIDER}"]\n  }`,
        "}",
      ]
    : [];
  const config = join(dir, "terraform.rc");
  writeFileSync(config, [`plugin_cache_dir = ${JSON.stringify(cache)}`, "disable_checkpoint = true", ...install, ""].join("\n"));
  return { ...quietEnv(), TF_CLI_CONFIG_FILE: config };
}

function quietEnv(): NodeJS.ProcessEnv {
  // Terraform and the AWS provider are Go programs, and at Go's default GOGC (100) the garbage collector
  // takes about a quarter of a plan's CPU: the provider's schema is large and rebuilt for every command.
  // 400 trades about 200 MB more per process for it (measured on prod: a plan's CPU 10.8 s → 8.0 s,
  // its largest process 314 → 450-520 MB); a GOGC of the caller's own wins.
  const env: NodeJS.ProcessEnv = { GOGC: "400", ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1", TF_INPUT: "0" };
  // A stray profile or token must not make an offline plan look for real credentials.
  for (const key of Object.keys(env)) if (key.startsWith("AWS_") || key.startsWith("TF_VAR_")) delete env[key];
  delete env.TF_WORKSPACE;
  return env;
}

async function terraform(dir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  try {
    const running = run("terraform", args, { cwd: dir, env, encoding: "utf8", maxBuffer: 1 << 28 });
    // Interrupted, terraform gets its own graceful stop (SIGINT), not an orphan's life.
    killOnInterrupt(running.child, { signal: "SIGINT", graceMs: 10_000 });
    const { stdout } = await running;
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`terraform ${args[0]} failed in ${dir}:\n${e.stderr || e.stdout || e.message}`);
  }
}

/**
 * Init and plan one stack directory (a plan validates the configuration first, as `terraform
 * validate` would, so a separate validate would only load the provider once more).
 */
async function planStack(dir: string, env: NodeJS.ProcessEnv, reporter: Reporter, lockFile?: string): Promise<PlanResult> {
  const stack = dir.split("/").pop();
  const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const progress = reporter.step(`${stack}: ${label}`);
    try {
      const result = await work();
      progress.done();
      return result;
    } catch (error) {
      // Terraform's own `Error: …` line, rather than the "failed in <dir>:" heading.
      const lines = (error as Error).message.split("\n");
      progress.fail(lines.find((line) => /^[\s│]*Error: /.test(line))?.replace(/^[\s│]*/, "") ?? lines[0]);
      throw error;
    }
  };
  if (lockFile) copyFileSync(lockFile, join(dir, ".terraform.lock.hcl"));
  await step("terraform init", () => terraform(dir, env, ["init", "-input=false", "-no-color", "-backend=true"]));
  return step("terraform plan", async () => {
    await terraform(dir, env, ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-out=offline.tfplan"]);
    return summarize(dir, JSON.parse(await terraform(dir, env, ["show", "-json", "offline.tfplan"])));
  });
}

/** Terraform runs at once: each loads the provider (~300 MB, a core while it plans). */
export const PLAN_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

/**
 * Init and plan every stack directory, `concurrency` at a time, in the given order. The first init
 * alone fills the shared plugin cache and records the provider's checksum; the others reuse that
 * lock file so Terraform links the provider from the cache instead of installing it again.
 * Settles every stack: a failed one is an Error in its place, so one bad stack does not hide the others.
 */
export async function planStacks(
  stackDirs: readonly string[],
  env: NodeJS.ProcessEnv,
  concurrency = PLAN_CONCURRENCY,
  reporter: Reporter = Reporter.silent(),
): Promise<(PlanResult | Error)[]> {
  const results: (PlanResult | Error)[] = new Array(stackDirs.length);
  const settle = async (i: number, lockFile?: string) => {
    results[i] = await planStack(stackDirs[i], env, reporter, lockFile).catch((error: Error) => error);
  };
  if (!stackDirs.length) return results;
  await settle(0);
  const lockFile = join(stackDirs[0], ".terraform.lock.hcl");
  if (results[0] instanceof Error && !existsSync(lockFile)) return results.fill(results[0]);
  let next = 1;
  const worker = async () => {
    while (next < stackDirs.length) await settle(next++, lockFile);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, stackDirs.length - 1) }, worker));
  return results;
}

/** The results, or the first failure thrown with every failed stack's message. */
export function allPlanned(results: readonly (PlanResult | Error)[]): PlanResult[] {
  const failed = results.filter((r): r is Error => r instanceof Error);
  if (failed.length) throw new Error(failed.map((e) => e.message).join("\n\n"));
  return results as PlanResult[];
}

interface PlanJson {
  resource_changes?: { type: string; address: string; change: { actions: string[] } }[];
  planned_values?: { root_module?: { resources?: { address: string; values: unknown }[] } };
}

function summarize(dir: string, plan: PlanJson): PlanResult {
  const creates: Record<string, number> = {};
  const otherActions: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change.actions.join(",");
    // A data source read at apply (it depends on what is created: the Valkey recipe's token) changes nothing.
    if (actions === "read" && rc.address.startsWith("data.")) continue;
    if (actions === "create") creates[rc.type] = (creates[rc.type] ?? 0) + 1;
    else if (actions !== "no-op") otherActions.push(`${rc.address}: ${actions}`);
  }
  const planned = Object.fromEntries((plan.planned_values?.root_module?.resources ?? []).map((r) => [r.address, r.values]));
  return { stack: dir.split("/").pop()!, creates: sortKeys(creates), otherActions, planned };
}

function sortKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function stackDirs(outdir: string): string[] {
  const stacks = join(outdir, "stacks");
  return readdirSync(stacks)
    .sort()
    .map((name) => join(stacks, name));
}

if (require.main === module) {
  defineCommand({
    name: "plan:offline",
    summary: "Synthesizes every environment with OFFLINE=1, then runs terraform init and plan (which validates) on each, with no AWS credentials or network.",
    needs: [
      "terraform 1.10 or newer on PATH",
      `the provider ${PROVIDER} ${PROVIDER_VERSION}: from a local mirror (TF_PROVIDER_MIRROR, or a usual place) or, without one, the registry`,
      "CDK_ENGINE=cdktn plans what cdktn synthesizes",
    ],
    examples: ["npm run plan:offline", "npm run --silent plan:offline | tee offline-plan.txt"],
  }).start();
  const workDir = resolve(".offline");
  const outdir = join(workDir, "cdktf.out");
  console.log(`terraform ${terraformVersion()}, provider ${PROVIDER}@${PROVIDER_VERSION}`);
  // CDK_ENGINE=cdktn plans what cdktn synthesizes: the synth app bundles it for every `cdktf` import.
  console.log(describeEngine(engineFromEnv()));
  const mirror = findProviderMirror();
  console.log(mirror ? `provider from local mirror ${mirror}` : "provider from the registry (no local mirror found)");
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const reporter = new Reporter();
  const synth = reporter.step("synthesize every environment (OFFLINE=1)");
  // Through the synth app, as `npm run synth` and `cdktf deploy` synthesize (one path: synth-paths.test.ts).
  // Its output is held until it ends, so a live status line is never written over.
  const synthesized = spawnSync(process.execPath, [resolve(__dirname, "synth.cjs")], {
    encoding: "utf8",
    env: { ...process.env, OFFLINE: "1", CDKTF_OUTDIR: outdir },
  });
  if (synthesized.status === 0) synth.done();
  else synth.fail(synthesized.error?.message ?? `exit code ${synthesized.status ?? synthesized.signal}`);
  process.stdout.write(synthesized.stdout);
  if (synthesized.stderr) process.stderr.write(synthesized.stderr);
  if (synthesized.status !== 0) process.exit(1);
  const env = offlineTerraformEnv(workDir, mirror);
  void planStacks(stackDirs(outdir), env, PLAN_CONCURRENCY, reporter).then((results) => {
    reporter.close();
    for (const result of allPlanned(results)) {
      const total = Object.values(result.creates).reduce((a, b) => a + b, 0);
      console.log(`${result.stack}: valid; plan creates ${total} resources`);
      for (const [type, count] of Object.entries(result.creates)) console.log(`  ${String(count).padStart(3)} ${type}`);
      if (result.otherActions.length) throw new Error(`unexpected plan actions: ${result.otherActions.join("; ")}`);
    }
  });
}
