/**
 * The app main.ts runs: one ApiStack per environment, and what synth tells the person who ran it.
 *
 * - A bad setting names its environment (`environment dev: Invalid setting task.cpu = 300: …`). Run by
 *   `npm run synth`, it stops synth and scripts/synth.cjs prints it as one line. Run by the cdktf CLI
 *   (which sets CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS and prints a failed app's output twice: as it
 *   comes and again in its summary), it becomes an error annotation on a stand-in stack of that name,
 *   which the CLI prints once, as `ERROR [dev]: …`, and then stops before any terraform command.
 * - Warnings (prod's example domain, a budget the estimate passes, settings that do not apply, environments
 *   whose VPC ranges overlap) are in
 *   the manifest, where the CLI prints them; without the CLI they are printed here, one line each.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Annotations, TerraformStack, type App } from "cdktf";
import { SettingError } from "../lib/settings/validate";
import { ApiStack } from "./api-stack";
import type { Release } from "../lib/registry/release";
import type { EnvironmentSettings, RunOptions } from "../lib/settings/environment/settings";
import { sharedCidrWarnings } from "../lib/settings/environment/shared-cidrs";

/** The cdktf CLI (and cdktn's) set this for the app it runs, and print the manifest's annotations themselves. */
export function runByCli(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS !== undefined;
}

/**
 * One stack per environment. A SettingError names the environment; with `cli`, each environment's is an
 * error annotation instead (the others still build, so every bad environment is reported in one run).
 */
export function addEnvironmentStacks(
  app: App,
  environments: readonly EnvironmentSettings[],
  options: RunOptions,
  releases: Readonly<Record<string, Release | undefined>>,
  cli: boolean,
): TerraformStack[] {
  const stacks = environments.map((settings) => {
    try {
      return new ApiStack(app, settings.name, settings, { ...options, release: releases[settings.name] });
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      const named = error.inEnvironment(settings.name);
      if (!cli) throw named;
      // The half-built stack goes; a stand-in of the same name carries the error for the CLI to print.
      app.node.tryRemoveChild(settings.name);
      const standIn = new TerraformStack(app, settings.name);
      Annotations.of(standIn).addError(named.message);
      return standIn;
    }
  });
  // Across environments, so here rather than in a stack: each warning on the stack whose settings should change.
  for (const { environment, message } of sharedCidrWarnings(environments))
    Annotations.of(stacks.find((stack) => stack.node.id === environment)!).addWarning(message);
  return stacks;
}

interface ManifestAnnotation {
  readonly constructPath: string;
  readonly level: string;
  readonly message: string;
}

/** The warnings synth recorded in the app's manifest, one line each: `warning: <stack>: <message>`. */
export function manifestWarnings(outdir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, { annotations?: ManifestAnnotation[] }> };
  return Object.entries(manifest.stacks).flatMap(([stack, { annotations = [] }]) =>
    annotations
      .filter((a) => a.level === "@cdktf/warn")
      .map((a) => `warning: ${a.message.startsWith(`${stack}: `) ? a.message : `${a.constructPath}: ${a.message}`}`),
  );
}
