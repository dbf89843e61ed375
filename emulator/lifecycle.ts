/**
 * The emulator lifecycle: a stack deployed, released, re-planned and destroyed against its own local
 * AWS emulator, with what exists read back through the AWS SDK as a real client would. Used by the
 * integration tests (`__tests__/integration/`) and `npm run lifecycle` (emulator/lifecycles.ts: the stacks'
 * lifecycles, timed).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { App, TerraformStack } from "cdktf";
import { killOnInterrupt, Reporter } from "../cli/cli.cjs";
import { offlineTerraformEnv } from "../scripts/offline-plan";
import { Emulator, startEmulator } from "./server";
import { plannedChanges, unexpectedChanges, upgradeProblems, PlanJson } from "./known-gaps";
import { leftovers, unseenKinds } from "./inventory";
import { foundationChanges, releaseTypesOf, type PlanChanges, type ReleaseTypes } from "../lib/ci/release-changes";

/** What a step sees of the running emulator. */
export interface StepContext {
  readonly url: string;
  readonly region: string;
  /** The stack's outputs after the last apply (`terraform output -json` values). */
  readonly outputs: Record<string, unknown>;
}

export interface Step {
  /** What the step proves, e.g. "deploy the placeholder". */
  readonly name: string;
  /**
   * - `apply`: must succeed.
   * - `replan`: a plan that must show nothing but the emulator's known gaps.
   * - `upgrade-plan`: a plan over an older version's state that may create and change in place, but
   *   delete or replace nothing beyond the emulator's known gaps.
   * - `destroy`: must succeed and leave nothing behind but `survivors`.
   * - `refused-destroy`: must fail (e.g. deletion protection); what it said is recorded.
   * - `release`: the release path (`npm run deploy:release`, lib/ci/release-changes.ts): a plan that must
   *   change only what a release may, then applied as planned.
   * - `refused-release`: the release path on a plan that changes what only the administrator deploys: it
   *   must be refused, naming those changes, with nothing applied.
   */
  readonly action: "apply" | "replan" | "upgrade-plan" | "destroy" | "refused-destroy" | "release" | "refused-release";
  /**
   * `release`, `refused-release`: the resource types a release may change, for a stack without CI access
   * (a stack with it names them itself, `"//": { "releaseTypes" }`). @default the stack's own
   */
  readonly releaseTypes?: ReleaseTypes;
  /** Builds the stack for this step and the steps after it. @default the previous step's stack */
  readonly stack?: (app: App, ctx: { readonly url: string }) => TerraformStack | Promise<TerraformStack>;
  /**
   * Terraform JSON to run instead of a stack built now, e.g. the previous main's synthesized stack,
   * written where this lifecycle's stack lives so the steps after it plan over its state.
   * @default none: `stack` decides
   */
  readonly terraformJson?: (ctx: { readonly url: string }) => unknown;
  /** Reads what exists after the action, for the test to assert on. */
  readonly inspect?: (ctx: StepContext) => Promise<unknown>;
  /** Resources expected to outlive `destroy`, e.g. a final snapshot: `<service> <kind> <id>`. */
  readonly survivors?: readonly string[];
}

export interface LifecycleSpec {
  readonly name: string;
  readonly region: string;
  /** Work before the first step, e.g. a hosted zone the stack expects to exist. */
  readonly prepare?: (url: string) => Promise<void>;
  readonly steps: readonly Step[];
}

export interface StepResult {
  readonly name: string;
  readonly action: Step["action"];
  readonly seconds: number;
  /** Terraform's error for a failed step, or the refusal of a `refused-destroy`. */
  readonly error?: string;
  /**
   * `replan`: changes that are not known emulator gaps (perpetual diffs); `upgrade-plan`: deletions and replacements that are not;
   * `release`: changes a release may not make.
   */
  readonly unexpected?: string[];
  /** `upgrade-plan`, `release`, `refused-release`: every planned change, `<address>: <actions>`; `refused-release`: those refused. */
  readonly changes?: string[];
  /** `destroy`: what still exists afterwards, survivors excepted; `refused-destroy`: what it removed. */
  readonly leftovers?: string[];
  /** The first `apply`: the kinds it made whose leftover inventory finds none of them (`unseenKinds`), so a destroy's check could not fail for them. */
  readonly unseen?: string[];
  readonly observed?: unknown;
  readonly outputs?: Record<string, unknown>;
}

export interface LifecycleResult {
  readonly name: string;
  readonly seconds: number;
  readonly steps: StepResult[];
  /** True when every step did what its action demands. */
  readonly ok: boolean;
}

/**
 * A step that takes longer than this is hung (e.g. a waiter for something the emulator never does):
 * it is stopped and fails rather than holding the run to the provider's own timeouts of 20+ minutes.
 */
const STEP_TIMEOUT_MS = 8 * 60 * 1000;

/**
 * The `nice` of the plain lifecycles when they run with longer ones (see runLifecycles), and of the
 * integration tests that run beside the lifecycle test: the lowest priority. At nice 10 (a tenth of
 * normal weight each) the four plain lifecycles and the tests beside them still added half a minute to
 * prod's path; at 19, prod ran within 20 s of its time alone.
 */
export const BACKGROUND_NICENESS = 19;

/** Output of a terraform command, or an error carrying its stderr. */
function terraform(dir: string, env: NodeJS.ProcessEnv, args: string[], niceness = 0): Promise<string> {
  return new Promise((done, fail) => {
    // `nice` execs terraform in its own process, so the signals below still reach terraform.
    const command = niceness ? ["nice", "-n", String(niceness), "terraform"] : ["terraform"];
    // In the background, one Go thread each: many processes share the cores, and Go's idle threads
    // would spin looking for work the long lifecycles' processes need the CPU for.
    const background = niceness ? { GOMAXPROCS: "1" } : {};
    // Interrupted, terraform gets its own graceful stop rather than running on, orphaned.
    const child = killOnInterrupt(
      spawn(command[0], [...command.slice(1), ...args, "-no-color"], {
        cwd: dir,
        env: { ...env, ...background },
        stdio: ["ignore", "pipe", "pipe"],
      }),
      { signal: "SIGINT", graceMs: 10_000 },
    );
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGINT"); // terraform's own graceful stop: it records what it did in state
      setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
    }, STEP_TIMEOUT_MS);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.once("error", fail);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      if (code === 0 && !timedOut) return done(stdout);
      const stderr = Buffer.concat(err).toString();
      const why = timedOut ? `timed out after ${STEP_TIMEOUT_MS / 60000} minutes` : "failed";
      fail(new Error(`terraform ${args[0]} ${why}:\n${(stderr || stdout).trim().slice(-3000)}`));
    });
  });
}

/** A shared provider cache and CLI config; the first init's lock file lets the others use the cache. */
export class TerraformWorkspace {
  readonly env: NodeJS.ProcessEnv;
  private lockFile?: string;
  private initQueue: Promise<unknown> = Promise.resolve();

  constructor(readonly workDir: string) {
    mkdirSync(workDir, { recursive: true });
    this.env = offlineTerraformEnv(workDir);
  }

  /** Inits run one at a time: a plugin cache is not safe for concurrent installs. */
  init(dir: string): Promise<void> {
    const next = this.initQueue.then(async () => {
      if (existsSync(join(dir, ".terraform"))) return;
      if (this.lockFile) copyFileSync(this.lockFile, join(dir, ".terraform.lock.hcl"));
      await terraform(dir, this.env, ["init", "-input=false"]);
      this.lockFile ??= join(dir, ".terraform.lock.hcl");
    });
    this.initQueue = next.catch(() => undefined);
    return next;
  }

  /** @param niceness the command's `nice`: 0 (normal) or BACKGROUND_NICENESS */
  run(dir: string, args: string[], niceness = 0): Promise<string> {
    return terraform(dir, this.env, args, niceness);
  }
}

/**
 * Every lifecycle at once, each against its own emulator. With fewer cores than stacks, the run lasts as
 * long as its longest lifecycles: those with more steps that apply or destroy than the plain deploy,
 * release and destroy (an upgrade to apply first, a deletion protection to lift), since each of those
 * plans the whole stack and waits out the provider's fixed waiters (RDS's minute before each poll
 * series), where a plan only reads. They run at normal priority and the plain ones at
 * BACKGROUND_NICENESS, so those use the CPU the long ones leave while they wait rather than
 * lengthening them.
 */
export function runLifecycles(specs: readonly LifecycleSpec[], workspace: TerraformWorkspace, reporter?: Reporter): Promise<LifecycleResult[]> {
  const niceness = lifecycleNiceness(specs);
  return Promise.all(specs.map((spec, i) => runLifecycle(spec, workspace, { niceness: niceness[i], reporter })));
}

/** Each lifecycle's `nice` when they run together (see runLifecycles): 0 for the long ones, BACKGROUND_NICENESS for the plain ones. */
export function lifecycleNiceness(specs: readonly LifecycleSpec[]): number[] {
  const weight = (spec: LifecycleSpec) => spec.steps.filter((step) => !step.action.endsWith("plan")).length;
  const plain = Math.min(...specs.map(weight));
  // All equally long: none is in another's way.
  const allPlain = specs.every((spec) => weight(spec) === plain);
  return specs.map((spec) => (allPlain || weight(spec) > plain ? 0 : BACKGROUND_NICENESS));
}

/**
 * Runs every step of one stack against a new emulator, which is stopped whatever happens.
 * @param options.niceness its terraform commands' `nice` @default 0
 * @param options.reporter a line per step as it happens @default none: silent, as the tests run it
 */
export async function runLifecycle(
  spec: LifecycleSpec,
  workspace: TerraformWorkspace,
  options: { readonly niceness?: number; readonly reporter?: Reporter } = {},
): Promise<LifecycleResult> {
  const niceness = options.niceness ?? 0;
  const reporter = options.reporter ?? Reporter.silent();
  const started = Date.now();
  const steps: StepResult[] = [];
  const outdir = join(workspace.workDir, spec.name, "cdktf.out");
  rmSync(join(workspace.workDir, spec.name), { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  let emulator: Emulator | undefined;
  let ok = true;
  try {
    const starting = reporter.step(`${spec.name}: start the emulator`);
    emulator = await startEmulator().catch((error: Error) => {
      starting.fail(error.message);
      throw error;
    });
    starting.done();
    const url = emulator.url;
    await spec.prepare?.(url);
    let dir: string | undefined;
    let outputs: Record<string, unknown> = {};
    // A destroy skips the refresh: nothing but this lifecycle changes its emulator, and the state holds
    // what its last apply read back. Applies refresh as a user's deploy does: that refresh is what puts
    // back anything an earlier apply removed behind Terraform's back.
    const noRefresh = "-refresh=false";
    let inventoried = false;
    for (const step of spec.steps) {
      const t0 = Date.now();
      const progress = reporter.step(`${spec.name}: ${step.name}`);
      const result: { -readonly [K in keyof StepResult]: StepResult[K] } = { name: step.name, action: step.action, seconds: 0 };
      try {
        if (step.terraformJson) {
          dir = resolve(outdir, "stacks", spec.name);
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(step.terraformJson({ url }), null, 2));
        } else if (step.stack) {
          const app = new App({ outdir, stackTraces: false });
          const stack = await step.stack(app, { url });
          app.synth();
          dir = resolve(outdir, "stacks", stack.node.id);
        }
        if (!dir) throw new Error(`step "${step.name}" has no stack: give the first step one`);
        await workspace.init(dir);
        const stackDir = dir;
        const tf = (args: string[]) => workspace.run(stackDir, args, niceness);
        if (step.action === "apply") {
          await tf(["apply", "-auto-approve", "-input=false"]);
          outputs = readOutputs(JSON.parse(await tf(["output", "-json"])));
          result.outputs = outputs;
          // This code's stack, not an earlier main's (the upgrade proof's baseline, maybe elsewhere: another region).
          if (!inventoried && step.stack) {
            inventoried = true;
            const types = Object.keys((JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as { resource?: object }).resource ?? {});
            result.unseen = await unseenKinds(url, spec.region, types);
            if (result.unseen.length) ok = false;
          }
        } else if (step.action === "replan") {
          await tf(["plan", "-input=false", "-out=replan.tfplan"]);
          const plan = JSON.parse(await tf(["show", "-json", "replan.tfplan"])) as PlanJson;
          result.unexpected = unexpectedChanges(plan);
          if (result.unexpected.length) ok = false;
        } else if (step.action === "upgrade-plan") {
          await tf(["plan", "-input=false", "-out=upgrade.tfplan"]);
          const plan = JSON.parse(await tf(["show", "-json", "upgrade.tfplan"])) as PlanJson;
          result.unexpected = upgradeProblems(plan);
          result.changes = plannedChanges(plan);
          if (result.unexpected.length) ok = false;
        } else if (step.action === "release" || step.action === "refused-release") {
          await tf(["plan", "-input=false", "-out=release.tfplan"]);
          const plan = JSON.parse(await tf(["show", "-json", "release.tfplan"])) as PlanJson & PlanChanges;
          const types = releaseTypesOf(JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"))) ?? step.releaseTypes;
          if (!types) throw new Error(`step "${step.name}": the stack names no release types (no ci) and the step gives none`);
          // An attribute moto does not store shows as a change on every plan (a known gap): the emulator's, not the release's.
          const real = (plan.resource_changes ?? []).filter((rc) => unexpectedChanges({ resource_changes: [rc] }).length > 0);
          const refused = foundationChanges({ resource_changes: real }, types);
          result.changes = plannedChanges(plan);
          if (step.action === "release") {
            result.unexpected = refused;
            if (refused.length) ok = false;
            else {
              await tf(["apply", "-input=false", "release.tfplan"]);
              outputs = readOutputs(JSON.parse(await tf(["output", "-json"])));
              result.outputs = outputs;
            }
          } else if (!refused.length) {
            ok = false;
            result.error = "the release path would have applied it, but it changes what only the administrator deploys";
          } else result.error = `refused: ${refused.join("; ")}`;
        } else if (step.action === "refused-destroy") {
          const before = await leftovers(url, spec.region);
          // The refusal is decided by the plan.
          const refused = await tf(["destroy", "-auto-approve", "-input=false", noRefresh]).then(
            () => undefined,
            (error: Error) => error.message,
          );
          if (refused === undefined) {
            ok = false;
            result.error = "destroy succeeded, but it should have been refused";
          } else result.error = refused;
          // A refusal that removed anything first is no protection.
          const after = new Set(await leftovers(url, spec.region));
          result.leftovers = before.filter((r) => !after.has(r)).map((r) => `destroyed: ${r}`);
          if (result.leftovers.length) ok = false;
        } else {
          await tf(["destroy", "-auto-approve", "-input=false", noRefresh]);
          const survivors = new Set(step.survivors ?? []);
          result.leftovers = (await leftovers(url, spec.region)).filter((r) => !survivors.has(r));
          if (result.leftovers.length) ok = false;
        }
        if (step.inspect) result.observed = await step.inspect({ url, region: spec.region, outputs });
      } catch (error) {
        ok = false;
        result.error = (error as Error).message;
      }
      result.seconds = (Date.now() - t0) / 1000;
      const problem = result.unexpected?.length
        ? `unexpected changes: ${result.unexpected.join("; ")}`
        : result.leftovers?.length
          ? `left behind: ${result.leftovers.join(", ")}`
          : result.unseen?.length
            ? `the leftover inventory finds nothing of ${result.unseen.join(", ")}`
            : refusedAsExpected(result)
              ? undefined
              : result.error;
      if (problem) progress.fail(headline(problem));
      else progress.done();
      steps.push(result);
      if (result.error && !refusedAsExpected(result)) break;
    }
  } catch (error) {
    ok = false;
    steps.push({ name: "start the emulator", action: "apply", seconds: 0, error: (error as Error).message });
  } finally {
    await emulator?.stop();
  }
  return { name: spec.name, seconds: (Date.now() - started) / 1000, steps, ok };
}

/** A step whose error is the refusal it expects: a refused destroy, whatever it said, or a release refused for its changes. */
export function refusedAsExpected(step: Pick<StepResult, "action" | "error">): boolean {
  return step.action === "refused-destroy" || (step.action === "refused-release" && !!step.error?.startsWith("refused: "));
}

/** Terraform's own `Error: …` line of a failure, else its first line: what the progress line can hold. */
function headline(text: string): string {
  const error = text.split("\n").find((line) => /^[\s│]*Error: /.test(line));
  return error ? error.replace(/^[\s│]*/, "") : text.split("\n")[0];
}

function readOutputs(json: Record<string, { value: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(json).map(([key, { value }]) => [key, value]));
}

/** One line per step, for logs and `npm run lifecycle`. */
export function describeResult(result: LifecycleResult): string {
  const lines = [`${result.name}: ${result.ok ? "ok" : "FAILED"} in ${result.seconds.toFixed(0)} s`];
  for (const step of result.steps) {
    const problems = [
      ...(step.unexpected?.length ? [`unexpected changes: ${step.unexpected.join("; ")}`] : []),
      ...(step.leftovers?.length ? [`left behind: ${step.leftovers.join(", ")}`] : []),
      ...(step.unseen?.length ? [`the leftover inventory finds nothing of ${step.unseen.join(", ")}`] : []),
      ...(step.error && !refusedAsExpected(step) ? [step.error] : []),
    ];
    lines.push(`  ${step.seconds.toFixed(0).padStart(4)} s  ${step.name}${problems.length ? `: ${problems.join("\n")}` : ""}`);
    // What an upgrade changes, for its notes.
    for (const change of step.changes ?? []) lines.push(`           ${change}`);
  }
  return lines.join("\n");
}
