import { dev, prod } from "../../../environments/environments";
import type { EnvironmentSettings } from "../../../lib/settings/environment/settings";
import { env, only, ref, resources, synth } from "../../support/helpers";

/** Every task definition's compatibilities: one per service of the environment (its worker and second API too). */
const compatibilities = (tf: ReturnType<typeof synth>) => resources(tf, "aws_ecs_task_definition").map((t) => t.requires_compatibilities);
const ec2 = (overrides: Partial<EnvironmentSettings> = {}) => env({ compute: { mode: "ec2" }, ...overrides });

describe("EC2 execution mode", () => {
  const tf = synth(ec2());

  test("Fargate stays the default: no instances unless compute.mode is ec2", () => {
    const fargate = synth(env());
    expect(fargate.resource.aws_autoscaling_group).toBeUndefined();
    expect(only(fargate, "aws_ecs_task_definition").requires_compatibilities).toEqual(["FARGATE"]);
  });

  test("launch template: ECS-optimized Amazon Linux 2023 from the public SSM parameter, IMDSv2 only, encrypted root volume", () => {
    const lt = only(tf, "aws_launch_template");
    expect(lt.image_id).toBe("resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id");
    expect(lt.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 });
    expect(lt.block_device_mappings[0].ebs).toMatchObject({ encrypted: "true", volume_type: "gp3", volume_size: 30 });
    expect(lt.instance_type).toBe("t3.medium");
  });

  test("ARM64 tasks get the ARM64 AMI and a Graviton default instance type", () => {
    const arm = only(synth(ec2({ task: { cpuArchitecture: "ARM64" } })), "aws_launch_template");
    expect(arm.image_id).toBe("resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id");
    expect(arm.instance_type).toBe("t4g.medium");
  });

  test("an explicit AMI id pins the image, as the offline plan does", () => {
    expect(only(synth(ec2({ compute: { mode: "ec2", ec2: { amiId: "ami-0123456789abcdef0" } } })), "aws_launch_template").image_id).toBe(
      "ami-0123456789abcdef0",
    );
  });

  test("user data joins the cluster by reference and blocks tasks from the instance metadata", () => {
    const userData = only(tf, "aws_launch_template").user_data as string;
    expect(userData).toMatch(/^\$\{base64encode\(/);
    expect(userData).toContain(`ECS_CLUSTER=${ref(tf, "aws_ecs_cluster", only(tf, "aws_ecs_cluster"), "name")}`);
    expect(userData).toContain("ECS_AWSVPC_BLOCK_IMDS=true");
  });

  test("instances run with the ECS instance role through an instance profile", () => {
    const profile = only(tf, "aws_iam_instance_profile");
    expect(only(tf, "aws_launch_template").iam_instance_profile).toEqual({ arn: ref(tf, "aws_iam_instance_profile", profile, "arn") });
    const policies = resources(tf, "aws_iam_role_policy_attachment").map((a) => a.policy_arn);
    expect(policies).toContain("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role");
  });

  test("the instances' security group admits nothing from outside", () => {
    const sg = resources(tf, "aws_security_group").find((g) => g.name.endsWith("-instances"))!;
    const ingress = resources(tf, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === ref(tf, "aws_security_group", sg, "id"));
    expect(ingress).toEqual([]);
  });

  test("the instances reach out on HTTPS only: agent, image pulls, logs, SSM and package updates", () => {
    const sg = resources(tf, "aws_security_group").find((g) => g.name.endsWith("-instances"))!;
    const egress = resources(tf, "aws_vpc_security_group_egress_rule").filter((r) => r.security_group_id === ref(tf, "aws_security_group", sg, "id"));
    expect(egress.map((r) => [r.ip_protocol, r.from_port, r.to_port, r.cidr_ipv4])).toEqual([["tcp", 443, 443, "0.0.0.0/0"]]);
  });

  test("Auto Scaling group over the private subnets, protected for managed termination, deletable by destroy", () => {
    const asg = only(tf, "aws_autoscaling_group");
    const privateIds = Object.entries(tf.resource.aws_subnet)
      .filter(([, s]) => s.tags.Tier === "private")
      .map(([n]) => `\${aws_subnet.${n}.id}`);
    expect(asg.vpc_zone_identifier).toEqual(privateIds);
    expect(asg).toMatchObject({ min_size: 1, protect_from_scale_in: true, force_delete: true });
    expect(asg.tag).toContainEqual({ key: "AmazonECSManaged", value: "true", propagate_at_launch: true });
    expect(asg.lifecycle).toEqual({ ignore_changes: ["desired_capacity"] });
  });

  test("capacity provider with managed scaling and managed termination protection", () => {
    const cp = only(tf, "aws_ecs_capacity_provider");
    expect(cp.auto_scaling_group_provider).toMatchObject({
      auto_scaling_group_arn: ref(tf, "aws_autoscaling_group", only(tf, "aws_autoscaling_group"), "arn"),
      managed_termination_protection: "ENABLED",
      managed_draining: "ENABLED",
      managed_scaling: { status: "ENABLED", target_capacity: 100 },
    });
  });

  test("the service is placed through the EC2 capacity provider, spread across AZs, without public IPs", () => {
    const svc = only(tf, "aws_ecs_service");
    const cpName = ref(tf, "aws_ecs_capacity_provider", only(tf, "aws_ecs_capacity_provider"), "name");
    expect(svc.capacity_provider_strategy).toEqual([{ capacity_provider: cpName, base: 0, weight: 1 }]);
    expect(svc.ordered_placement_strategy).toEqual([{ type: "spread", field: "attribute:ecs.availability-zone" }]);
    expect(svc.network_configuration.assign_public_ip).toBe(false);
    expect(only(tf, "aws_ecs_cluster_capacity_providers").capacity_providers).toContain(cpName);
  });

  test("the task definition is EC2-compatible in awsvpc mode", () => {
    const td = only(tf, "aws_ecs_task_definition");
    expect(td.requires_compatibilities).toEqual(["EC2"]);
    expect(td.network_mode).toBe("awsvpc");
  });

  test("tasks scale with autoscaling and instances follow through managed scaling", () => {
    expect(only(tf, "aws_appautoscaling_target").max_capacity).toBe(4);
    // t3.medium: 3 network interfaces, so 2 awsvpc tasks each; max 4 tasks, doubled for deployments.
    expect(only(tf, "aws_autoscaling_group").max_size).toBe(4);
  });

  test("one setting turns prod into EC2 mode", () => {
    const switched = synth({ ...prod, compute: { mode: "ec2" } });
    expect(compatibilities(switched)).toEqual(compatibilities(switched).map(() => ["EC2"]));
  });

  test("dev, which has no NAT gateway, turns to EC2 mode with a NAT gateway too, and without one is told so", () => {
    expect(() => synth({ ...dev, compute: { mode: "ec2" } })).toThrow(
      /^Invalid setting compute\.mode = "ec2": .*network\.natMode "none".* Allowed: network\.natMode "single" or "per-az"/,
    );
    const switched = synth({ ...dev, network: { ...dev.network, natMode: "single" }, compute: { mode: "ec2" } });
    expect(compatibilities(switched)).toEqual(compatibilities(switched).map(() => ["EC2"]));
  });

  describe("rejects bad settings at synth", () => {
    test("an instance type with less memory than the task needs", () => {
      expect(() => synth(ec2({ task: { cpu: 1024, memory: 8192 }, compute: { mode: "ec2", ec2: { instanceType: "t3.medium" } } }))).toThrow(
        'Invalid setting compute.ec2.instanceType = "t3.medium": t3.medium leaves about 3686 MiB for tasks, less than task.memory (8192 MiB). Allowed: a type with more memory, or a smaller task.memory.',
      );
    });
    test("an instance type of the other architecture", () => {
      expect(() => synth(ec2({ compute: { mode: "ec2", ec2: { instanceType: "m7g.large" } } }))).toThrow(
        /"m7g\.large": a ARM64 type, but task\.cpuArchitecture is X86_64/,
      );
    });
    test("an instance type the starter does not know", () => {
      expect(() => synth(ec2({ compute: { mode: "ec2", ec2: { instanceType: "x9.huge" } } }))).toThrow(
        /compute\.ec2\.instanceType = "x9\.huge": not a type this starter knows/,
      );
    });
    test("ASG min greater than max", () => {
      expect(() => synth(ec2({ compute: { mode: "ec2", ec2: { minInstances: 5, maxInstances: 3 } } }))).toThrow(
        "Invalid setting compute.ec2.minInstances = 5: greater than compute.ec2.maxInstances (3). Allowed: at most 3.",
      );
    });
    test("too few instances for the service's maximum task count", () => {
      expect(() => synth(ec2({ autoscaling: { maxCapacity: 10 }, compute: { mode: "ec2", ec2: { maxInstances: 2 } } }))).toThrow(
        /compute\.ec2\.maxInstances = 2: 2 x t3\.medium hold 4 tasks \(2 each\), fewer than the service's maximum of 10\. Allowed: 5 or more/,
      );
    });
    test("EC2 mode without a NAT gateway", () => {
      expect(() => synth(ec2({ network: { natMode: "none" } }))).toThrow(/Invalid setting compute\.mode = "ec2": EC2 tasks in awsvpc mode get no public IP/);
    });
    test("an unknown mode", () => {
      expect(() => synth(env({ compute: { mode: "lambda" as never } }))).toThrow(
        'Invalid setting compute.mode = "lambda": not a supported value. Allowed: "fargate", "ec2".',
      );
    });
    test("a project name AWS reserves for capacity providers", () => {
      expect(() => synth(ec2({ project: "ecs-demo" }))).toThrow(/the capacity provider name "ecs-demo-test-ec2" starts with a prefix AWS reserves/);
    });
  });
});
