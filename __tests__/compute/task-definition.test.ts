import { APP_IMAGE_HEALTH_CHECK, BUSYBOX_IMAGE } from "../../lib/registry/container-image";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { TargetHealthCheckSettingsSchema } from "../../lib/edge/target-group";
import {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  EXIT_MARGIN_SECONDS,
  LB_PROPAGATION_SECONDS,
  SPOT_WARNING_SECONDS,
  START_MARGIN_SECONDS,
  stopTimings,
} from "../../lib/compute/stop-timings";
import { LoadBalancerSettingsSchema } from "../../lib/edge/load-balancer";
import { ServiceSettingsSchema } from "../../lib/compute/service";
import { container, env, only, ref, rolePolicy, synth } from "../support/helpers";

/** An environment without the database, whose wiring would add variables, secrets and grants. */
const alone = (overrides: Partial<EnvironmentSettings> = {}) => env({ database: { enabled: false }, ...overrides });

describe("TaskDefinition (the recipe)", () => {
  test("defaults to the chapter's recipe: 0.5 vCPU, 1 GB, port 8080, the environment's name, the port and the stop's timings", () => {
    const tf = synth(alone());
    const td = only(tf, "aws_ecs_task_definition");
    expect([td.cpu, td.memory]).toEqual(["512", "1024"]);
    expect(container(tf).portMappings).toEqual([{ name: "http", containerPort: 8080, hostPort: 8080, protocol: "tcp", appProtocol: "http" }]);
    const t = stopTimings(TargetHealthCheckSettingsSchema.parse({}));
    const idle = LoadBalancerSettingsSchema.parse({}).idleTimeoutSeconds;
    expect(container(tf).environment).toEqual([
      { name: "APP_ENV", value: "test" },
      { name: "DRAIN_QUIET_MS", value: String(t.quietSeconds * 1000) },
      { name: "DRAIN_TIMEOUT_MS", value: String(t.drainSeconds * 1000) },
      { name: "KEEP_ALIVE_TIMEOUT_MS", value: String((idle + 5) * 1000) },
      { name: "PORT", value: "8080" },
    ]);
  });

  describe("a stopping task loses no request: the drain, shutdown and stop timeout agree (lib/compute/stop-timings.ts)", () => {
    const vars = (tf: ReturnType<typeof synth>) => Object.fromEntries(container(tf).environment.map((e: { name: string; value: string }) => [e.name, e.value]));

    test("the default health check drains within the default stop timeout, itself within Spot's two minutes", () => {
      const t = stopTimings(TargetHealthCheckSettingsSchema.parse({}));
      const stop = container(synth(alone())).stopTimeout;
      expect(t.requiredStopSeconds).toBe(t.drainSeconds + DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000 + EXIT_MARGIN_SECONDS);
      expect(stop).toBeGreaterThanOrEqual(t.requiredStopSeconds);
      expect(stop).toBeLessThanOrEqual(SPOT_WARNING_SECONDS);
    });

    test("the drain follows the health check, with the load balancer's propagation margin on top; the keep-alive outlives the load balancer's idle timeout", () => {
      const v = vars(
        synth(alone({ loadBalancer: { idleTimeoutSeconds: 120, healthCheck: { intervalSeconds: 6, unhealthyThreshold: 3, timeoutSeconds: 4 } } })),
      );
      expect(v).toMatchObject({
        DRAIN_TIMEOUT_MS: String((3 * 6 + 4 + LB_PROPAGATION_SECONDS) * 1000),
        DRAIN_QUIET_MS: String((6 + 4) * 1000),
        KEEP_ALIVE_TIMEOUT_MS: "125000",
      });
    });

    test("migrations get the grace period less the time to start listening", () => {
      const grace = ServiceSettingsSchema.parse({}).healthCheckGracePeriodSeconds;
      expect(vars(synth(env())).MIGRATION_TIMEOUT_MS).toBe(String((grace - START_MARGIN_SECONDS) * 1000));
      expect(vars(synth(env({ service: { healthCheckGracePeriodSeconds: 120 } }))).MIGRATION_TIMEOUT_MS).toBe(String((120 - START_MARGIN_SECONDS) * 1000));
      expect(vars(synth(alone())).MIGRATION_TIMEOUT_MS).toBeUndefined();
    });

    test("a stop timeout too short for the drain is refused, naming both settings, the propagation margin and the sum", () => {
      expect(() => synth(env({ task: { stopTimeoutSeconds: 20 } }))).toThrow(
        /^Invalid setting task\.stopTimeoutSeconds = 20: ECS would kill a stopping task before it is done: it needs 42 s for the drain \(loadBalancer\.healthCheck: unhealthyThreshold 2 x intervalSeconds 10 \+ timeoutSeconds 5, then 5 s for every load balancer node to act on it \(LB_PROPAGATION_SECONDS\) = 30 s\), SHUTDOWN_TIMEOUT_MS 10000 ms and 2 s to exit\. Allowed: 42 to 120, or a faster health check \(loadBalancer\.healthCheck\)\.$/,
      );
    });

    test("the drain covers the propagation margin: a stop timeout that fits the health check's detection but not the margin is refused", () => {
      const t = stopTimings(TargetHealthCheckSettingsSchema.parse({}));
      expect(t.drainSeconds).toBe(t.detectionSeconds + LB_PROPAGATION_SECONDS);
      const withoutMargin = t.requiredStopSeconds - LB_PROPAGATION_SECONDS;
      expect(() => synth(env({ task: { stopTimeoutSeconds: withoutMargin } }))).toThrow(
        new RegExp(
          `task\\.stopTimeoutSeconds = ${withoutMargin}: .*${LB_PROPAGATION_SECONDS} s for every load balancer node to act on it \\(LB_PROPAGATION_SECONDS\\)`,
        ),
      );
      expect(container(synth(env({ task: { stopTimeoutSeconds: t.requiredStopSeconds } }))).stopTimeout).toBe(t.requiredStopSeconds);
    });

    test("a longer SHUTDOWN_TIMEOUT_MS in the task's environment counts too", () => {
      expect(() => synth(env({ task: { environment: { APP_ENV: "test", SHUTDOWN_TIMEOUT_MS: "30000" } } }))).toThrow(
        /task\.stopTimeoutSeconds = 45: .* needs 62 s/,
      );
      expect(() => synth(env({ task: { environment: { APP_ENV: "test", SHUTDOWN_TIMEOUT_MS: "soon" } } }))).toThrow(
        /task\.environment\.SHUTDOWN_TIMEOUT_MS = "soon": not a whole number of milliseconds/,
      );
    });

    test("a health check so slow that no stop timeout could drain it is refused: Spot gives two minutes", () => {
      expect(() => synth(env({ loadBalancer: { healthCheck: { intervalSeconds: 60, unhealthyThreshold: 3 } } }))).toThrow(
        /^Invalid setting loadBalancer\.healthCheck\.unhealthyThreshold = 3: a stopping task needs 202 s .* more than the 120 s Fargate allows/,
      );
    });

    test("a routed service's own health check is checked against its own stop timeout", () => {
      expect(() => synth(env({ services: { admin: { route: { pathPatterns: ["/admin/*"], healthCheck: { intervalSeconds: 30 } } } } }))).toThrow(
        /^Invalid setting services\.admin\.task\.stopTimeoutSeconds = 45: .*services\.admin\.route\.healthCheck: unhealthyThreshold 2 x intervalSeconds 30/,
      );
    });

    test("a grace period that leaves migrations no time is refused", () => {
      expect(() => synth(env({ service: { healthCheckGracePeriodSeconds: 12 } }))).toThrow(
        /^Invalid setting service\.healthCheckGracePeriodSeconds = 12: migrations run at start within the grace period/,
      );
    });

    test("the stack's timing variables are its own: a task may not set them", () => {
      expect(() => synth(env({ task: { environment: { APP_ENV: "test", DRAIN_TIMEOUT_MS: "1" } } }))).toThrow(
        /task\.environment\.DRAIN_TIMEOUT_MS = "1": the stack sets this variable itself/,
      );
    });
  });

  test("tells the app its port: PORT follows task.containerPort", () => {
    const c = container(synth(alone({ task: { containerPort: 3000 } })));
    expect(c.environment).toContainEqual({ name: "PORT", value: "3000" });
    expect(c.portMappings[0].containerPort).toBe(3000);
  });

  test("runs on Fargate in awsvpc mode on the chosen architecture", () => {
    const td = only(synth(env({ task: { cpuArchitecture: "ARM64" } })), "aws_ecs_task_definition");
    expect(td.requires_compatibilities).toEqual(["FARGATE"]);
    expect(td.network_mode).toBe("awsvpc");
    expect(td.runtime_platform).toEqual({ operating_system_family: "LINUX", cpu_architecture: "ARM64" });
  });

  test("read-only root filesystem and a non-root user by default, writing to a tmpfs scratch space where nothing executes", () => {
    const tf = synth(env());
    const c = container(tf);
    expect(c.readonlyRootFilesystem).toBe(true);
    expect(c.user).toBe("1000:1000");
    expect(c.linuxParameters.tmpfs).toEqual([{ containerPath: "/tmp", size: 64, mountOptions: ["noexec", "nosuid", "nodev"] }]);
    expect(c.mountPoints).toBeUndefined();
    expect(only(tf, "aws_ecs_task_definition").volume).toBeUndefined();
  });

  test("no root init container, and no public image pulled beside a released one at every task start: with a database, the migrate container runs the same image as the same user", () => {
    const definitions = (settings: Parameters<typeof env>[0]) => JSON.parse(only(synth(env(settings)), "aws_ecs_task_definition").container_definitions);
    const released = definitions({ task: { image: { tag: "v1.2.3" } } });
    expect(released.map((c: any) => c.name)).toEqual(["app", "migrate"]);
    for (const c of released) expect(c.image).toMatch(/^\$\{aws_ecr_repository\.\w+\.repository_url\}:v1\.2\.3$/);
    expect(released[0].dependsOn).toEqual([{ containerName: "migrate", condition: "SUCCESS" }]);
    expect(released[1]).toMatchObject({ essential: false, user: "1000:1000", readonlyRootFilesystem: true, command: ["dist/migrate.mjs"] });
    expect(released[1].portMappings).toBeUndefined();
    expect(definitions({ database: { enabled: false }, task: { image: { tag: "v1.2.3" } } }).map((c: any) => c.name)).toEqual(["app"]);
    const placeholder = definitions({});
    expect(placeholder[1].command).toEqual(["sh", "-c", "echo 'placeholder image: no release yet, no migrations'"]);
    for (const c of [...released, ...placeholder]) expect(c.user).not.toBe("0");
  });

  test("scratch space of another path and size", () => {
    const c = container(synth(env({ task: { scratchPath: "/var/cache/app", scratchSizeMib: 256 } })));
    expect(c.linuxParameters.tmpfs).toEqual([{ containerPath: "/var/cache/app", size: 256, mountOptions: ["noexec", "nosuid", "nodev"] }]);
  });

  test("user null runs the image's own USER", () => {
    expect(container(synth(env({ task: { user: null } }))).user).toBeUndefined();
  });

  test("logs to a log group the stack owns, with the environment's retention, without blocking the app", () => {
    const tf = synth(env({ task: { logRetentionDays: 14 } }));
    const group = Object.values(tf.resource.aws_cloudwatch_log_group).find((g) => g.name === "/ecs/rest-api-test")!;
    expect(group.retention_in_days).toBe(14);
    expect(container(tf).logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": ref(tf, "aws_cloudwatch_log_group", group, "name"),
        "awslogs-region": "eu-west-1",
        "awslogs-stream-prefix": "app",
        mode: "non-blocking",
        "max-buffer-size": "25m",
      },
    });
  });

  test("passes secrets by ARN through ECS secrets, never as plain environment", () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-key-AbCdEf";
    const c = container(synth(alone({ task: { secrets: { API_KEY: arn } } })));
    expect(c.secrets).toEqual([{ name: "API_KEY", valueFrom: arn }]);
    expect(c.environment.map((e: { name: string }) => e.name)).not.toContain("API_KEY");
  });

  test("sets a container health check, stop timeout and init process when asked", () => {
    const c = container(synth(env({ task: { healthCheck: { command: "wget -q -O- localhost:8080/health" }, stopTimeoutSeconds: 45 } })));
    expect(c.healthCheck).toEqual({ command: ["CMD-SHELL", "wget -q -O- localhost:8080/health"], interval: 30, timeout: 5, retries: 3, startPeriod: 10 });
    expect(c.stopTimeout).toBe(45);
    expect(c.linuxParameters).toEqual({ initProcessEnabled: true, tmpfs: [{ containerPath: "/tmp", size: 64, mountOptions: ["noexec", "nosuid", "nodev"] }] });
  });

  describe("execution role", () => {
    test("may pull only from this repository and write only to this log group", () => {
      const tf = synth(alone());
      const { Statement } = rolePolicy(tf, "-execution", "Policy");
      expect(Statement).toEqual([
        { Sid: "EcrAuth", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
        {
          Sid: "EcrPull",
          Effect: "Allow",
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          Resource: ref(tf, "aws_ecr_repository", only(tf, "aws_ecr_repository"), "arn"),
        },
        expect.objectContaining({ Sid: "Logs", Action: ["logs:CreateLogStream", "logs:PutLogEvents"] }),
      ]);
    });

    test("may read only the secrets the container references (the secret, not its JSON key)", () => {
      const tf = synth(
        alone({
          task: {
            secrets: {
              TOKEN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf:key::",
              FLAG: "arn:aws:ssm:eu-west-1:123456789012:parameter/app/flag",
            },
          },
        }),
      );
      const { Statement } = rolePolicy(tf, "-execution", "Policy");
      expect(Statement).toContainEqual({
        Sid: "Secrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf"],
      });
      expect(Statement).toContainEqual({
        Sid: "Parameters",
        Effect: "Allow",
        Action: "ssm:GetParameters",
        Resource: ["arn:aws:ssm:eu-west-1:123456789012:parameter/app/flag"],
      });
    });

    test("no wildcard action, and a wildcard resource only where AWS requires it", () => {
      const { Statement } = rolePolicy(synth(env()), "-execution", "Policy");
      for (const s of Statement) {
        expect([s.Action].flat().some((a: string) => a.includes("*"))).toBe(false);
        if (s.Resource === "*") expect(s.Action).toBe("ecr:GetAuthorizationToken");
      }
    });
  });

  test("the task role is separate from the execution role and has no permissions by default", () => {
    const tf = synth(alone());
    const td = only(tf, "aws_ecs_task_definition");
    expect(td.task_role_arn).not.toEqual(td.execution_role_arn);
    const taskRole = Object.entries(tf.resource.aws_iam_role).find(([, r]) => r.name === "rest-api-test-task")![0];
    const policies = Object.values(tf.resource.aws_iam_role_policy).filter((p) => p.role.includes(taskRole));
    expect(policies).toEqual([]);
  });

  describe("rejects bad settings at synth", () => {
    test("a CPU size Fargate does not offer", () => {
      expect(() => synth(env({ task: { cpu: 300 } }))).toThrow(
        "Invalid setting task.cpu = 300: not a Fargate CPU size. Allowed: 256, 512, 1024, 2048, 4096, 8192, 16384.",
      );
    });
    test("a memory size not valid for the CPU, listing the valid ones", () => {
      expect(() => synth(env({ task: { cpu: 256, memory: 4096 } }))).toThrow(
        "Invalid setting task.memory = 4096: not a valid Fargate memory size for task.cpu = 256. Allowed: 512, 1024, 2048 (MiB).",
      );
      expect(() => synth(env({ task: { cpu: 1024, memory: 1024 } }))).toThrow(/Allowed: 2048 to 8192 in steps of 1024 \(MiB\)/);
    });
    test.each([0, 70000, 80.5])("container port %p", (port) => {
      expect(() => synth(env({ task: { containerPort: port } }))).toThrow(
        `Invalid setting task.containerPort = ${port}: out of range or not a whole number. Allowed: a whole number from 1 to 65535.`,
      );
    });
    test("a secret that is not a Secrets Manager or SSM ARN", () => {
      expect(() => synth(env({ task: { secrets: { DB_PASSWORD: "hunter2" } } }))).toThrow(
        /Invalid setting task\.secrets\.DB_PASSWORD = "hunter2": not the ARN of a Secrets Manager secret or an SSM parameter/,
      );
    });
    test("a secret whose name is also an environment variable", () => {
      const arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/x";
      expect(() => synth(env({ task: { environment: { X: "1" }, secrets: { X: arn } } }))).toThrow(/task\.secrets\.X.*already an environment variable/);
    });
    test("an environment variable name the shell cannot use", () => {
      expect(() => synth(env({ task: { environment: { "1BAD": "x" } } }))).toThrow(/task\.environment = "1BAD": not a valid variable name/);
    });
    test("PORT in task.environment, which the stack sets from task.containerPort", () => {
      expect(() => synth(env({ task: { environment: { APP_ENV: "x", PORT: "9000" } } }))).toThrow(
        /Invalid setting task\.environment\.PORT = "9000": the stack sets this variable itself/,
      );
    });
    test("a health check command that is an empty array, or has an empty part", () => {
      expect(() => synth(env({ task: { healthCheck: { command: [] } } }))).toThrow(
        /Invalid setting task\.healthCheck\.command = \[\]: empty, or an empty part/,
      );
      expect(() => synth(env({ task: { healthCheck: { command: ["/bin/probe", ""] } } }))).toThrow(
        /task\.healthCheck\.command = \["\/bin\/probe",""\]: empty, or an empty part/,
      );
    });
    test("ECS Exec together with a read-only root filesystem", () => {
      expect(() => synth(env({ service: { enableExecuteCommand: true } }))).toThrow(
        "Invalid setting service.enableExecuteCommand = true: ECS Exec needs a writable root filesystem for its agent, but task.readonlyRootFilesystem is true. Allowed: service.enableExecuteCommand false, or task.readonlyRootFilesystem false.",
      );
    });
  });
});

describe("Container health check", () => {
  test("the placeholder has none: the load balancer's check decides until the first release", () => {
    expect(container(synth(env())).healthCheck).toBeUndefined();
  });

  test("an image from the stack's repository runs the app image's own probe, without a shell", () => {
    const c = container(synth(env(), { imageTag: "v1.0.0" }));
    expect(c.healthCheck).toEqual({ command: ["CMD", ...APP_IMAGE_HEALTH_CHECK], interval: 30, timeout: 5, retries: 3, startPeriod: 30 });
  });

  test("an image from elsewhere (task.image.uri) gets none unless asked", () => {
    expect(container(synth(env({ task: { image: { uri: "ghcr.io/acme/api:2.0.0" } } }))).healthCheck).toBeUndefined();
  });

  test("null turns it off for an image from the repository", () => {
    expect(container(synth(env({ task: { healthCheck: null } }), { imageTag: "v1.0.0" })).healthCheck).toBeUndefined();
  });

  test("an array command runs without a shell (CMD)", () => {
    const c = container(synth(env({ task: { healthCheck: { command: ["/bin/probe", "--quick"], retries: 5 } } })));
    expect(c.healthCheck).toEqual({ command: ["CMD", "/bin/probe", "--quick"], interval: 30, timeout: 5, retries: 5, startPeriod: 10 });
  });
});

describe("Image", () => {
  test("first deploy runs the public placeholder, which answers the health check path", () => {
    const c = container(synth(env({ loadBalancer: { healthCheck: { path: "/api/health" } } })));
    expect(c.image).toBe(BUSYBOX_IMAGE);
    expect(c.command[2]).toContain("echo ok > /tmp/www/api/health");
    expect(c.command[2]).toContain("httpd -f -v -p 8080 -h /tmp/www");
  });

  test("a tag from settings runs that tag from the stack's repository, with no placeholder command", () => {
    const tf = synth(env({ task: { image: { tag: "v1.0.0" } } }));
    expect(container(tf).image).toBe(`${ref(tf, "aws_ecr_repository", only(tf, "aws_ecr_repository"), "repository_url")}:v1.0.0`);
    expect(container(tf).command).toBeUndefined();
  });

  test("IMAGE_TAG overrides the tag in settings, so CI ships without editing settings", () => {
    const tf = synth(env({ task: { image: { tag: "v1.0.0" } } }), { imageTag: "sha-abc123" });
    expect(container(tf).image).toMatch(/:sha-abc123$/);
  });

  test("an explicit image URI runs as given", () => {
    const uri = "ghcr.io/acme/api:2.0.0";
    expect(container(synth(env({ task: { image: { uri } } }))).image).toBe(uri);
  });

  test("rejects a tag and a URI together", () => {
    expect(() => synth(env({ task: { image: { tag: "v1", uri: "ghcr.io/acme/api:1" } } }))).toThrow(
      /Invalid setting task\.image = .*: task\.image\.tag and task\.image\.uri are both set/,
    );
  });

  test("rejects IMAGE_TAG when settings name another image", () => {
    expect(() => synth(env({ task: { image: { uri: "ghcr.io/acme/api:1" } } }), { imageTag: "v2" })).toThrow(
      /Invalid setting IMAGE_TAG = "v2": IMAGE_TAG picks a tag in this stack's repository, but task\.image\.uri/,
    );
  });

  test("rejects a tag Docker would reject", () => {
    expect(() => synth(env(), { imageTag: "-bad tag" })).toThrow(/Invalid setting IMAGE_TAG = "-bad tag": not a valid image tag/);
  });

  test("rejects a URI without a tag or digest", () => {
    expect(() => synth(env({ task: { image: { uri: "ghcr.io/acme/api" } } }))).toThrow(/task\.image\.uri = "ghcr\.io\/acme\/api": not a full image reference/);
  });
});
