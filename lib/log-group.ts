import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { checkRetention } from "./validate";

export interface LogGroupProps {
  readonly name: string;
  readonly retentionDays: number;
  /** Setting name used in the error when the retention is not one CloudWatch accepts. */
  readonly retentionSetting: string;
}

/** A log group the stack owns, so retention is set and `destroy` removes it. */
export function logGroup(scope: Construct, id: string, props: LogGroupProps): CloudwatchLogGroup {
  return new CloudwatchLogGroup(scope, id, {
    name: props.name,
    retentionInDays: checkRetention(props.retentionSetting, props.retentionDays),
  });
}
