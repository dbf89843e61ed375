/**
 * Everything that exists in an emulator, read through the AWS SDK as a real client would, as
 * `<service> <kind> <id>` lines: each resource kind's own inventory (`ResourceKind.inventory`, written beside
 * its construct), so a new kind is looked for without a change here. What a fresh emulator already holds (the
 * default VPC and its parts, default groups, AWS-managed policies and keys) is left out by each kind, so
 * after a destroy the list must be empty.
 */
// The stack's modules describe every kind a stack can make.
import "../stacks/api-stack";
import { type AwsAnswer, type AwsCall, type Holding, isReason, ResourceKind } from "../lib/core/resource-kind";

/** The account moto serves (its default), which the stacks' caller identity returns there; budgets are listed by account. */
export const EMULATOR_ACCOUNT_ID = "123456789012";

/** SDK client settings for an emulator: its endpoint, dummy keys, path-style S3. */
export function clientConfig(url: string, region: string) {
  return {
    region,
    endpoint: url,
    credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" },
    forcePathStyle: true,
    maxAttempts: 2,
  };
}

/**
 * An AWS API call through the AWS SDK's client package for the service (`@aws-sdk/client-<client>`, a
 * devDependency), one client per package; a failed call names itself (an emulator without the action answers
 * with an HTML page).
 */
function sdkCall(url: string, region: string): AwsCall {
  const config = clientConfig(url, region);
  const clients = new Map<string, { send(command: object): Promise<AwsAnswer> }>();
  return async (client, command, input = {}) => {
    const sdk = (await import(`@aws-sdk/client-${client}`)) as Record<string, new (arg: object) => { send(command: object): Promise<AwsAnswer> }>;
    const Client = Object.entries(sdk).find(([name]) => name.endsWith("Client") && !name.startsWith("__"))?.[1];
    const Command = sdk[`${command}Command`];
    if (!Client || !Command) throw new Error(`@aws-sdk/client-${client} has no client or no ${command}Command, which a resource kind's inventory calls`);
    const sender = clients.get(client) ?? new Client(config);
    clients.set(client, sender);
    try {
      return await sender.send(new Command(input));
    } catch (error) {
      throw new Error(`${command} failed against the emulator: ${(error as Error).message}`);
    }
  };
}

/** What each described kind with an inventory finds in the emulator, by kind. */
async function holdingsByKind(url: string, region: string): Promise<Map<ResourceKind, Holding[]>> {
  const aws = sdkCall(url, region);
  const found = new Map<ResourceKind, Holding[]>();
  for (const kind of ResourceKind.all()) if (!isReason(kind.inventory)) found.set(kind, await kind.inventory(aws, { accountId: EMULATOR_ACCOUNT_ID, region }));
  return found;
}

/** What the emulator holds of every described kind, sorted. */
export async function leftovers(url: string, region: string): Promise<string[]> {
  const found = [...(await holdingsByKind(url, region)).values()].flat().map((held) => `${held.service} ${held.kind} ${held.id}`);
  return [...new Set(found)].sort();
}

/**
 * The kinds a deployed stack made (by its Terraform resource types) whose inventory finds nothing: an
 * inventory that cannot see what it looks for would pass every leftover check. Each as `<file> (<kind>)`.
 */
export async function unseenKinds(url: string, region: string, types: readonly string[]): Promise<string[]> {
  return [...(await holdingsByKind(url, region))]
    .filter(([kind, held]) => kind.types.some((type) => types.includes(type)) && !held.length)
    .map(([kind]) => `${kind.file} (${kind.name})`);
}
