import { ApiStack } from "../../stacks/api-stack";
import { address, env, only, resources, synth } from "../support/helpers";
import { testApp } from "../support/bare-stack";

describe("Cluster", () => {
  test("turns Container Insights on and owns its log group, so retention is set and destroy removes it", () => {
    const tf = synth(env({ cluster: { logRetentionDays: 3 } }));
    const cluster = only(tf, "aws_ecs_cluster");
    expect(cluster.setting).toEqual([{ name: "containerInsights", value: "enabled" }]);
    const group = resources(tf, "aws_cloudwatch_log_group").find((g) => g.name === "/aws/ecs/containerinsights/rest-api-test/performance")!;
    expect(group.retention_in_days).toBe(3);
    expect(cluster.depends_on).toEqual([address(tf, "aws_cloudwatch_log_group", group)]);
  });

  test("registers FARGATE and FARGATE_SPOT", () => {
    expect(only(synth(env()), "aws_ecs_cluster_capacity_providers").capacity_providers).toEqual(["FARGATE", "FARGATE_SPOT"]);
  });

  test("default strategy is all on-demand Fargate", () => {
    expect(only(synth(env()), "aws_ecs_cluster_capacity_providers").default_capacity_provider_strategy).toEqual([
      { capacity_provider: "FARGATE", base: 0, weight: 1 },
    ]);
  });

  test("an on-demand base with the rest shared with Spot, as prod uses", () => {
    const tf = synth(env({ cluster: { onDemandBase: 2, onDemandWeight: 1, spotWeight: 3 } }));
    expect(only(tf, "aws_ecs_cluster_capacity_providers").default_capacity_provider_strategy).toEqual([
      { capacity_provider: "FARGATE", base: 2, weight: 1 },
      { capacity_provider: "FARGATE_SPOT", base: 0, weight: 3 },
    ]);
  });

  test("the service repeats the cluster's strategy", () => {
    const tf = synth(env({ cluster: { onDemandWeight: 0, spotWeight: 1 } }));
    expect(only(tf, "aws_ecs_service").capacity_provider_strategy).toEqual(only(tf, "aws_ecs_cluster_capacity_providers").default_capacity_provider_strategy);
  });

  test("records ECS Exec sessions to its own log group when exec is on", () => {
    const tf = synth(env({ task: { readonlyRootFilesystem: false }, service: { enableExecuteCommand: true } }));
    const exec = only(tf, "aws_ecs_cluster").configuration.execute_command_configuration;
    expect(exec.logging).toBe("OVERRIDE");
    expect(exec.log_configuration.cloud_watch_log_group_name).toMatch(/^\$\{aws_cloudwatch_log_group\.Cluster_ExecLogGroup/);
  });

  test("in EC2 mode, still refuses bad Fargate weights, and warns that they do not apply", () => {
    const ec2 = { compute: { mode: "ec2" as const, ec2: { amiId: "ami-0123456789abcdef0" } } };
    expect(() => synth(env({ ...ec2, cluster: { onDemandWeight: -3 } }))).toThrow(/Invalid setting cluster\.onDemandWeight = -3: out of range/);
    const stack = new ApiStack(testApp(), "test", env({ ...ec2, cluster: { spotWeight: 1 } }));
    const cluster = stack.cluster;
    const warnings = cluster.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => m.data);
    expect(warnings).toEqual([expect.stringContaining('cluster.spotWeight split tasks between Fargate and Fargate Spot; compute.mode "ec2" runs every task')]);
  });

  test("rejects weights that would place no task", () => {
    expect(() => synth(env({ cluster: { onDemandWeight: 0, spotWeight: 0 } }))).toThrow(
      /Invalid setting cluster\.onDemandWeight = 0: cluster\.onDemandWeight and cluster\.spotWeight are both 0/,
    );
  });
});

test("Cluster rejects a log retention CloudWatch does not accept, even with no log group to apply it to", () => {
  expect(() => synth(env({ cluster: { containerInsights: false, logRetentionDays: 2 } }))).toThrow(
    /Invalid setting cluster\.logRetentionDays = 2: not a retention period CloudWatch Logs offers/,
  );
});
