import { Testing, TerraformStack } from "cdktf";
import { TargetHealthCheckSettingsSchema } from "../../lib/edge/target-group";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { environments } from "../../environments/environments";
import { checkNameClashes } from "../../lib/settings/environment/schema";
import { address, env, ref, resources, synth, TfJson } from "../support/helpers";
import { testApp, testLoadBalancer } from "../support/bare-stack";

/**
 * Several services per environment (`services`): a routed API with its own listener rule and target
 * group, a worker with neither, each with its own recipe, roles, logs, security group and scaling,
 * and the database only where granted. One behaviour each.
 */
const admin = { route: { pathPatterns: ["/admin", "/admin/*"], healthCheck: { path: "/admin/health" } } };
const worker = { task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] }, database: true };
const withServices = (more: Partial<EnvironmentSettings> = {}) => env({ services: { admin, worker }, ...more });

const named = (tf: TfJson, type: string, name: string) => {
  const found = resources(tf, type).find((r) => (r.name ?? r.family) === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const containerOf = (tf: TfJson, family: string) => JSON.parse(named(tf, "aws_ecs_task_definition", family).container_definitions)[0];
const sgOf = (tf: TfJson, name: string) => ref(tf, "aws_security_group", named(tf, "aws_security_group", name), "id");

describe("a routed service (services.<key>.route)", () => {
  test("given a route, then the service gets its own target group with its own health check, on its task's port", () => {
    const tf = synth(withServices());
    const group = named(tf, "aws_lb_target_group", "rest-api-test-admin-tg");
    expect(group).toMatchObject({ port: 8080, target_type: "ip", health_check: { path: "/admin/health" } });
    expect(named(tf, "aws_ecs_service", "rest-api-test-admin").load_balancer).toEqual([
      { container_name: "app", container_port: 8080, target_group_arn: ref(tf, "aws_lb_target_group", group, "arn") },
    ]);
  });

  test("given path patterns, then a listener rule on the serving listener forwards them to that target group, at the first default priority", () => {
    const tf = synth(withServices());
    const [rule] = resources(tf, "aws_lb_listener_rule");
    const group = named(tf, "aws_lb_target_group", "rest-api-test-admin-tg");
    expect(rule).toMatchObject({
      priority: 100,
      condition: [{ path_pattern: { values: ["/admin", "/admin/*"] } }],
      action: [{ type: "forward", target_group_arn: ref(tf, "aws_lb_target_group", group, "arn") }],
    });
    expect(rule.listener_arn).toBe(ref(tf, "aws_lb_listener", resources(tf, "aws_lb_listener")[0], "arn"));
  });

  test("given HTTPS, then the rule sits on the HTTPS listener, not on the redirect", () => {
    const certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
    const tf = synth(withServices({ loadBalancer: { https: { certificateArn } } }));
    const https = resources(tf, "aws_lb_listener").find((l) => l.protocol === "HTTPS")!;
    expect(resources(tf, "aws_lb_listener_rule")[0].listener_arn).toBe(ref(tf, "aws_lb_listener", https, "arn"));
  });

  test("given host headers, then the rule matches the hosts", () => {
    const tf = synth(env({ services: { admin: { route: { hostHeaders: ["admin.example.com"] } } } }));
    expect(resources(tf, "aws_lb_listener_rule")[0].condition).toEqual([{ host_header: { values: ["admin.example.com"] } }]);
  });

  test("given two routed services without priorities, then they take 100 and 110 in key order, skipping one taken explicitly", () => {
    const tf = synth(
      env({
        services: {
          b: { route: { pathPatterns: ["/b/*"] } },
          a: { route: { pathPatterns: ["/a/*"] } },
          c: { route: { pathPatterns: ["/c/*"], priority: 100 } },
        },
      }),
    );
    const byPath = Object.fromEntries(resources(tf, "aws_lb_listener_rule").map((r) => [r.condition[0].path_pattern.values[0], r.priority]));
    expect(byPath).toEqual({ "/a/*": 110, "/b/*": 120, "/c/*": 100 });
  });

  test("given a routed service, then the load balancer may reach it on its port and its security group admits only the load balancer", () => {
    const tf = synth(withServices());
    const tasks = sgOf(tf, "rest-api-test-admin-tasks");
    const lb = sgOf(tf, "rest-api-test-lb");
    const ingress = resources(tf, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === tasks);
    expect(ingress.map((r) => [r.referenced_security_group_id, r.from_port, r.to_port])).toEqual([[lb, 8080, 8080]]);
    const egress = resources(tf, "aws_vpc_security_group_egress_rule").filter((r) => r.security_group_id === lb);
    expect(egress.map((r) => r.referenced_security_group_id)).toContain(tasks);
  });

  test("given a routed service, then the default API still takes every request no rule matches", () => {
    const tf = synth(withServices());
    const [listener] = resources(tf, "aws_lb_listener");
    expect(listener.default_action).toEqual([
      { type: "forward", target_group_arn: ref(tf, "aws_lb_target_group", named(tf, "aws_lb_target_group", "rest-api-test-tg"), "arn") },
    ]);
  });
});

describe("a worker (a service without a route)", () => {
  test("given a worker, then its service has no load balancer and no grace period, and depends on no listener", () => {
    const tf = synth(withServices());
    const service = named(tf, "aws_ecs_service", "rest-api-test-worker");
    expect(service.load_balancer).toBeUndefined();
    expect(service.health_check_grace_period_seconds).toBeUndefined();
    expect(service.depends_on.some((d: string) => d.startsWith("aws_lb"))).toBe(false);
    expect(resources(tf, "aws_lb_target_group").map((g) => g.name)).not.toContain("rest-api-test-worker-tg");
  });

  test("given a worker, then nothing may reach its tasks: its security group has no inbound rule", () => {
    const tf = synth(withServices());
    const tasks = sgOf(tf, "rest-api-test-worker-tasks");
    expect(resources(tf, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === tasks)).toEqual([]);
    expect(resources(tf, "aws_vpc_security_group_egress_rule").filter((r) => r.referenced_security_group_id === tasks)).toEqual([]);
  });

  test("given a worker, then its container maps no port, gets no PORT, and runs its command once an image is released", () => {
    const tf = synth(withServices(), { imageTag: "v1" });
    const app = containerOf(tf, "rest-api-test-worker");
    expect(app.portMappings).toBeUndefined();
    expect(app.environment.map((v: { name: string }) => v.name)).not.toContain("PORT");
    expect(app.command).toEqual(["dist/worker.mjs"]);
    // The app image's probe asks the HTTP server a worker does not run.
    expect(app.healthCheck).toBeUndefined();
  });

  test("given a worker and no release, then its placeholder waits and serves nothing", () => {
    const app = containerOf(synth(withServices()), "rest-api-test-worker");
    expect(app.command.join(" ")).not.toContain("httpd");
    expect(app.command.join(" ")).toContain("trap 'exit 0' TERM");
  });

  test("given a worker, then it scales on CPU and memory, with a scaling target of its own", () => {
    const tf = synth(withServices());
    const service = ref(tf, "aws_ecs_service", named(tf, "aws_ecs_service", "rest-api-test-worker"), "name");
    const target = resources(tf, "aws_appautoscaling_target").find((t) => t.resource_id.endsWith(`/${service}`))!;
    expect(target).toBeDefined();
    const policies = resources(tf, "aws_appautoscaling_policy").filter((p) => p.resource_id === ref(tf, "aws_appautoscaling_target", target, "resource_id"));
    expect(policies.map((p) => p.name).sort()).toEqual(["rest-api-test-worker-cpu", "rest-api-test-worker-memory"]);
  });
});

describe("each service is its own", () => {
  test("given three services, then each has its own task definition, execution and task roles, log group and security group", () => {
    const tf = synth(withServices());
    for (const name of ["rest-api-test", "rest-api-test-admin", "rest-api-test-worker"]) {
      const family = named(tf, "aws_ecs_task_definition", name);
      expect(family.execution_role_arn).toBe(ref(tf, "aws_iam_role", named(tf, "aws_iam_role", `${name}-execution`), "arn"));
      expect(family.task_role_arn).toBe(ref(tf, "aws_iam_role", named(tf, "aws_iam_role", `${name}-task`), "arn"));
      expect(containerOf(tf, name).logConfiguration.options["awslogs-group"]).toBe(
        ref(tf, "aws_cloudwatch_log_group", named(tf, "aws_cloudwatch_log_group", `/ecs/${name}`), "name"),
      );
      expect(named(tf, "aws_ecs_service", name).network_configuration.security_groups).toEqual([sgOf(tf, `${name}-tasks`)]);
    }
  });

  test("given services, then every resource name is unique within its type", () => {
    const tf = synth(env({ services: { admin, worker, tg: {}, task: {}, lb: {}, db: {}, ec2: {} } }));
    // An inline policy's name is unique per role only.
    for (const [type, bodies] of Object.entries(tf.resource).filter(([type]) => type !== "aws_iam_role_policy")) {
      const names = Object.values(bodies)
        .map((b) => b.name ?? b.family)
        .filter((n) => typeof n === "string");
      expect([type, names.length]).toEqual([type, new Set(names).size]);
    }
  });

  test("given services, then the database is wired only into those granted it (and the default API)", () => {
    const tf = synth(withServices());
    const dbVars = (name: string) =>
      containerOf(tf, name)
        .environment.map((v: { name: string }) => v.name)
        .filter((n: string) => n.startsWith("DB_"));
    expect(dbVars("rest-api-test")).toEqual(["DB_HOST", "DB_IAM_USER", "DB_NAME", "DB_PORT"]);
    expect(dbVars("rest-api-test-worker")).toEqual(["DB_HOST", "DB_IAM_USER", "DB_NAME", "DB_PORT"]);
    expect(dbVars("rest-api-test-admin")).toEqual([]);
    expect(containerOf(tf, "rest-api-test-admin").secrets).toEqual([]);
    const db = sgOf(tf, "rest-api-test-db");
    const admitted = resources(tf, "aws_vpc_security_group_ingress_rule")
      .filter((r) => r.security_group_id === db)
      .map((r) => r.referenced_security_group_id);
    expect(admitted.sort()).toEqual([sgOf(tf, "rest-api-test-tasks"), sgOf(tf, "rest-api-test-worker-tasks")].sort());
  });

  test("given services, then each has outputs for its service name and log group", () => {
    const tf = synth(withServices());
    expect(Object.keys(tf.output!)).toEqual(expect.arrayContaining(["AdminServiceName", "AdminLogGroupName", "WorkerServiceName", "WorkerLogGroupName"]));
  });

  test("given services added, then the default API's resources keep their Terraform addresses", () => {
    const before = synth(env());
    const after = synth(withServices());
    for (const type of ["aws_ecs_service", "aws_ecs_task_definition", "aws_lb_target_group", "aws_appautoscaling_target", "aws_security_group"]) {
      const keep = (tf: TfJson) =>
        resources(tf, type).filter((r) => [undefined, "rest-api-test", "rest-api-test-tg", "rest-api-test-tasks"].includes(r.name ?? r.family));
      const addresses = (tf: TfJson) => keep(tf).map((r) => address(tf, type, r));
      expect(addresses(after)).toEqual(expect.arrayContaining(addresses(before)));
    }
  });

  test("given EC2 mode, then the instances are sized for every service's maximum", () => {
    const alone = synth(env({ compute: { mode: "ec2" } }));
    const together = synth(env({ compute: { mode: "ec2" }, services: { worker: { autoscaling: { maxCapacity: 10 } } } }));
    const max = (tf: TfJson) => resources(tf, "aws_autoscaling_group")[0].max_size;
    expect(max(together)).toBeGreaterThan(max(alone));
  });
});

describe("LoadBalancer.addTargets, on a bare stack", () => {
  const bare = () => {
    const stack = new TerraformStack(testApp(), "s");
    const lb = testLoadBalancer(stack, "Lb");
    return { stack, lb };
  };
  const healthCheck = TargetHealthCheckSettingsSchema.parse({});
  const rule = (priority: number) => ({ priority, pathPatterns: ["/x/*"], hostHeaders: [] });

  test("given no service takes the default action, then the listener answers 404", () => {
    const { stack } = bare();
    const [listener] = Object.values(JSON.parse(Testing.synth(stack)).resource.aws_lb_listener) as any[];
    expect(listener.default_action[0]).toMatchObject({ type: "fixed-response", fixed_response: { status_code: "404" } });
  });

  test("given a default target, when a second asks for the default action, then it is refused, naming both", () => {
    const { lb } = bare();
    lb.addTargets("A", { name: "a", port: 80, healthCheck });
    expect(() => lb.addTargets("B", { name: "b", port: 80, healthCheck })).toThrow(/"B" and "A" both ask for the listener's default action/);
  });

  test("given a rule at a priority, when another asks for it, then it is refused, naming both", () => {
    const { lb } = bare();
    lb.addTargets("A", { name: "a", port: 80, healthCheck, rule: rule(7) });
    expect(() => lb.addTargets("B", { name: "b", port: 80, healthCheck, rule: rule(7) })).toThrow(/"B" and "A" both ask for listener rule priority 7/);
  });

  test("given a target id in use, when it is added again, then it is refused", () => {
    const { lb } = bare();
    lb.addTargets("A", { name: "a", port: 80, healthCheck, rule: rule(1) });
    expect(() => lb.addTargets("A", { name: "a2", port: 80, healthCheck, rule: rule(2) })).toThrow(/addTargets\("A"\) was already called/);
  });
});

describe("names across environments", () => {
  test("given environment dev with a service lite and an environment dev-lite, synth refuses: both would own rest-api-dev-lite", () => {
    const withLite = { ...env({ name: "dev" }), services: { lite: {} } };
    expect(() => checkNameClashes([withLite, env({ name: "dev-lite" })])).toThrow(
      'Invalid setting name (environment dev-lite) = "dev-lite": its resources would be named "rest-api-dev-lite", as service lite of environment dev\'s are. Allowed: a service key or environment name that makes another name.',
    );
    expect(() => checkNameClashes([env({ name: "dev-lite" }), withLite])).toThrow(
      /^Invalid setting services\.lite \(environment dev\) = "lite": .* as environment dev-lite's are/,
    );
  });

  test("the same names in different projects do not clash", () => {
    expect(() => checkNameClashes([{ ...env({ name: "dev" }), services: { lite: {} } }, env({ name: "dev-lite", project: "other" })])).not.toThrow();
  });

  test("the shipped environments do not clash", () => {
    expect(() => checkNameClashes(environments)).not.toThrow();
  });
});

describe("a service's task takes from the environment's `task` what it leaves out (docs/settings.md's \"as `task`\")", () => {
  const sized = { cpu: 256, memory: 512, cpuArchitecture: "X86_64" as const, logRetentionDays: 7 };
  const task = (tf: TfJson, family: string) => named(tf, "aws_ecs_task_definition", family);

  test("given dev-sized task settings and a worker that sets none, then the worker is dev-sized and keeps its logs as long", () => {
    const tf = synth(env({ task: sized, services: { worker: { task: { command: ["dist/worker.mjs"] } } } }));
    expect(task(tf, "rest-api-test-worker")).toMatchObject({ cpu: "256", memory: "512" });
    expect(named(tf, "aws_cloudwatch_log_group", "/ecs/rest-api-test-worker").retention_in_days).toBe(7);
  });

  test("given a service that sets cpu or memory, then its size is its own, the other half from `task`'s defaults, not half the environment's", () => {
    const tf = synth(env({ task: sized, services: { worker: { task: { cpu: 512 } } } }));
    expect(task(tf, "rest-api-test-worker")).toMatchObject({ cpu: "512", memory: "1024" });
  });

  test("given ARM64 tasks, then every service runs the one ARM64 image", () => {
    const tf = synth(env({ task: { cpuArchitecture: "ARM64" }, cluster: { spotWeight: 0 }, services: { worker: {} } }));
    expect(task(tf, "rest-api-test-worker").runtime_platform.cpu_architecture).toBe("ARM64");
  });

  test("given the shipped environments, then each service is sized as written or as its environment's `task`", () => {
    for (const settings of environments) {
      const tf = synth(settings);
      for (const [key, service] of Object.entries(settings.services ?? {})) {
        const own = service.task ?? {};
        const expected =
          own.cpu !== undefined || own.memory !== undefined ? {} : { cpu: String(settings.task?.cpu ?? 512), memory: String(settings.task?.memory ?? 1024) };
        expect([key, task(tf, `${settings.project ?? "rest-api"}-${settings.name}-${key}`)]).toEqual([key, expect.objectContaining(expected)]);
      }
    }
  });
});
