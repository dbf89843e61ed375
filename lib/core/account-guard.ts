import { Annotations, type TerraformResource } from "cdktf";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import * as z from "zod/mini";
import { rule } from "../settings/rules";
import { refuseExampleAtPlan } from "./example-refusal";

/**
 * AWS's documentation accounts ("Identifiers in AWS documentation"): an environment that names one
 * carries an example, as the shipped prod carries example.com, and no plan against AWS may use it.
 */
export const EXAMPLE_ACCOUNT_IDS: readonly string[] = ["123456789012", "111122223333", "444455556666", "777788889999"];

export function isExampleAccount(accountId: string): boolean {
  return EXAMPLE_ACCOUNT_IDS.includes(accountId);
}

/**
 * The account an environment deploys to: the AWS provider's `allowed_account_ids`, so a plan or apply
 * with another account's credentials (a shell still holding prod's, a CI variable pointing elsewhere)
 * stops before any change. Twelve digits.
 */
export const AccountIdSchema = z.string().check(rule<string>((id) => /^\d{12}$/.test(id), "not an AWS account ID", 'twelve digits, e.g. "210987654321"'));

/**
 * Where `accountId` takes effect. Against AWS, a real account becomes the provider's
 * `allowed_account_ids` (Terraform's AWS provider refuses other credentials before reading or changing
 * anything); an example account becomes a precondition on `anchor` that fails any plan, naming the
 * setting, since no credentials are that account's. Offline (no account is asked) and on the emulator
 * (its one fixed account) neither applies. Without the setting, a production environment is warned of.
 */
export function guardAccount(
  scope: Construct,
  settings: { readonly name: string; readonly accountId?: string; readonly production: boolean },
  options: { readonly againstAws: boolean; readonly guardExamples: boolean },
  provider: AwsProvider,
  anchor: TerraformResource,
): void {
  const { accountId, name } = settings;
  if (accountId === undefined) {
    if (settings.production)
      Annotations.of(scope).addWarning(
        `${name}: accountId is not set, so a deploy with another account's credentials would apply there. Allowed: the account ID this environment deploys to (accountId: "<12 digits>"), set in environments/environments.ts.`,
      );
    return;
  }
  if (!isExampleAccount(accountId)) {
    if (options.againstAws) provider.allowedAccountIds = [accountId];
    return;
  }
  const message =
    `${name}: accountId = "${accountId}" is one of AWS's documentation accounts, an example no credentials belong to. ` +
    `Allowed: the account ID this environment deploys to (twelve digits), set in environments/environments.ts.`;
  refuseExampleAtPlan({ scope, localId: "ExampleAccountId", value: accountId, anchor, message, guard: options.guardExamples });
}
