import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DeployPermissions } from "./deploy-permissions";
import { EncryptionKey } from "./encryption-key";
import { holdings, ResourceKind } from "./resource-kind";

/** CloudWatch Logs: the stack's log groups, and the resource policies that let AWS services write to them. */
export const LOG_GROUPS = new ResourceKind({
  name: "CloudWatch log groups",
  file: __filename,
  types: ["aws_cloudwatch_log_group", "aws_cloudwatch_log_resource_policy"],
  deploy: { services: ["logs"], tag: ["logs:TagLogGroup", "logs:TagResource"], untag: ["logs:UntagLogGroup", "logs:UntagResource"] },
  endpoints: ["logs"],
  price: { why: "billed by what is ingested and stored (usage), nothing while idle" },
  inventory: async (aws) => [
    ...holdings(
      "logs",
      "log-group",
      ((await aws("cloudwatch-logs", "DescribeLogGroups")).logGroups ?? []).map((g: { logGroupName?: string }) => g.logGroupName),
    ),
    ...holdings(
      "logs",
      "resource-policy",
      ((await aws("cloudwatch-logs", "DescribeResourcePolicies")).resourcePolicies ?? []).map((p: { policyName?: string }) => p.policyName),
    ),
  ],
  alarms: { why: "a log group has no failure of its own; the services that write to it are watched" },
});

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
    kind: LOG_GROUPS,
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
