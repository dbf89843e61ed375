/**
 * Least privilege of the roles issue 23 adds, evaluated as IAM would (helper's evaluator of issue
 * "Least privilege", __tests__/iam/iam-world.ts): dev with CI access, a queue-fed worker the API publishes to,
 * and a nightly job; prod as shipped stands for "another environment". Each case is a request by a role
 * of the stack, expecting allow or deny.
 */
import { CI_ENVIRONMENTS, ACCOUNT, Environment, evaluate, evaluateAs, type Resource, type Role } from "./iam-world";
import { synth, type TfJson } from "../support/helpers";
import { parseSettings } from "../../lib/settings/environment/schema";

const settings = {
  ...CI_ENVIRONMENTS.dev,
  // The worker and the job read the database: a fork's dev without one gets it back here.
  database: { ...CI_ENVIRONMENTS.dev.database, enabled: true },
  services: {
    worker: { task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] }, database: true, queue: { publishers: ["api"] } },
  },
  jobs: { nightly: { schedule: "cron(30 3 * * ? *)", timezone: "Europe/Berlin", task: { command: ["dist/housekeeping.mjs"] }, database: true } },
};

/**
 * The evaluator fills in the references it knows; a queue's are filled in here the way AWS would name
 * them (its ARN and URL from its name).
 */
const REGION = parseSettings(CI_ENVIRONMENTS.dev).region;

function withQueues(tf: TfJson): TfJson {
  const text = JSON.stringify(tf).replace(/\$\{aws_sqs_queue\.([A-Za-z0-9_]+)\.(arn|url|name)\}/g, (_, id: string, attr: string) => {
    const name: string = tf.resource.aws_sqs_queue[id].name;
    return attr === "arn" ? `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}` : attr === "url" ? `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}` : name;
  });
  return JSON.parse(text);
}

const dev = new Environment("dev", withQueues(synth(settings, { offline: true })));
const prod = new Environment("prod");
const tags = dev.tags;
const queue = (name: string, env = dev): Resource => ({ arn: `arn:aws:sqs:${env.region}:${ACCOUNT}:${name}`, tags: env.tags });
const workerQueue = queue(`${dev.prefix}-worker`);
const prodQueue = queue(`${prod.prefix}-worker`, prod);
const envKey: Resource = dev.resource("aws_kms_key", (k) => k.description === `${dev.prefix} environment key`);
const viaSqs = { "kms:ViaService": `sqs.${dev.region}.amazonaws.com` };
const cluster = `arn:aws:ecs:${dev.region}:${ACCOUNT}:cluster/${dev.prefix}`;
const taskDefinition = (family: string, revision = 7): Resource => ({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`, tags });
const roleOf = (suffix: string): Resource => ({ arn: dev.role(suffix).arn, tags });
const ci = () => dev.role("ci-deploy");
const written = (): Role => ({
  name: `${dev.prefix}-x`,
  arn: `arn:aws:iam::${ACCOUNT}:role/${dev.prefix}-x`,
  trust: { Version: "2012-10-17", Statement: [] },
  policies: [{ name: "Everything", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
  boundary: dev.boundary(),
});
const schedule = (group: string, name: string) => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`;
const scheduleGroup = (group: string) => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${group}`;

type Case = [name: string, expected: "allow" | "deny", run: () => Promise<"allow" | "deny"> | "allow" | "deny"];
const ask = (role: Role, action: string, resource: Resource | string, context?: Record<string, string | string[]>) =>
  evaluate({ principal: role, action, resource, context });

const CASES: Case[] = [
  // The worker's task role: its queue, to consume.
  ["the worker receives from its queue", "allow", () => ask(dev.role("worker-task"), "sqs:ReceiveMessage", workerQueue)],
  ["the worker deletes a message it handled", "allow", () => ask(dev.role("worker-task"), "sqs:DeleteMessage", workerQueue)],
  ["the worker returns a message (visibility)", "allow", () => ask(dev.role("worker-task"), "sqs:ChangeMessageVisibility", workerQueue)],
  ["the worker decrypts its messages with the environment's key through SQS", "allow", () => ask(dev.role("worker-task"), "kms:Decrypt", envKey, viaSqs)],
  ["the worker decrypts with the environment's key directly", "deny", () => ask(dev.role("worker-task"), "kms:Decrypt", envKey)],
  ["the worker sends to its own queue (it consumes, it does not publish)", "deny", () => ask(dev.role("worker-task"), "sqs:SendMessage", workerQueue)],
  ["the worker reads its dead-letter queue", "deny", () => ask(dev.role("worker-task"), "sqs:ReceiveMessage", queue(`${dev.prefix}-worker-dlq`))],
  ["the worker purges its queue", "deny", () => ask(dev.role("worker-task"), "sqs:PurgeQueue", workerQueue)],
  ["the worker deletes its queue", "deny", () => ask(dev.role("worker-task"), "sqs:DeleteQueue", workerQueue)],
  ["the worker receives from prod's queue", "deny", () => ask(dev.role("worker-task"), "sqs:ReceiveMessage", prodQueue)],
  // The publisher (the default API): send only.
  ["the API, a publisher, sends to the worker's queue", "allow", () => ask(dev.role("task"), "sqs:SendMessage", workerQueue)],
  ["the API makes the data key to send encrypted", "allow", () => ask(dev.role("task"), "kms:GenerateDataKey", envKey, viaSqs)],
  ["the API receives from the worker's queue", "deny", () => ask(dev.role("task"), "sqs:ReceiveMessage", workerQueue)],
  ["the API deletes a message of the worker's queue", "deny", () => ask(dev.role("task"), "sqs:DeleteMessage", workerQueue)],
  ["the API sends to prod's queue", "deny", () => ask(dev.role("task"), "sqs:SendMessage", prodQueue)],
  ["the job, not a publisher, sends to the worker's queue", "deny", () => ask(dev.role("nightly-task"), "sqs:SendMessage", workerQueue)],
  // The scheduler's role: run that task definition in that cluster, pass its roles.
  [
    "the scheduler runs the job's task definition in the cluster",
    "allow",
    () => ask(dev.role("nightly-scheduler"), "ecs:RunTask", taskDefinition(`${dev.prefix}-nightly`), { "ecs:cluster": cluster }),
  ],
  [
    "the scheduler runs the API's task definition",
    "deny",
    () => ask(dev.role("nightly-scheduler"), "ecs:RunTask", taskDefinition(`${dev.prefix}`), { "ecs:cluster": cluster }),
  ],
  [
    "the scheduler runs the job's task definition in another cluster",
    "deny",
    () =>
      ask(dev.role("nightly-scheduler"), "ecs:RunTask", taskDefinition(`${dev.prefix}-nightly`), {
        "ecs:cluster": `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${prod.prefix}`,
      }),
  ],
  [
    "the scheduler passes the job's task role to ECS tasks",
    "allow",
    () => ask(dev.role("nightly-scheduler"), "iam:PassRole", roleOf("nightly-task"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
  ],
  [
    "the scheduler passes the job's execution role to ECS tasks",
    "allow",
    () => ask(dev.role("nightly-scheduler"), "iam:PassRole", roleOf("nightly-execution"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
  ],
  [
    "the scheduler passes the API's task role",
    "deny",
    () => ask(dev.role("nightly-scheduler"), "iam:PassRole", roleOf("task"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
  ],
  [
    "the scheduler passes the job's task role to Lambda",
    "deny",
    () => ask(dev.role("nightly-scheduler"), "iam:PassRole", roleOf("nightly-task"), { "iam:PassedToService": "lambda.amazonaws.com" }),
  ],
  ["the scheduler stops a task", "deny", () => ask(dev.role("nightly-scheduler"), "ecs:StopTask", `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${dev.prefix}/abc`)],
  // Who may assume the scheduler's role.
  [
    // Scheduler presents the schedule's group as aws:SourceArn, never the schedule (issue 30).
    "EventBridge Scheduler assumes it for a schedule of the environment's group",
    "allow",
    () =>
      evaluateAs(
        "scheduler.amazonaws.com",
        "sts:AssumeRole",
        dev.resource("aws_iam_role", (r) => r.name === `${dev.prefix}-nightly-scheduler`),
        {
          "aws:SourceAccount": ACCOUNT,
          "aws:SourceArn": scheduleGroup(`${dev.prefix}`),
        },
      ),
  ],
  [
    "EventBridge Scheduler assumes it for a schedule of another group",
    "deny",
    () =>
      evaluateAs(
        "scheduler.amazonaws.com",
        "sts:AssumeRole",
        dev.resource("aws_iam_role", (r) => r.name === `${dev.prefix}-nightly-scheduler`),
        {
          "aws:SourceAccount": ACCOUNT,
          "aws:SourceArn": scheduleGroup("default"),
        },
      ),
  ],
  [
    "ECS tasks assume the scheduler's role",
    "deny",
    () =>
      evaluateAs(
        "ecs-tasks.amazonaws.com",
        "sts:AssumeRole",
        dev.resource("aws_iam_role", (r) => r.name === `${dev.prefix}-nightly-scheduler`),
        {
          "aws:SourceAccount": ACCOUNT,
        },
      ),
  ],
  // The deploy role, for what the new constructs need of it.
  [
    // The queue holds messages: the administrator's (docs/security.md, "Two kinds of change").
    "the deploy role creates the queue, tagged",
    "deny",
    () => ask(ci(), "sqs:CreateQueue", workerQueue.arn, { "aws:RequestTag/Project": dev.project, "aws:RequestTag/Environment": "dev" }),
  ],
  ["the deploy role creates a queue without the environment's tags", "deny", () => ask(ci(), "sqs:CreateQueue", workerQueue.arn)],
  ["the deploy role changes prod's queue", "deny", () => ask(ci(), "sqs:SetQueueAttributes", prodQueue)],
  ["the deploy role reads the worker's messages", "deny", () => ask(ci(), "sqs:ReceiveMessage", workerQueue)],
  ["the deploy role writes the job's schedule", "allow", () => ask(ci(), "scheduler:UpdateSchedule", schedule(`${dev.prefix}`, `${dev.prefix}-nightly`))],
  [
    "the deploy role writes a schedule outside the environment's group",
    "deny",
    () => ask(ci(), "scheduler:CreateSchedule", schedule("default", `${dev.prefix}-nightly`)),
  ],
  [
    "the deploy role hands the scheduler's role to EventBridge Scheduler",
    "allow",
    () => ask(ci(), "iam:PassRole", roleOf("nightly-scheduler"), { "iam:PassedToService": "scheduler.amazonaws.com" }),
  ],
  [
    "the deploy role hands the task role to EventBridge Scheduler",
    "deny",
    () => ask(ci(), "iam:PassRole", roleOf("task"), { "iam:PassedToService": "scheduler.amazonaws.com" }),
  ],
  // The boundary: a role the deploy role wrote (inline *:*) gets no more of queues and jobs than the workers have.
  [
    "a role it wrote with *:* receives from the environment's queue (no more than the worker)",
    "allow",
    () => ask(written(), "sqs:ReceiveMessage", workerQueue),
  ],
  ["a role it wrote with *:* purges the environment's queue", "deny", () => ask(written(), "sqs:PurgeQueue", workerQueue)],
  ["a role it wrote with *:* receives from prod's queue", "deny", () => ask(written(), "sqs:ReceiveMessage", prodQueue)],
  [
    "a role it wrote with *:* passes the deploy role to ECS tasks",
    "deny",
    () => ask(written(), "iam:PassRole", roleOf("ci-deploy"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
  ],
];

test.each(CASES)("%s: %s", async (_name, expected, run) => {
  expect(await run()).toBe(expected);
});

test("the cases can fail: a worker policy widened to every SQS action is caught sending, while the boundary still keeps it from prod's queue", async () => {
  const tf = structuredClone(dev.tf);
  const policy = Object.values(tf.resource.aws_iam_role_policy).find((p) => p.name === "Connections" && String(p.role).includes("WorkerTaskDefinition"))!;
  const doc = JSON.parse(policy.policy);
  doc.Statement.push({ Effect: "Allow", Action: "sqs:*", Resource: "*" });
  policy.policy = JSON.stringify(doc);
  const widened = new Environment("dev", tf);
  expect(await ask(widened.role("worker-task"), "sqs:SendMessage", workerQueue)).toBe("allow");
  expect(await ask(widened.role("worker-task"), "sqs:ReceiveMessage", prodQueue)).toBe("deny");
});
