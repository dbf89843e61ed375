import { Construct } from "constructs";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { check, checkInt } from "./validate";

export interface AutoscalingSettings {
  /** Scale the task count; off keeps `service.desiredCount`. @default true */
  readonly enabled?: boolean;
  /** Fewest tasks. @default 1 */
  readonly minCapacity?: number;
  /** Most tasks. @default 4 */
  readonly maxCapacity?: number;
  /** Target average CPU. @default 60 */
  readonly cpuTargetPercent?: number;
  /** Target average memory. @default 75 */
  readonly memoryTargetPercent?: number;
  /** Target requests per task per minute (off by default). @default none */
  readonly requestsPerTarget?: number;
  /** Wait after scaling in. @default 300 */
  readonly scaleInCooldownSeconds?: number;
  /** Wait after scaling out. @default 60 */
  readonly scaleOutCooldownSeconds?: number;
}

export interface AutoscalingProps extends AutoscalingSettings {
  readonly name: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** `<load balancer arn_suffix>/<target group arn_suffix>`, for the request-count policy. */
  readonly requestCountLabel: string;
}

/** Application Auto Scaling of the service's task count: target tracking on CPU, memory and requests. */
export class Autoscaling extends Construct {
  readonly target: AppautoscalingTarget;

  constructor(scope: Construct, id: string, props: AutoscalingProps) {
    super(scope, id);
    const [min, max] = capacityRange(props);
    const scaleIn = checkInt("autoscaling.scaleInCooldownSeconds", props.scaleInCooldownSeconds ?? 300, 0, 3600);
    const scaleOut = checkInt("autoscaling.scaleOutCooldownSeconds", props.scaleOutCooldownSeconds ?? 60, 0, 3600);

    this.target = new AppautoscalingTarget(this, "Target", {
      serviceNamespace: "ecs",
      resourceId: `service/${props.clusterName}/${props.serviceName}`,
      scalableDimension: "ecs:service:DesiredCount",
      minCapacity: min,
      maxCapacity: max,
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
    track("Cpu", "ECSServiceAverageCPUUtilization", checkInt("autoscaling.cpuTargetPercent", props.cpuTargetPercent ?? 60, 10, 95));
    track("Memory", "ECSServiceAverageMemoryUtilization", checkInt("autoscaling.memoryTargetPercent", props.memoryTargetPercent ?? 75, 10, 95));
    if (props.requestsPerTarget !== undefined) {
      track("Requests", "ALBRequestCountPerTarget", checkInt("autoscaling.requestsPerTarget", props.requestsPerTarget, 1, 1000000), props.requestCountLabel);
    }
  }
}

/** The [min, max] task range, checked against each other and against the desired count. */
export function capacityRange(settings: AutoscalingSettings, desiredCount?: number): [number, number] {
  const min = checkInt("autoscaling.minCapacity", settings.minCapacity ?? 1, 0, 1000);
  const max = checkInt("autoscaling.maxCapacity", settings.maxCapacity ?? 4, 1, 1000);
  check(min <= max, "autoscaling.minCapacity", min, `greater than autoscaling.maxCapacity (${max})`, `at most ${max}`);
  if (desiredCount !== undefined) {
    check(
      desiredCount >= min && desiredCount <= max,
      "service.desiredCount",
      desiredCount,
      `outside the autoscaling range [${min}, ${max}]`,
      `a count from ${min} to ${max}`,
    );
  }
  return [min, max];
}
