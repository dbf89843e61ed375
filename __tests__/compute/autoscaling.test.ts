import { env, only, resources, synth } from "../support/helpers";

describe("Autoscaling", () => {
  test("scales the service's task count between min and max", () => {
    const target = only(synth(env({ autoscaling: { minCapacity: 2, maxCapacity: 6 }, service: { desiredCount: 2 } })), "aws_appautoscaling_target");
    expect(target).toMatchObject({ service_namespace: "ecs", scalable_dimension: "ecs:service:DesiredCount", min_capacity: 2, max_capacity: 6 });
    expect(target.resource_id).toMatch(/^service\/\$\{aws_ecs_cluster\..*\.name\}\/\$\{aws_ecs_service\..*\.name\}$/);
  });

  test("tracks CPU and memory with the configured targets and cooldowns", () => {
    const tf = synth(env({ autoscaling: { cpuTargetPercent: 50, memoryTargetPercent: 80, scaleInCooldownSeconds: 120 } }));
    const configs = resources(tf, "aws_appautoscaling_policy").map((p) => p.target_tracking_scaling_policy_configuration);
    expect(configs).toEqual([
      {
        target_value: 50,
        scale_in_cooldown: 120,
        scale_out_cooldown: 60,
        predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" },
      },
      {
        target_value: 80,
        scale_in_cooldown: 120,
        scale_out_cooldown: 60,
        predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageMemoryUtilization" },
      },
    ]);
  });

  test("optionally tracks requests per target, labelled with the load balancer and target group", () => {
    const tf = synth(env({ autoscaling: { requestsPerTarget: 500 } }));
    const requests = resources(tf, "aws_appautoscaling_policy")[2].target_tracking_scaling_policy_configuration;
    expect(requests.target_value).toBe(500);
    expect(requests.predefined_metric_specification.resource_label).toMatch(/^\$\{aws_lb\..*\.arn_suffix\}\/\$\{aws_lb_target_group\..*\.arn_suffix\}$/);
  });

  describe("rejects bad settings at synth", () => {
    test("min greater than max", () => {
      expect(() => synth(env({ autoscaling: { minCapacity: 5, maxCapacity: 2 } }))).toThrow(
        "Invalid setting autoscaling.minCapacity = 5: greater than autoscaling.maxCapacity (2). Allowed: at most 2.",
      );
    });
    test("a desired count outside [min, max]", () => {
      expect(() => synth(env({ service: { desiredCount: 5 }, autoscaling: { minCapacity: 1, maxCapacity: 3 } }))).toThrow(
        "Invalid setting service.desiredCount = 5: outside the autoscaling range [1, 3]. Allowed: a count from 1 to 3.",
      );
    });
    test("a CPU target above 95%", () => {
      expect(() => synth(env({ autoscaling: { cpuTargetPercent: 120 } }))).toThrow(/autoscaling\.cpuTargetPercent = 120/);
    });
  });
});
