import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DeployPermissions } from "./deploy-permissions";
import { EncryptionKey } from "./encryption-key";

export interface LogGroupProps {
  /** The log group's name; the environment's key lets CloudWatch Logs encrypt exactly this group. */
  readonly name: string;
  /** One of CloudWatch's retention periods (the settings schema holds every retention setting to them). */
  readonly retentionDays: number;
}

/** A log group the stack owns, so retention is set, its logs are encrypted with the environment's key, and `destroy` removes it. */
export function logGroup(scope: Construct, id: string, props: LogGroupProps): CloudwatchLogGroup {
  const encryptionKey = EncryptionKey.of(scope);
  encryptionKey.allowLogGroup(props.name);
  DeployPermissions.of(scope)?.service("Logs", {
    read: ["logs:DescribeLogGroups"],
    tagging: ["logs:TagLogGroup", "logs:TagResource"],
    untagging: ["logs:UntagLogGroup", "logs:UntagResource"],
    create: ["logs:CreateLogGroup", "logs:TagLogGroup", "logs:TagResource"],
    manage: [
      "logs:AssociateKmsKey",
      "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "logs:PutRetentionPolicy",
      "logs:TagLogGroup",
      "logs:TagResource",
      "logs:UntagLogGroup",
      "logs:UntagResource",
    ],
    destroy: ["logs:DeleteLogGroup"],
  });
  return new CloudwatchLogGroup(scope, id, { name: props.name, retentionInDays: props.retentionDays, kmsKeyId: encryptionKey.keyArn });
}
