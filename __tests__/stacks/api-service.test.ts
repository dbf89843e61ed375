import { env, only, ref, resources, rolePolicy, synth } from "../support/helpers";

describe("Service", () => {
  test("keeps the desired count of tasks running behind the target group, on the container port", () => {
    const tf = synth(env({ service: { desiredCount: 2 }, autoscaling: { minCapacity: 1, maxCapacity: 3 } }));
    const svc = only(tf, "aws_ecs_service");
    expect(svc.desired_count).toBe(2);
    expect(svc.load_balancer).toEqual([
      { target_group_arn: ref(tf, "aws_lb_target_group", only(tf, "aws_lb_target_group"), "arn"), container_name: "app", container_port: 8080 },
    ]);
  });

  test("runs tasks in private subnets without public IPs", () => {
    const tf = synth(env());
    const net = only(tf, "aws_ecs_service").network_configuration;
    expect(net.assign_public_ip).toBe(false);
    const privateIds = Object.entries(tf.resource.aws_subnet)
      .filter(([, s]) => s.tags.Tier === "private")
      .map(([name]) => `\${aws_subnet.${name}.id}`);
    expect(net.subnets).toEqual(privateIds);
  });

  test("with natMode none, runs tasks in public subnets with public IPs", () => {
    const tf = synth(env({ network: { natMode: "none" } }));
    const net = only(tf, "aws_ecs_service").network_configuration;
    expect(net.assign_public_ip).toBe(true);
    expect(net.subnets.every((id: string) => id.includes("Network_Public"))).toBe(true);
  });

  test("the tasks' security group admits only the load balancer's security group, on the container port", () => {
    const tf = synth(env({ task: { containerPort: 3000 } }));
    const tasksSg = resources(tf, "aws_security_group").find((g) => g.name === "rest-api-test-tasks")!;
    const lbSg = resources(tf, "aws_security_group").find((g) => g.name === "rest-api-test-lb")!;
    const ingress = resources(tf, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === ref(tf, "aws_security_group", tasksSg, "id"));
    expect(ingress).toEqual([
      expect.objectContaining({ ip_protocol: "tcp", from_port: 3000, to_port: 3000, referenced_security_group_id: ref(tf, "aws_security_group", lbSg, "id") }),
    ]);
    expect(ingress[0].cidr_ipv4).toBeUndefined();
  });

  test("rolls back a failing deployment and never drops below the desired count while deploying", () => {
    const svc = only(synth(env()), "aws_ecs_service");
    expect(svc.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    expect(svc.deployment_minimum_healthy_percent).toBe(100);
    expect(svc.deployment_maximum_percent).toBe(200);
    expect(svc.health_check_grace_period_seconds).toBe(60);
  });

  test("propagates tags to tasks and waits for a steady state on deploy", () => {
    const svc = only(synth(env()), "aws_ecs_service");
    expect(svc.propagate_tags).toBe("SERVICE");
    expect(svc.enable_ecs_managed_tags).toBe(true);
    expect(svc.wait_for_steady_state).toBe(true);
  });

  test("waits for the listener and the capacity providers before it is created", () => {
    const tf = synth(env());
    const [listener] = Object.keys(tf.resource.aws_lb_listener);
    const [providers] = Object.keys(tf.resource.aws_ecs_cluster_capacity_providers);
    expect(only(tf, "aws_ecs_service").depends_on).toEqual([`aws_lb_listener.${listener}`, `aws_ecs_cluster_capacity_providers.${providers}`]);
  });

  test("leaves desired_count to autoscaling when autoscaling is on", () => {
    expect(only(synth(env()), "aws_ecs_service").lifecycle).toEqual({ ignore_changes: ["desired_count"] });
    const fixed = synth(env({ autoscaling: { enabled: false } }));
    expect(only(fixed, "aws_ecs_service").lifecycle).toBeUndefined();
    expect(fixed.resource.aws_appautoscaling_target).toBeUndefined();
  });

  test("ECS Exec: turned on in the service, with task role permissions for the session channels and exec log", () => {
    const tf = synth(env({ task: { readonlyRootFilesystem: false }, service: { enableExecuteCommand: true } }));
    expect(only(tf, "aws_ecs_service").enable_execute_command).toBe(true);
    const actions = rolePolicy(tf, "-task", "ExecuteCommand").Statement.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(["ssmmessages:CreateControlChannel", "logs:PutLogEvents"]));
  });

  test("ECS Exec is off by default", () => {
    expect(only(synth(env()), "aws_ecs_service").enable_execute_command).toBe(false);
  });
});
