/**
 * `npm run task` (scripts/task.ts): a one-off task of a service or a job, in its network, its logs
 * streamed, ending with the container's exit code. Against fake AWS clients that record each call.
 */
import { parseTaskArgs, releaseImage, resolveTarget, runOneOff, type TaskArgs, type TaskClients, type TaskTarget } from "../../scripts/task";
import { examples } from "../support/variants";

import { parseSettings } from "../../lib/settings/environment/schema";
import { resourcePrefix } from "../../lib/settings/environment/settings";

// Names and region follow the variant's settings, so a fork that renames the project or moves dev stays green.
const VARIANT = examples.find((e) => e.name === "dev-workers")!;
const PREFIX = resourcePrefix(VARIANT);
const REGION = parseSettings(VARIANT).region;
const PROJECT = parseSettings(VARIANT).project;
const ACCOUNT = "123456789012";
const TD = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${PREFIX}:7`;
const TASK = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${PREFIX}/0123456789abcdef`;
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${PREFIX}@sha256:${"a".repeat(64)}`;
const network = { awsvpcConfiguration: { subnets: ["subnet-1", "subnet-2"], securityGroups: ["sg-tasks"], assignPublicIp: "ENABLED" } };

interface FakeWorld {
  /** How many DescribeTasks answers say RUNNING before STOPPED. */
  runningPolls?: number;
  exitCode?: number;
  startFailure?: string;
  logsDenied?: boolean;
  /** The API's migrate container (the owner's migrations, before the app), and how it exits. */
  migrate?: { exitCode: number };
}

function fakes(world: FakeWorld = {}) {
  const calls: [string, any][] = [];
  let polls = 0;
  let stopped = false;
  const logPages = [
    { events: [{ message: "migrations applied" }], nextForwardToken: "t1" },
    { events: [{ message: "done" }], nextForwardToken: "t2" },
    { events: [], nextForwardToken: "t2" },
  ];
  let page = 0;
  const migratePages = [
    { events: [{ message: "app role granted the app's tables" }], nextForwardToken: "m1" },
    { events: [], nextForwardToken: "m1" },
  ];
  let migratePage = 0;
  const send = async (command: { constructor: { name: string }; input: any }) => {
    const name = command.constructor.name.replace(/Command$/, "");
    calls.push([name, command.input]);
    switch (name) {
      case "DescribeServices":
        return {
          services: [
            {
              status: "ACTIVE",
              taskDefinition: TD,
              networkConfiguration: network,
              capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
            },
          ],
        };
      case "GetSchedule":
        return {
          Target: {
            EcsParameters: {
              TaskDefinitionArn: TD.replace(":7", "-nightly:3"),
              NetworkConfiguration: { awsvpcConfiguration: { Subnets: ["subnet-1"], SecurityGroups: ["sg-job"], AssignPublicIp: "ENABLED" } },
            },
          },
        };
      case "DescribeTaskDefinition":
        return {
          taskDefinition: {
            taskDefinitionArn: command.input.taskDefinition,
            family: `${PREFIX}`,
            revision: 7,
            requiresCompatibilities: ["FARGATE"],
            containerDefinitions: [
              { name: "app", image: IMAGE, logConfiguration: { options: { "awslogs-group": "/ecs/${PREFIX}", "awslogs-stream-prefix": "app" } } },
              ...(world.migrate
                ? [{ name: "migrate", image: IMAGE, logConfiguration: { options: { "awslogs-group": "/ecs/${PREFIX}", "awslogs-stream-prefix": "migrate" } } }]
                : []),
            ],
          },
          tags: [
            { key: "Project", value: PROJECT },
            { key: "Environment", value: "dev-workers" },
          ],
        };
      case "RegisterTaskDefinition":
        return { taskDefinition: { ...command.input, taskDefinitionArn: TD.replace(":7", ":8"), revision: 8 } };
      case "RunTask":
        return world.startFailure ? { tasks: [], failures: [{ reason: world.startFailure }] } : { tasks: [{ taskArn: TASK }] };
      case "DescribeTasks": {
        polls++;
        const done = stopped || polls > (world.runningPolls ?? 1);
        return {
          tasks: [
            done
              ? {
                  lastStatus: "STOPPED",
                  stoppedReason: stopped ? "timed out" : "Essential container in task exited",
                  containers: [
                    // The app container never starts when the migrate container failed: no exit code.
                    { name: "app", exitCode: world.migrate?.exitCode ? undefined : stopped ? 137 : (world.exitCode ?? 0) },
                    ...(world.migrate ? [{ name: "migrate", exitCode: world.migrate.exitCode }] : []),
                  ],
                }
              : { lastStatus: "RUNNING" },
          ],
        };
      }
      case "StopTask":
        stopped = true;
        return {};
      case "GetLogEvents": {
        if (world.logsDenied) throw Object.assign(new Error("not authorized"), { name: "AccessDeniedException" });
        if (String(command.input.logStreamName).startsWith("migrate/")) return migratePages[Math.min(migratePage++, migratePages.length - 1)];
        return logPages[Math.min(page++, logPages.length - 1)];
      }
      case "DeregisterTaskDefinition":
        return {};
    }
    throw new Error(`unexpected ${name}`);
  };
  const clients = { ecs: { send }, logs: { send }, scheduler: { send } } as unknown as TaskClients;
  let clock = 0;
  const out: string[] = [];
  const notes: string[] = [];
  const io = {
    line: (text: string) => out.push(text),
    note: (text: string) => notes.push(text),
    sleep: async (ms: number) => void (clock += ms),
    now: () => clock,
  };
  return { clients, io, calls, out, notes, input: (name: string) => calls.filter(([n]) => n === name).map(([, input]) => input) };
}

const args = (more: Partial<TaskArgs> = {}): TaskArgs => ({ env: "dev-workers", target: "api", release: false, environment: {}, ...more });
const service: TaskTarget = {
  kind: "service",
  cluster: `${PREFIX}`,
  service: `${PREFIX}`,
  region: REGION,
  repository: `${PREFIX}`,
};

describe("the command line", () => {
  test("options, then the environment and the target, then the container's command", () => {
    expect(parseTaskArgs(["--release", "--env", "MIGRATION_TIMEOUT_MS=600000", "--timeout", "30", "dev", "api", "dist/migrate.mjs"])).toEqual({
      env: "dev",
      target: "api",
      command: ["dist/migrate.mjs"],
      release: true,
      environment: { MIGRATION_TIMEOUT_MS: "600000" },
      timeoutMinutes: 30,
    });
    expect(parseTaskArgs(["dev", "nightly"])).toMatchObject({ env: "dev", target: "nightly", command: undefined, release: false });
  });

  test.each([[["dev"]], [["--env", "NOPE", "dev", "api"]], [["--timeout", "0", "dev", "api"]], [["--force", "dev", "api"]]])(
    "%j is refused with the usage",
    (argv) => {
      expect(() => parseTaskArgs(argv)).toThrow(/usage: npm run task --/);
    },
  );

  test("the target is the default API (api), a service or a job of the environment, by its names", () => {
    expect(resolveTarget(examples, "dev-workers", "api")).toMatchObject({ kind: "service", cluster: `${PREFIX}`, service: `${PREFIX}` });
    expect(resolveTarget(examples, "dev-workers", "worker")).toMatchObject({ kind: "service", service: `${PREFIX}-worker` });
    expect(resolveTarget(examples, "dev-workers", "nightly")).toMatchObject({
      kind: "job",
      group: `${PREFIX}`,
      schedule: `${PREFIX}-nightly`,
    });
    const { services, jobs } = parseSettings(VARIANT) as { services: object; jobs: object };
    const known = ["api", ...Object.keys(services), ...Object.keys(jobs)].join(", ");
    expect(() => resolveTarget(examples, "dev-workers", "billing")).toThrow(`no service or job "billing"; there are ${known}`);
    expect(() => resolveTarget(examples, "no-such-environment", "api")).toThrow(/no environment "no-such-environment"/);
  });
});

describe("a one-off task", () => {
  test("runs the service's task definition in its subnets and security group, on-demand, with the command; streams the logs; ends with the exit code", async () => {
    const f = fakes({ exitCode: 3, runningPolls: 2 });
    const code = await runOneOff(args({ command: ["dist/migrate.mjs"], environment: { LOG_LEVEL: "debug" } }), service, f.clients, f.io);
    expect(code).toBe(3);
    expect(f.input("RunTask")).toEqual([
      expect.objectContaining({
        cluster: `${PREFIX}`,
        taskDefinition: TD,
        count: 1,
        networkConfiguration: network,
        capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
        overrides: { containerOverrides: [{ name: "app", command: ["dist/migrate.mjs"], environment: [{ name: "LOG_LEVEL", value: "debug" }] }] },
      }),
    ]);
    expect(f.input("GetLogEvents")[0]).toMatchObject({
      logGroupName: "/ecs/${PREFIX}",
      logStreamName: "app/app/0123456789abcdef",
      startFromHead: true,
    });
    expect(f.out).toEqual(["migrations applied", "done"]);
    expect(f.notes.at(-1)).toMatch(/exit code 3$/);
    expect(f.input("StopTask")).toEqual([]);
  });

  test("a job runs as its schedule would: its task definition and network, read from EventBridge Scheduler", async () => {
    const f = fakes();
    const job: TaskTarget = {
      kind: "job",
      cluster: `${PREFIX}`,
      group: `${PREFIX}`,
      schedule: `${PREFIX}-nightly`,
      region: REGION,
      repository: `${PREFIX}`,
    };
    expect(await runOneOff(args({ target: "nightly" }), job, f.clients, f.io)).toBe(0);
    expect(f.input("GetSchedule")).toEqual([{ GroupName: `${PREFIX}`, Name: `${PREFIX}-nightly` }]);
    expect(f.input("RunTask")[0]).toMatchObject({
      taskDefinition: expect.stringContaining(`${PREFIX}-nightly:3`),
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"], securityGroups: ["sg-job"], assignPublicIp: "ENABLED" } },
      overrides: { containerOverrides: [{ name: "app" }] },
    });
  });

  test("a task that cannot start ends with 1, saying why", async () => {
    const f = fakes({ startFailure: "RESOURCE:ENI" });
    expect(await runOneOff(args(), service, f.clients, f.io)).toBe(1);
    expect(f.notes.join("\n")).toMatch(/did not start: .*RESOURCE:ENI/);
  });

  test("past --timeout the task is stopped and the command ends with 124", async () => {
    const f = fakes({ runningPolls: 1_000_000 });
    expect(await runOneOff(args({ timeoutMinutes: 1 }), service, f.clients, f.io)).toBe(124);
    expect(f.input("StopTask")).toEqual([expect.objectContaining({ task: TASK, reason: "timed out (npm run task)" })]);
  });

  test("logs it may not read are said once; the exit code still decides", async () => {
    const f = fakes({ logsDenied: true, exitCode: 0 });
    expect(await runOneOff(args(), service, f.clients, f.io)).toBe(0);
    expect(f.notes.filter((n) => n.startsWith("cannot read the task's logs"))).toHaveLength(1);
  });

  test("--release runs the recorded release before it is deployed: a revision with its image, tagged as the deployed one, deregistered after", async () => {
    const f = fakes();
    const release = { tag: "v2", digest: `sha256:${"b".repeat(64)}`, source: "releases/dev-workers.json" };
    expect(await runOneOff(args({ release: true, command: ["dist/migrate.mjs"] }), service, f.clients, f.io, release)).toBe(0);
    const [registered] = f.input("RegisterTaskDefinition");
    expect(registered.containerDefinitions[0].image).toBe(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${PREFIX}@sha256:${"b".repeat(64)}`);
    expect(registered.tags).toEqual([
      { key: "Project", value: PROJECT },
      { key: "Environment", value: "dev-workers" },
      { key: "OneOff", value: "npm run task" },
    ]);
    expect(f.input("RunTask")[0].taskDefinition).toBe(TD.replace(":7", ":8"));
    expect(f.input("DeregisterTaskDefinition")).toEqual([{ taskDefinition: TD.replace(":7", ":8") }]);
  });

  test("the API's migrate container: the release's image too, its logs first, and its failure is the command's", async () => {
    const f = fakes({ migrate: { exitCode: 0 } });
    const release = { tag: "v2", digest: `sha256:${"b".repeat(64)}`, source: "releases/dev-workers.json" };
    expect(await runOneOff(args({ release: true, command: ["dist/migrate.mjs"] }), service, f.clients, f.io, release)).toBe(0);
    const [registered] = f.input("RegisterTaskDefinition");
    expect(registered.containerDefinitions.map((c: { name: string; image: string }) => [c.name, c.image])).toEqual([
      ["app", `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${PREFIX}@sha256:${"b".repeat(64)}`],
      ["migrate", `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${PREFIX}@sha256:${"b".repeat(64)}`],
    ]);
    expect(f.out).toEqual(["app role granted the app's tables", "migrations applied", "done"]);

    const failed = fakes({ migrate: { exitCode: 1 } });
    expect(await runOneOff(args({ command: ["dist/migrate.mjs"] }), service, failed.clients, failed.io)).toBe(1);
    expect(failed.notes.join("\n")).toContain("the migrate container exited 1: the migrations failed, the app container did not start");
  });

  test("--release of the release already deployed runs the deployed revision", async () => {
    const f = fakes();
    expect(await runOneOff(args({ release: true }), service, f.clients, f.io, { digest: `sha256:${"a".repeat(64)}`, source: "x" })).toBe(0);
    expect(f.input("RegisterTaskDefinition")).toEqual([]);
  });

  test("the release's image replaces the tag or digest of the repository's", () => {
    expect(releaseImage("123.dkr.ecr.us-east-1.amazonaws.com/app:v1", { tag: "v2", source: "x" })).toBe("123.dkr.ecr.us-east-1.amazonaws.com/app:v2");
    expect(releaseImage(`123.dkr.ecr.us-east-1.amazonaws.com/app@sha256:${"a".repeat(64)}`, { tag: "v2", source: "x" })).toBe(
      "123.dkr.ecr.us-east-1.amazonaws.com/app:v2",
    );
  });
});
