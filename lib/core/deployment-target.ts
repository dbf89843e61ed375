import type { AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";

/**
 * Where a stack is deployed: an AWS account (the default), nowhere (an offline plan), or a stand-in the
 * caller gives it, such as the local emulator (emulator/mode.ts, `emulatorTarget`). What differs between
 * them is only this: the provider's settings, the account ARNs name, where state is kept, and whether the
 * stack's plans reach a real account. Every resource is synthesized the same on each.
 */
export interface DeploymentTarget {
  /** For messages and the tests' cache: `AWS`, `offline`, `the emulator at http://127.0.0.1:4566`. */
  readonly name: string;
  /** The variable that chose it, for errors: `{ name: "AWS_EMULATOR_URL", value }`. @default none */
  readonly setting?: { readonly name: string; readonly value: string };
  /** Whether plans reach a real account: example domains and accounts are refused at plan time there (lib/core/example-refusal.ts). */
  readonly real: boolean;
  /** The account ARNs name when no caller identity can be read. @default none: the caller identity's, read at plan time */
  readonly accountId?: string;
  /** Provider settings beyond the region and the default tags. */
  readonly provider: Partial<AwsProviderConfig>;
  /**
   * A local state file of its own, relative to the stack's folder (`<outdir>/stacks/<environment>`), given the
   * app's output folder. Data, not a backend: the stack makes it with the engine it runs on.
   * @default none: the environment's `state` setting
   */
  statePath?(outdir: string, environment: string): string;
}

/** The account an offline plan shows in ARNs (AWS's documentation account). */
export const OFFLINE_ACCOUNT_ID = "123456789012";

/** An AWS account, as the credentials in the environment reach it. */
export const AWS_TARGET: DeploymentTarget = { name: "AWS", real: true, provider: {} };

/** No AWS API call at all, for `terraform plan` without an account (`OFFLINE=1`, `npm run plan:offline`). */
export const OFFLINE_TARGET: DeploymentTarget = {
  name: "offline",
  real: false,
  // No credentials can ask STS who the account is: a documentation account stands in.
  accountId: OFFLINE_ACCOUNT_ID,
  provider: {
    accessKey: "offline",
    secretKey: "offline",
    skipCredentialsValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: "true",
  },
  // A fresh state that never exists, so an offline plan cannot read (and refresh) real state.
  statePath: () => "offline.tfstate",
};
