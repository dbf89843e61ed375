import type { ServiceGrant } from "./deploy-permissions";
import { holdings, ResourceKind } from "./resource-kind";

/** EventBridge rules and their targets: ECS's service events to the alarm topic, a job's failed runs to its alarm. */
export const EVENT_RULES = new ResourceKind({
  name: "EventBridge rules",
  file: __filename,
  types: ["aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"],
  deploy: { services: ["events"], tag: ["events:TagResource"], untag: ["events:UntagResource"] },
  endpoints: ["events"],
  price: { why: "AWS service events on the default bus are free to match and deliver" },
  inventory: async (aws) =>
    holdings(
      "events",
      "rule",
      ((await aws("eventbridge", "ListRules")).Rules ?? []).map((r: { Name?: string }) => r.Name),
    ),
  alarms: { why: "a rule is how an alarm or the topic hears of an event; its delivery failures are AWS's to retry" },
});

/** What deploying an EventBridge rule with its targets takes (a construct adds the rule's ARN). */
export const EVENT_RULE_GRANT: Omit<ServiceGrant, "resources"> = {
  kind: EVENT_RULES,
  create: ["events:PutRule", "events:TagResource"],
  manage: [
    "events:DeleteRule",
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:TagResource",
    "events:UntagResource",
  ],
};
