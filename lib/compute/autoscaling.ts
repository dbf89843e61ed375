import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { holdings, ResourceKind } from "../core/resource-kind";

/** Application Auto Scaling: a service's scalable target and its scaling policies (a worker's too, lib/workers/queue.ts). */
export const SCALING = new ResourceKind({
  name: "Application Auto Scaling",
  file: __filename,
  types: ["aws_appautoscaling_target", "aws_appautoscaling_policy"],
  deploy: { services: ["application-autoscaling"], tag: ["application-autoscaling:TagResource"], untag: ["application-autoscaling:UntagResource"] },
  endpoints: ["appautoscaling"],
  price: { why: "Application Auto Scaling is free; target tracking's alarms are priced with the alarms" },
  // A target outlives its service unless deregistered, so a destroy that skipped it leaves one behind.
  inventory: async (aws) =>
    holdings(
      "application-autoscaling",
      "scalable-target",
      ((await aws("application-auto-scaling", "DescribeScalableTargets", { ServiceNamespace: "ecs" })).ScalableTargets ?? []).map(
        (t: { ResourceId?: string }) => t.ResourceId,
      ),
    ),
  alarms: { why: "scaling acts on alarms of its own (target tracking's), and what it cannot reach shows in the service's CPU and memory alarms" },
});
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import * as z from "zod/mini";
import { fail, flag, int, withDefault } from "../settings/rules";

export const AutoscalingSettingsSchema = z
  .strictObject({
    /** Scale the task count; off keeps `service.desiredCount`. @default true */
    enabled: withDefault(flag, true),
    /** Fewest tasks. @default 1 */
    minCapacity: withDefault(int(0, 1000), 1),
    /** Most tasks. @default 4 */
    maxCapacity: withDefault(int(1, 1000), 4),
    /** Target average CPU. @default 60 */
    cpuTargetPercent: withDefault(int(10, 95), 60),
    /** Target average memory. @default 75 */
    memoryTargetPercent: withDefault(int(10, 95), 75),
    /** Target requests per task per minute (off by default; not for a worker). @default none */
    requestsPerTarget: z.optional(int(1, 1000000)),
    /** Wait after scaling in. @default 300 */
    scaleInCooldownSeconds: withDefault(int(0, 3600), 300),
    /** Wait after scaling out. @default 60 */
    scaleOutCooldownSeconds: withDefault(int(0, 3600), 60),
  })
  .check(
    z.superRefine((s, ctx) => {
      if (s.minCapacity > s.maxCapacity)
        fail(ctx, ["minCapacity"], s.minCapacity, `greater than autoscaling.maxCapacity (${s.maxCapacity})`, `at most ${s.maxCapacity}`);
    }),
  );
/** How the task count follows load, as written in an environment. */
export type AutoscalingSettings = z.input<typeof AutoscalingSettingsSchema>;
/** The same, checked and with every default applied. */
export type AutoscalingConfig = z.output<typeof AutoscalingSettingsSchema>;

export interface AutoscalingProps extends AutoscalingConfig {
  readonly name: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** `<load balancer arn_suffix>/<target group arn_suffix>`, for the request-count policy. @default none: a worker, which `requestsPerTarget` cannot follow */
  readonly requestCountLabel?: string;
}

/** Application Auto Scaling of the service's task count: target tracking on CPU, memory and requests. */
export class Autoscaling extends Construct {
  readonly target: AppautoscalingTarget;
  /** Its settings: the fewest tasks and the cooldowns, which other policies on the same target (a queue's) follow. */
  readonly settings: AutoscalingConfig;

  constructor(scope: Construct, id: string, props: AutoscalingProps) {
    super(scope, id);
    this.settings = props;
    grantScalingDeploy(this);
    const scaleIn = props.scaleInCooldownSeconds;
    const scaleOut = props.scaleOutCooldownSeconds;

    this.target = new AppautoscalingTarget(this, "Target", {
      serviceNamespace: "ecs",
      resourceId: `service/${props.clusterName}/${props.serviceName}`,
      scalableDimension: "ecs:service:DesiredCount",
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
    });

    const track = (id: string, metric: string, target: number, resourceLabel?: string) =>
      new AppautoscalingPolicy(this, id, {
        name: `${props.name}-${id.toLowerCase()}`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.target.serviceNamespace,
        resourceId: this.target.resourceId,
        scalableDimension: this.target.scalableDimension,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: target,
          scaleInCooldown: scaleIn,
          scaleOutCooldown: scaleOut,
          predefinedMetricSpecification: { predefinedMetricType: metric, resourceLabel },
        },
      });
    track("Cpu", "ECSServiceAverageCPUUtilization", props.cpuTargetPercent);
    track("Memory", "ECSServiceAverageMemoryUtilization", props.memoryTargetPercent);
    if (props.requestsPerTarget !== undefined) track("Requests", "ALBRequestCountPerTarget", props.requestsPerTarget, props.requestCountLabel);
  }
}

/**
 * What the deploy role needs to scale the services. Since 2023 Application Auto Scaling tags scalable
 * targets and evaluates `aws:ResourceTag` on every call that names one (RegisterScalableTarget,
 * PutScalingPolicy, DeleteScalingPolicy, DeregisterScalableTarget, TagResource, UntagResource,
 * ListTagsForResource) and `aws:RequestTag` on RegisterScalableTarget and TagResource (AWS's Service
 * Authorization Reference, "Actions, resources, and condition keys for Application Auto Scaling"; "Tagging
 * support for Application Auto Scaling" in its user guide). A target's ARN names no service
 * (`scalable-target/<random id>`), so its tags are what scope it: registered only tagged with this
 * environment (the provider's default tags), changed only while tagged with it; another environment's
 * targets are refused by the CI role's deny on other environments' tags. The describes take no resource.
 * The alarms target tracking makes as the caller are named after the cluster (`TargetTracking-service/<project>-<environment>/…`).
 */
function grantScalingDeploy(scope: Construct): void {
  const foundation = DeployPermissions.of(scope);
  if (!foundation) return;
  // Scaling is the release's; the service-linked role it needs is made once, by the administrator's first deploy.
  foundation.serviceLinkedRole("ecs.application-autoscaling.amazonaws.com");
  const deploy = foundation.release(["aws_appautoscaling_target", "aws_appautoscaling_policy"]);
  deploy.allow([
    { Sid: "ScalingRead", Action: ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"], Resource: "*" },
  ]);
  deploy.service("Scaling", {
    create: ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:TagResource"],
    manage: [
      "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:ListTagsForResource",
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:TagResource",
      "application-autoscaling:UntagResource",
    ],
    resources: [deploy.arn("application-autoscaling", "scalable-target/*")],
    kind: SCALING,
  });
  deploy.allow([
    {
      Sid: "ScalingAlarms",
      Action: ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"],
      Resource: deploy.arn("cloudwatch", `alarm:TargetTracking-service/${deploy.prefix}/*`),
    },
  ]);
}
