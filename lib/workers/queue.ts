import { Construct } from "constructs";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import * as z from "zod/mini";
import type { Service } from "../compute/service";
import { DeployPermissions } from "../core/deploy-permissions";
import { ALARMS } from "../core/watchable";
import { holdings, ResourceKind } from "../core/resource-kind";
import { queueCost } from "../calculators/cost";

/** SQS: a worker's queue and its dead-letter queue. */
export const QUEUES = new ResourceKind({
  name: "SQS queues",
  file: __filename,
  types: ["aws_sqs_queue"],
  deploy: { services: ["sqs"], tag: ["sqs:TagQueue"], untag: ["sqs:UntagQueue"] },
  endpoints: ["sqs"],
  price: queueCost,
  inventory: async (aws) =>
    holdings(
      "sqs",
      "queue",
      ((await aws("sqs", "ListQueues")).QueueUrls ?? []).map((url: string) => url.split("/").pop()),
    ),
  alarms: { namespace: "AWS/SQS" },
});
import { EncryptionKey } from "../core/encryption-key";
import { alarmMetric, metricOf, metricQuery, scalingMetricStat, type Metric, type MetricOptions } from "../core/metric";
import { jsonString } from "../core/hcl";
import type { Statement } from "../core/iam";
import { PermissionsBoundary } from "../core/permissions-boundary";
import { fail, int, names, withDefault } from "../settings/rules";
import type { Connection } from "../core/connection";
import type { AlarmSpec, IWatchable } from "../core/watchable";
import { pascal } from "../core/environment";

/** Seconds a worker needs beyond a message's processing budget to delete it: within the visibility timeout too. */
export const DELETE_MARGIN_SECONDS = 5;
/** The default API's name in `queue.publishers` (it has no key in `services`). */
export const DEFAULT_API_PUBLISHER = "api";

/**
 * A queue a worker owns and consumes (`services.<key>.queue`): SQS with a dead-letter queue, encrypted
 * with the environment's key. Retention, visibility and redrive are settings; the rules across sections
 * (the task's stop timeout, the publishers) are in lib/settings/environment/schema.ts.
 */
export const QueueSettingsSchema = z
  .strictObject({
    /** Services that may send to it (send only): keys of `services` or `jobs`, or "api" for the default API; each gets `<KEY>_QUEUE_URL`. @default [] */
    publishers: withDefault(names, []),
    /** The most one message may take (the worker's MESSAGE_TIMEOUT_MS); past it the message is given up and retried. @default 30 */
    processingSeconds: withDefault(int(1, 43000), 30),
    /** Seconds a received message stays hidden from other tasks: at least processingSeconds + 5 and the task's stopTimeoutSeconds. @default 60 */
    visibilityTimeoutSeconds: withDefault(int(1, 43200), 60),
    /** Receives before a message is moved to the dead-letter queue `<name>-dlq` (a poison message). @default 5 */
    maxReceiveCount: withDefault(int(1, 1000), 5),
    /** Days a message waits in the queue before SQS drops it, 1–14. @default 4 */
    retentionDays: withDefault(int(1, 14), 4),
    /** Days a message is kept in the dead-letter queue, 1–14, at least retentionDays (SQS counts from the first send). @default 14 */
    deadLetterRetentionDays: withDefault(int(1, 14), 14),
    /** The autoscaling target: messages waiting or in flight per running task (backlog per task). @default 10 */
    messagesPerTask: withDefault(int(1, 100000), 10),
    /** The oldest message's age, in seconds, above which the queue alarms (the workers fall behind). @default 600 */
    oldestMessageAlarmSeconds: withDefault(int(60, 1209600), 600),
  })
  .check(
    z.superRefine((s, ctx) => {
      const least = s.processingSeconds + DELETE_MARGIN_SECONDS;
      if (s.visibilityTimeoutSeconds < least)
        fail(
          ctx,
          ["visibilityTimeoutSeconds"],
          s.visibilityTimeoutSeconds,
          `a message being handled would reach another task before its processing budget (processingSeconds ${s.processingSeconds}) and ${DELETE_MARGIN_SECONDS} s to delete it ran out`,
          `${least} or more, or a smaller processingSeconds`,
        );
      if (s.deadLetterRetentionDays < s.retentionDays)
        fail(
          ctx,
          ["deadLetterRetentionDays"],
          s.deadLetterRetentionDays,
          `SQS ages a dead letter from its first send, so it would expire sooner than the queue keeps a message (retentionDays ${s.retentionDays})`,
          `${s.retentionDays} to 14`,
        );
    }),
  );
export type QueueSettings = z.input<typeof QueueSettingsSchema>;
export type QueueConfig = z.output<typeof QueueSettingsSchema>;

/** Both queues are encrypted with the environment's key (`EncryptionKey.of`). */
export interface QueueProps extends QueueConfig {
  /** `<project>-<environment>-<key>`: the queue's name; its dead-letter queue's is `<name>-dlq`. */
  readonly name: string;
  /** The service key, for variable names and statement ids. */
  readonly key: string;
}

const DAY = 86400;
const CONSUME = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"];

/**
 * A worker's queue and its dead-letter queue, both encrypted with the environment's key. SQS moves a
 * message to the dead-letter queue after `maxReceiveCount` receives, and the dead-letter queue takes
 * messages from this queue only. `consumer` and `publisher` hand tasks what they may do with it: the
 * consumer receives, deletes and changes visibility; a publisher only sends.
 */
export class Queue extends Construct implements IWatchable {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly props: QueueProps;
  private readonly encryptionKey: EncryptionKey;

  constructor(scope: Construct, id: string, props: QueueProps) {
    super(scope, id);
    this.props = props;
    const key = EncryptionKey.of(this);
    this.encryptionKey = key;
    grantQueueBoundary(this, key);
    grantQueueDeploy(this);
    const encryption = { kmsMasterKeyId: key.keyArn, kmsDataKeyReusePeriodSeconds: 300 };
    // Named ARN rather than a reference: the queue names the dead-letter queue, so the dead-letter queue
    // cannot reference it back.
    const queueArn = `arn:${key.partition}:sqs:${key.region}:${key.accountId}:${props.name}`;
    this.deadLetterQueue = new SqsQueue(this, "DeadLetterQueue", {
      name: `${props.name}-dlq`,
      messageRetentionSeconds: props.deadLetterRetentionDays * DAY,
      redriveAllowPolicy: jsonString({ redrivePermission: "byQueue", sourceQueueArns: [queueArn] }),
      ...encryption,
    });
    this.queue = new SqsQueue(this, "Queue", {
      name: props.name,
      messageRetentionSeconds: props.retentionDays * DAY,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      // Long polling even for a client that does not ask for it.
      receiveWaitTimeSeconds: 20,
      redrivePolicy: jsonString({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: props.maxReceiveCount }),
      ...encryption,
    });
  }

  get queueName(): string {
    return this.queue.name;
  }

  get deadLetterQueueName(): string {
    return this.deadLetterQueue.name;
  }

  /** The age of the oldest message waiting, in seconds; Maximum over 5 minutes. */
  metricApproximateAgeOfOldestMessage(options?: MetricOptions): Metric {
    return metricOf("AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName: this.queueName }, "Maximum", options);
  }

  /** Messages waiting to be received; Maximum over 5 minutes. */
  metricApproximateNumberOfMessagesVisible(options?: MetricOptions): Metric {
    return metricOf("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: this.queueName }, "Maximum", options);
  }

  /** Messages received and not yet deleted (in flight); Maximum over 5 minutes. */
  metricApproximateNumberOfMessagesNotVisible(options?: MetricOptions): Metric {
    return metricOf("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", { QueueName: this.queueName }, "Maximum", options);
  }

  /** Messages in the dead-letter queue, each one that failed `maxReceiveCount` times; Maximum over 5 minutes. */
  metricDeadLetterMessagesVisible(options?: MetricOptions): Metric {
    return metricOf("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: this.deadLetterQueueName }, "Maximum", options);
  }

  /** What the worker gets: QUEUE_URL and MESSAGE_TIMEOUT_MS, and receive, delete and change visibility on this queue only. */
  get consumer(): Connection {
    const { encryptionKey } = this;
    const { key, processingSeconds } = this.props;
    return {
      environment: { QUEUE_URL: this.queue.url, MESSAGE_TIMEOUT_MS: String(processingSeconds * 1000) },
      secrets: [],
      decryptKeyArns: [],
      taskStatements: [
        { Sid: `Consume${pascal(key)}Queue`, Action: CONSUME, Resource: this.queue.arn },
        keyStatement(`Consume${pascal(key)}QueueKey`, ["kms:Decrypt"], encryptionKey),
      ],
    };
  }

  /** What a publisher gets: `<KEY>_QUEUE_URL`, and send on this queue only. */
  get publisher(): Connection {
    const { encryptionKey } = this;
    const { key } = this.props;
    return {
      environment: { [publisherVariable(key)]: this.queue.url },
      secrets: [],
      decryptKeyArns: [],
      taskStatements: [
        { Sid: `Publish${pascal(key)}Queue`, Action: "sqs:SendMessage", Resource: this.queue.arn },
        // An encrypted queue: the sender makes the data key, and reads it back for a reused one.
        keyStatement(`Publish${pascal(key)}QueueKey`, ["kms:Decrypt", "kms:GenerateDataKey"], encryptionKey),
      ],
    };
  }

  /**
   * Its alarms: the oldest message older than `oldestMessageAlarmSeconds` (the workers fall behind, or none
   * runs), and any message at all in its dead-letter queue (one that failed `maxReceiveCount` times).
   */
  alarmSpecs(): AlarmSpec[] {
    const { key, oldestMessageAlarmSeconds, maxReceiveCount } = this.props;
    const label = pascal(key);
    return [
      {
        id: `${label}QueueOldestMessage`,
        what: `${key}-oldest-message`,
        body: {
          ...alarmMetric(this.metricApproximateAgeOfOldestMessage()),
          evaluationPeriods: 1,
          alarmDescription: `A message has waited more than ${oldestMessageAlarmSeconds} s in the ${key} queue: the workers fall behind, or none runs`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: oldestMessageAlarmSeconds,
          treatMissingData: "notBreaching",
        },
      },
      {
        id: `${label}QueueDeadLetters`,
        what: `${key}-dead-letters`,
        body: {
          ...alarmMetric(this.metricDeadLetterMessagesVisible()),
          evaluationPeriods: 1,
          alarmDescription: `Messages in the ${key} dead-letter queue: each failed ${maxReceiveCount} times; look at them, fix, redrive`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          treatMissingData: "notBreaching",
        },
      },
    ];
  }
}

/** The variable a publisher of `key`'s queue is given: `WORKER_QUEUE_URL` for `worker`. */
export function publisherVariable(key: string): string {
  return `${key.toUpperCase()}_QUEUE_URL`;
}

/** The variables the stack sets on a queue's consumer. */
export const CONSUMER_VARIABLES = ["QUEUE_URL", "MESSAGE_TIMEOUT_MS"] as const;

function keyStatement(sid: string, actions: string[], key: EncryptionKey): Statement {
  return { Sid: sid, Action: actions, Resource: key.keyArn, Condition: { StringEquals: { "kms:ViaService": `sqs.${key.region}.amazonaws.com` } } };
}

/** The boundary for queue work: this environment's queues, and its key through SQS only. */
function grantQueueBoundary(scope: Construct, key: EncryptionKey): void {
  const boundary = PermissionsBoundary.of(scope);
  boundary?.allow([
    { Sid: "Queues", Action: [...CONSUME, "sqs:SendMessage"].sort(), Resource: boundary.arnOf("sqs", `${boundary.prefix}-*`) },
    {
      Sid: "QueueKeys",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: boundary.arnOf("kms", "key/*"),
      Condition: {
        StringEquals: {
          "aws:ResourceTag/Project": boundary.project,
          "aws:ResourceTag/Environment": boundary.environment,
          "kms:ViaService": `sqs.${key.region}.amazonaws.com`,
        },
      },
    },
  ]);
}

/** What the deploy role needs for the queues: create them tagged, manage this environment's; deleting one (its messages) is left out of production. */
function grantQueueDeploy(scope: Construct): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  deploy.service("Sqs", {
    kind: QUEUES,
    create: ["sqs:CreateQueue", "sqs:TagQueue"],
    manage: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"],
    destroy: ["sqs:DeleteQueue"],
    resources: [deploy.arn("sqs", `${deploy.prefix}-*`)],
  });
}

export interface QueueScalingProps {
  readonly queue: Queue;
  /** The worker that consumes it, already scaled (`service.autoScaleTaskCount`): these policies share its target and settings. */
  readonly service: Service;
}

/**
 * Scaling on backlog per task, AWS's recommended shape for a queue worker: target tracking on metric
 * math, messages waiting or in flight over running tasks, kept at `messagesPerTask`. Target tracking
 * cannot start the first task (no task, no ratio), so with `minCapacity` 0 a step policy adds one when
 * messages wait and none runs; target tracking takes the count back to zero when the queue is empty.
 */
export class QueueScaling extends Construct {
  readonly backlog: AppautoscalingPolicy;
  readonly fromZero?: AppautoscalingPolicy;

  constructor(scope: Construct, id: string, props: QueueScalingProps) {
    super(scope, id);
    const { queue, service } = props;
    const autoscaling = service.autoscaling;
    if (!autoscaling) throw new Error(`QueueScaling ${this.node.path}: ${service.node.path} has no scaling target; call autoScaleTaskCount first`);
    const { clusterName } = service.cluster;
    const { serviceName } = service;
    const settings = autoscaling.settings;
    const target = autoscaling.target;
    const visible = (options: MetricOptions) => queue.metricApproximateNumberOfMessagesVisible({ statistic: "Sum", ...options });
    // Running tasks: Container Insights counts them; without it (dev), each task reports its CPU once a
    // minute, so the service's CPU metric's sample count is the number running.
    const tasks = (options: MetricOptions) =>
      service.cluster.containerInsights ? service.metricRunningTaskCount(options) : service.metricCpuUtilization({ statistic: "SampleCount", ...options });
    this.backlog = new AppautoscalingPolicy(this, "Backlog", {
      name: `${serviceName}-backlog`,
      policyType: "TargetTrackingScaling",
      serviceNamespace: target.serviceNamespace,
      resourceId: target.resourceId,
      scalableDimension: target.scalableDimension,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: queue.props.messagesPerTask,
        scaleInCooldown: settings.scaleInCooldownSeconds,
        scaleOutCooldown: settings.scaleOutCooldownSeconds,
        customizedMetricSpecification: {
          metrics: [
            { id: "visible", metricStat: scalingMetricStat(visible({})), returnData: false },
            { id: "inflight", metricStat: scalingMetricStat(queue.metricApproximateNumberOfMessagesNotVisible({ statistic: "Sum" })), returnData: false },
            { id: "tasks", metricStat: scalingMetricStat(tasks({})), returnData: false },
            { id: "backlog", expression: "(visible + inflight) / MAX([FILL(tasks, 0), 1])", label: "Messages per running task", returnData: true },
          ],
        },
      },
    });
    if (settings.minCapacity > 0) return;
    this.fromZero = new AppautoscalingPolicy(this, "FromZero", {
      name: `${serviceName}-from-zero`,
      policyType: "StepScaling",
      serviceNamespace: target.serviceNamespace,
      resourceId: target.resourceId,
      scalableDimension: target.scalableDimension,
      stepScalingPolicyConfiguration: {
        adjustmentType: "ChangeInCapacity",
        cooldown: settings.scaleOutCooldownSeconds,
        metricAggregationType: "Maximum",
        stepAdjustment: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
      },
    });
    // Its action is the scaling policy, not the alarm topic: a scaling signal, not news. Named as
    // Application Auto Scaling names its own target tracking alarms.
    new CloudwatchMetricAlarm(this, "FromZeroAlarm", {
      alarmName: `StepScaling-service/${clusterName}/${serviceName}-from-zero`,
      alarmDescription: "Messages wait and no task runs: start one (target tracking scales from there)",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      alarmActions: [this.fromZero.arn],
      metricQuery: [
        { id: "waiting", expression: "IF(FILL(tasks, 0) == 0 AND FILL(visible, 0) > 0, 1, 0)", label: "Messages wait, no task runs", returnData: true },
        metricQuery("visible", visible({ period: 60 })),
        metricQuery("tasks", tasks({ period: 60 })),
      ],
    });
    const deploy = DeployPermissions.of(this)?.release(["aws_appautoscaling_policy", "aws_cloudwatch_metric_alarm"]);
    deploy?.allow([
      {
        Sid: "StepScalingAlarms",
        Action: [
          "cloudwatch:DeleteAlarms",
          "cloudwatch:DescribeAlarms",
          "cloudwatch:ListTagsForResource",
          "cloudwatch:PutMetricAlarm",
          "cloudwatch:TagResource",
          "cloudwatch:UntagResource",
        ],
        Resource: deploy.arn("cloudwatch", `alarm:StepScaling-service/${deploy.prefix}/*`),
      },
    ]);
    deploy?.kind(ALARMS);
  }
}
