import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { holdings, ResourceKind } from "../core/resource-kind";

/** The SNS topic alarms report to, its policy and its e-mail subscriptions. */
export const ALARM_TOPIC = new ResourceKind({
  name: "SNS alarm topic",
  file: __filename,
  types: ["aws_sns_topic", "aws_sns_topic_policy", "aws_sns_topic_subscription"],
  deploy: { services: ["sns"], tag: ["sns:TagResource"], untag: ["sns:UntagResource"] },
  endpoints: ["sns"],
  price: { why: "an alarm topic's few publishes and e-mails stay within SNS's free tier" },
  inventory: async (aws) =>
    holdings(
      "sns",
      "topic",
      ((await aws("sns", "ListTopics")).Topics ?? []).map((t: { TopicArn?: string }) => t.TopicArn),
    ),
  alarms: { why: "it is where alarms go; a failed delivery is SNS's to retry, and the dashboard shows every alarm's state" },
});
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { EnvironmentContext } from "../core/environment";
import { jsonString } from "../core/hcl";
import { EncryptionKey } from "../core/encryption-key";

/**
 * The topic is `<prefix>-alarms`, encrypted at rest with the environment's key, which CloudWatch and
 * EventBridge are let use to publish (`EnvironmentContext`).
 */
export interface AlarmTopicProps {
  /** Addresses subscribed by e-mail; each must confirm the message AWS sends before it receives alarms. */
  readonly emails: readonly string[];
  /** The environment's AWS Budgets budget, which may publish its alerts here too (lib/observability/budget.ts). @default none */
  readonly budgetName?: string;
}

/**
 * The SNS topic every alarm and service event of the environment goes to, encrypted with the
 * environment's key. Only CloudWatch alarms and EventBridge rules (and the budget) of this environment may publish.
 */
export class AlarmTopic extends Construct {
  readonly topic: SnsTopic;

  get topicArn(): string {
    return this.topic.arn;
  }

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const environment = EnvironmentContext.of(this);
    const key = EncryptionKey.of(this);
    const { prefix, partition, region, accountId } = environment;
    const publishers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", ...(props.budgetName ? ["budgets.amazonaws.com"] : [])];
    const topicName = `${prefix}-alarms`;
    this.topic = new SnsTopic(this, "Topic", { name: topicName, kmsMasterKeyId: key.keyArn });
    // Only the key's environment's alarms and rules, of this account (confused deputy): their names start with its prefix.
    const sources = {
      StringEquals: { "aws:SourceAccount": accountId },
      ArnLike: {
        "aws:SourceArn": [
          `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${prefix}-*`,
          `arn:${partition}:events:${region}:${accountId}:rule/${prefix}-*`,
          // Budgets are global: no region in their ARN.
          ...(props.budgetName ? [`arn:${partition}:budgets::${accountId}:budget/${props.budgetName}`] : []),
        ],
      },
    };
    // An encrypted topic accepts a message only from a publisher that may use its key.
    key.addToResourcePolicy({
      Sid: "AlarmsAndEventsPublishToTheAlarmTopic",
      Principal: { Service: publishers },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Condition: sources,
    });
    grantAlarmTopicDeploy(this, topicName);
    new SnsTopicPolicy(this, "Policy", {
      arn: this.topic.arn,
      policy: jsonString({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AlarmsAndEventsOfThisAccountPublish",
            Effect: "Allow",
            Principal: { Service: publishers },
            Action: "sns:Publish",
            Resource: this.topic.arn,
            Condition: sources,
          },
        ],
      }),
    });
    // Named by address, so removing one address leaves the others' confirmed subscriptions alone.
    for (const email of props.emails) {
      new SnsTopicSubscription(this, `Email_${email.replace(/[^A-Za-z0-9]/g, "_")}`, { topicArn: this.topic.arn, protocol: "email", endpoint: email });
    }
  }
}

/** What the deploy role needs for the topic (by its name and tagged) and its e-mail subscriptions. */
function grantAlarmTopicDeploy(scope: Construct, topicName: string): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  const topic = deploy.arn("sns", topicName);
  deploy.service("AlarmTopic", {
    kind: ALARM_TOPIC,
    create: ["sns:CreateTopic", "sns:TagResource"],
    manage: [
      "sns:DeleteTopic",
      "sns:GetTopicAttributes",
      "sns:ListSubscriptionsByTopic",
      "sns:ListTagsForResource",
      "sns:SetTopicAttributes",
      "sns:Subscribe",
      "sns:TagResource",
      "sns:UntagResource",
    ],
    resources: [topic],
  });
  deploy.allow([
    { Sid: "AlarmTopicSubscriptions", Action: ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"], Resource: `${topic}:*` },
  ]);
}
