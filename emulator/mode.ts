/**
 * Emulator mode: the same stacks, deployed to a local AWS API emulator (moto) instead of an account.
 * Switched on by one variable, `AWS_EMULATOR_URL=http://127.0.0.1:<port>` (`npm run emulator` sets it).
 *
 * What differs from a real deploy is only here: the provider's endpoints, dummy credentials, path-style
 * S3 and a local state file of its own. Every resource is synthesized exactly as it ships. The stack is
 * given it as its deployment target (`emulatorTarget`, lib/core/deployment-target.ts); it knows nothing of the emulator.
 */
import { basename, dirname, resolve } from "node:path";
import { check } from "../lib/settings/validate";
import type { DeploymentTarget } from "../lib/core/deployment-target";
import { endpointsOf } from "../lib/core/resource-kind";
// The stack's modules describe every kind a stack can make, with the endpoints each reaches.
import "../stacks/api-stack";

/** What the provider calls before any resource: who it is (`aws_caller_identity`, the account guard). */
const PROVIDER_ENDPOINTS = ["sts"];

/**
 * Every AWS API the stacks call, by the provider's endpoint key: the provider's own, and each resource kind's
 * (`ResourceKind.endpoints`, beside its construct). A service missing here would reach AWS.
 */
export const EMULATED_SERVICES: readonly string[] = [...new Set([...PROVIDER_ENDPOINTS, ...endpointsOf()])].sort();

/**
 * Provider settings for emulator mode. Credentials are dummies, so a mistyped endpoint can never act on
 * a real account; moto accepts any key.
 */
export function emulatorProviderConfig(url: string) {
  check(
    /^http:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):\d{1,5}\/?$/.test(url),
    "AWS_EMULATOR_URL",
    url,
    "not a loopback URL; emulator mode only talks to an emulator on this machine",
    'a URL such as "http://127.0.0.1:5000"',
  );
  const endpoint = url.replace(/\/$/, "");
  return {
    accessKey: "emulator",
    secretKey: "emulator",
    // moto serves every service on one port; S3 must not use a bucket subdomain of 127.0.0.1.
    s3UsePathStyle: true,
    skipMetadataApiCheck: "true",
    endpoints: [Object.fromEntries(EMULATED_SERVICES.map((service) => [service, endpoint]))],
  };
}

/**
 * Where emulator stacks are synthesized: never `cdktf.out`, whose `cdk.tf.json` the docs' next commands
 * (`terraform -chdir=cdktf.out/stacks/<env> output`, infracost, a real deploy) read. `npm run synth` with
 * AWS_EMULATOR_URL writes here; a cdktf command needs `--output .emulator/cdktf.out` (main.ts refuses
 * emulator stacks in `cdktf.out`). The lifecycle synthesizes into folders of its own under `.emulator/lifecycle/`.
 */
export const EMULATOR_OUTDIR = ".emulator/cdktf.out";

/**
 * Why an emulator run must not write into `outdir`, or undefined: it is the project's `cdktf.out`.
 * Both absolute, or both relative to the project folder.
 */
export function emulatorOutdirProblem(outdir: string, projectOutdir: string): string | undefined {
  return outdir.replace(/\/+$/, "") === projectOutdir.replace(/\/+$/, "")
    ? `the emulator's stacks would replace ${projectOutdir}'s, which terraform -chdir=cdktf.out/stacks/<env>, infracost and the next deploy read`
    : undefined;
}

/**
 * State file for emulator deploys: beside the real local state but never the same file, so an emulator
 * run can never overwrite (or be mistaken for) the state of a real deployment. Relative to
 * `<outdir>/stacks/<env>`: `.emulator/terraform.<env>.tfstate` for stacks in `.emulator/cdktf.out`, and a
 * `.emulator/` beside any other output folder (the lifecycle's own, under `.emulator/lifecycle/<stack>/`).
 */
export function emulatorStatePath(environment: string, outdirUnderEmulator = false): string {
  return outdirUnderEmulator ? `../../../terraform.${environment}.tfstate` : `../../../.emulator/terraform.${environment}.tfstate`;
}

/**
 * The emulator at `url` as the stack's deployment target: its endpoints and dummy credentials, a state of
 * its own beside the output folder (`emulatorStatePath`), and no real account, so example settings stand.
 */
export function emulatorTarget(url: string): DeploymentTarget {
  const provider = emulatorProviderConfig(url);
  return {
    name: `the emulator at ${url}`,
    setting: { name: "AWS_EMULATOR_URL", value: url },
    real: false,
    provider,
    // Stacks in .emulator/cdktf.out keep their state in .emulator/ itself, the lifecycle's beside its own output folder.
    statePath: (outdir, environment) => emulatorStatePath(environment, basename(dirname(resolve(outdir))) === ".emulator"),
  };
}

/** The emulator target `AWS_EMULATOR_URL` asks for, or undefined (main.ts gives it to every stack). */
export function emulatorTargetFromEnv(env: NodeJS.ProcessEnv): DeploymentTarget | undefined {
  return env.AWS_EMULATOR_URL ? emulatorTarget(env.AWS_EMULATOR_URL) : undefined;
}
