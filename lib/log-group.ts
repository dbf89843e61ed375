import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";

export interface LogGroupProps {
  readonly name: string;
  /** One of CloudWatch's retention periods (the settings schema holds every retention setting to them). */
  readonly retentionDays: number;
}

/** A log group the stack owns, so retention is set and `destroy` removes it. */
export function logGroup(scope: Construct, id: string, props: LogGroupProps): CloudwatchLogGroup {
  return new CloudwatchLogGroup(scope, id, { name: props.name, retentionInDays: props.retentionDays });
}
