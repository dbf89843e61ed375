import { Construct } from "constructs";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import * as z from "zod/mini";
import { fail, flag, int, withDefault } from "./rules";

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

  constructor(scope: Construct, id: string, props: AutoscalingProps) {
    super(scope, id);
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
