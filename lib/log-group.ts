import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { EncryptionKey } from "./encryption-key";

export interface LogGroupProps {
  /** Contains the environment's prefix, which the key's policy lets CloudWatch Logs encrypt. */
  readonly name: string;
  /** One of CloudWatch's retention periods (the settings schema holds every retention setting to them). */
  readonly retentionDays: number;
  readonly encryptionKey: EncryptionKey;
}

/** A log group the stack owns, so retention is set, its logs are encrypted with the environment's key, and `destroy` removes it. */
export function logGroup(scope: Construct, id: string, props: LogGroupProps): CloudwatchLogGroup {
  return new CloudwatchLogGroup(scope, id, { name: props.name, retentionInDays: props.retentionDays, kmsKeyId: props.encryptionKey.keyArn });
}
