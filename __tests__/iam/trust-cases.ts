/**
 * Service trusts, as AWS documents them (issue 30, item 2): every role of the stack that an AWS service
 * assumes, in dev, prod and the variants with a worker, a job and EC2 capacity, evaluated as IAM would
 * (__tests__/iam/iam-world.ts) with the request that service really sends: its principal and the
 * `aws:SourceAccount` and `aws:SourceArn` its confused-deputy page says it presents. The request it
 * sends is allowed; the same request from another resource or another account, or by another service,
 * is denied.
 *
 * The roles are read from the synthesized Terraform, so a role added later is in the table at once;
 * its service must be one `SENDERS` knows (written from that service's page), or the table refuses it.
 * The emulator (moto) ignores trust conditions: this table is the only proof a trust admits its service.
 */
import { createHash } from "node:crypto";
import { ACCOUNT, Environment, evaluateAs, REPO, type Policy, type Resource } from "./iam-world";
import { examples } from "../support/variants";
import { synth } from "../support/helpers";

export type Outcome = "allow" | "deny";
type Context = Record<string, string>;

/** The worlds the table reads: dev and prod as deployed with CI access, and the variants with a worker, a job and EC2 capacity. */
export type TrustWorlds = Record<string, Environment>;

/** A variant of examples, with CI access as dev has it (the key of least-privilege.test.ts's EC2 world, so synth is cached once). */
function variantWorld(name: string): Environment {
  const settings = examples.find((x) => x.name === name);
  if (!settings) throw new Error(`no variant ${name} in __tests__/support/variants.ts`);
  return new Environment("dev", synth({ ...settings, ci: { githubRepository: REPO, workflows: ["release-dev.yml"] } }, { offline: true }));
}

export function trustWorlds(): TrustWorlds {
  return { dev: new Environment("dev"), prod: new Environment("prod"), "dev-workers": variantWorld("dev-workers"), "dev-ec2": variantWorld("dev-ec2") };
}

/** A role an AWS service assumes, with the resources of the stack that name it (its task definition, schedule, …). */
export interface ServiceRoleOf {
  readonly world: string;
  readonly env: Environment;
  /** Its Terraform name. */
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly trust: Policy;
  /** Resources that name the role, by type: `[type, terraform name, body]`. */
  readonly users: readonly [string, string, Record<string, any>][];
}

/** Every role of a world whose trust names a service principal. */
export function serviceRoles(world: string, env: Environment): ServiceRoleOf[] {
  return env.all("aws_iam_role").flatMap(([id, body]) => {
    const trust = env.policy(body.assume_role_policy);
    const services = trust.Statement.flatMap((s) => [s.Principal?.Service ?? []].flat() as string[]);
    if (!services.length) return [];
    if (services.length > 1) throw new Error(`${world}: ${body.name} trusts ${services.join(", ")}: one service a role`);
    const users = Object.entries(env.tf.resource).flatMap(([type, resources]) =>
      type.startsWith("aws_iam_")
        ? []
        : Object.entries(resources as Record<string, Record<string, any>>)
            .filter(([, b]) => JSON.stringify(b).includes(`\${aws_iam_role.${id}.`))
            .map(([name, b]) => [type, name, b] as [string, string, Record<string, any>]),
    );
    // An instance profile is the EC2 role's one user (IAM's own resource, so looked up by name).
    const profiles = env.all("aws_iam_instance_profile").filter(([, p]) => p.role === `\${aws_iam_role.${id}.name}`);
    return [
      {
        world,
        env,
        id,
        name: body.name as string,
        service: services[0],
        trust,
        users: [...users, ...profiles.map(([n, p]) => ["aws_iam_instance_profile", n, p] as [string, string, Record<string, any>])],
      },
    ];
  });
}

const OTHER_ACCOUNT = "210987654321";
const otherRegion = (region: string) => (region === "eu-west-1" ? "eu-central-1" : "eu-west-1");
const hex = (seed: string, length: number) => createHash("sha256").update(seed).digest("hex").slice(0, length);

/** The one resource of a type that names the role: what the service acts for when it assumes it. */
function user(role: ServiceRoleOf, type: string): [string, Record<string, any>] {
  const found = role.users.filter(([t]) => t === type);
  if (found.length !== 1) throw new Error(`${role.world}: ${role.name} is named by ${found.length} ${type}, the table expects one`);
  return [found[0][1], found[0][2]];
}

/** A request's source: the resource the service acts for, in an account. */
interface Source {
  readonly what: string;
  readonly context: Context;
}
const source = (what: string, account: string, arn?: string): Source => ({
  what,
  context: { "aws:SourceAccount": account, ...(arn ? { "aws:SourceArn": arn } : {}) },
});

/**
 * What a service presents when it assumes a role, as its confused-deputy page documents it: the request
 * for the resource of the stack that uses the role, the same request from another resource of the account
 * (none where the service scopes no further than the account), and from another account.
 */
interface Sender {
  /** The service, as a case names it. */
  readonly label: string;
  /** The page the trust follows (docs/security.md lists it). */
  readonly page: string;
  /** Whether the page documents conditions: where it does not, the trust has none, and another account's request is allowed (iam:PassRole guards the role). */
  readonly conditioned: boolean;
  readonly real: (role: ServiceRoleOf) => Source;
  readonly otherResource?: (role: ServiceRoleOf) => Source;
  readonly otherAccount: (role: ServiceRoleOf) => Source;
}

/** An ECS task's ARN, as ECS presents it for the task it starts. */
function ecsTask(role: ServiceRoleOf, region: string, account: string): string {
  const [, cluster] = role.env.one("aws_ecs_cluster");
  return `arn:aws:ecs:${region}:${account}:task/${cluster.name}/${hex(role.name, 32)}`;
}

const ecsTasks = (kind: "task" | "execution"): Sender => ({
  label: "ECS",
  page:
    kind === "task"
      ? '"Amazon ECS task IAM role", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html'
      : '"Amazon ECS task execution IAM role", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html',
  conditioned: kind === "task",
  real: (role) => {
    user(role, "aws_ecs_task_definition");
    return source("for a task of the environment's cluster", ACCOUNT, ecsTask(role, role.env.region, ACCOUNT));
  },
  // ECS scopes aws:SourceArn to the account and region, not to a cluster (its page): the other resource is another region's task.
  otherResource:
    kind === "task"
      ? (role) => source(`for a task of the account in ${otherRegion(role.env.region)}`, ACCOUNT, ecsTask(role, otherRegion(role.env.region), ACCOUNT))
      : undefined,
  otherAccount: (role) => source("for a task of another account", OTHER_ACCOUNT, ecsTask(role, role.env.region, OTHER_ACCOUNT)),
});

/** The services the stack's roles trust, each as its page documents what it sends. */
export const SENDERS: Record<string, (role: ServiceRoleOf) => Sender> = {
  "ecs-tasks.amazonaws.com": (role) => {
    // The task definition names the role as its task role or its execution role.
    const [, td] = user(role, "aws_ecs_task_definition");
    const ref = `\${aws_iam_role.${role.id}.arn}`;
    if (td.task_role_arn === ref) return ecsTasks("task");
    if (td.execution_role_arn === ref) return ecsTasks("execution");
    throw new Error(`${role.world}: ${role.name} is neither the task nor the execution role of its task definition`);
  },
  "scheduler.amazonaws.com": () => {
    // Scheduler presents the ARN of the schedule's group, never the schedule's own.
    const group = (role: ServiceRoleOf, account: string) => {
      const [, schedule] = user(role, "aws_scheduler_schedule");
      const m = /^\$\{aws_scheduler_schedule_group\.([A-Za-z0-9_]+)\.name\}$/.exec(schedule.group_name);
      if (!m) throw new Error(`${role.world}: ${role.name}'s schedule names its group as ${schedule.group_name}`);
      const name: string = role.env.tf.resource.aws_scheduler_schedule_group[m[1]].name;
      return { name, arn: `arn:aws:scheduler:${role.env.region}:${account}:schedule-group/${name}` };
    };
    return {
      label: "EventBridge Scheduler",
      page: '"Confused deputy prevention in EventBridge Scheduler", https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html',
      conditioned: true,
      real: (role) => source(`for a schedule of its group (${group(role, ACCOUNT).name})`, ACCOUNT, group(role, ACCOUNT).arn),
      otherResource: (role) =>
        source("for a schedule of the account's default group", ACCOUNT, `arn:aws:scheduler:${role.env.region}:${ACCOUNT}:schedule-group/default`),
      otherAccount: (role) => source("for a schedule of another account's group of that name", OTHER_ACCOUNT, group(role, OTHER_ACCOUNT).arn),
    };
  },
  "vpc-flow-logs.amazonaws.com": () => {
    const flowLog = (role: ServiceRoleOf, region: string, account: string) => {
      user(role, "aws_flow_log");
      return `arn:aws:ec2:${region}:${account}:vpc-flow-log/fl-${hex(role.name, 17)}`;
    };
    return {
      label: "VPC Flow Logs",
      page: '"IAM role for publishing flow logs to CloudWatch Logs", https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html',
      conditioned: true,
      real: (role) => source("for the VPC's flow log", ACCOUNT, flowLog(role, role.env.region, ACCOUNT)),
      otherResource: (role) =>
        source(`for a flow log of the account in ${otherRegion(role.env.region)}`, ACCOUNT, flowLog(role, otherRegion(role.env.region), ACCOUNT)),
      otherAccount: (role) => source("for a flow log of another account", OTHER_ACCOUNT, flowLog(role, role.env.region, OTHER_ACCOUNT)),
    };
  },
  "monitoring.rds.amazonaws.com": () => {
    const db = (role: ServiceRoleOf) => {
      const [name, body] = user(role, "aws_db_instance");
      return { arn: role.env.attribute("aws_db_instance", name, "arn"), identifier: body.identifier as string };
    };
    return {
      label: "RDS Enhanced Monitoring",
      page: '"Setting up and enabling Enhanced Monitoring", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html',
      conditioned: true,
      real: (role) => source(`for its database (${db(role).identifier})`, ACCOUNT, db(role).arn),
      otherResource: (role) =>
        source("for another database of the account (a restore under another name)", ACCOUNT, db(role).arn.replace(/db:(.*)$/, "db:$1-restored")),
      otherAccount: (role) => source("for a database of another account", OTHER_ACCOUNT, db(role).arn.replace(`:${ACCOUNT}:`, `:${OTHER_ACCOUNT}:`)),
    };
  },
  "ec2.amazonaws.com": () => ({
    label: "EC2",
    page: '"Amazon ECS container instance IAM role", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/instance_IAM_role.html',
    conditioned: false,
    // An instance assumes its profile's role: EC2 presents neither key.
    real: (role) => {
      user(role, "aws_iam_instance_profile");
      return { what: "for an instance of its instance profile (EC2 presents no source)", context: {} };
    },
    otherAccount: () => ({ what: "for an instance of another account", context: {} }),
  }),
};

export function senderOf(role: ServiceRoleOf): Sender {
  const sender = SENDERS[role.service];
  if (!sender)
    throw new Error(
      `${role.world}: ${role.name} trusts ${role.service}, which the trust table does not know: read that service's confused-deputy page and add it to SENDERS in __tests__/iam/trust-cases.ts`,
    );
  return sender(role);
}

export type TrustCaseKind = "real" | "otherResource" | "otherAccount" | "otherService";

export interface TrustCase {
  readonly world: string;
  /** The role's Terraform name, to find it again in a changed copy of the world. */
  readonly roleId: string;
  readonly kind: TrustCaseKind;
  readonly name: string;
  readonly expect: Outcome;
  readonly run: (worlds: TrustWorlds) => Outcome;
}

/** A role's trust asked by a service principal with a request context, in a (possibly changed) world. */
function assume(worlds: TrustWorlds, world: string, roleId: string, principal: string, context: Context): Outcome {
  const env = worlds[world];
  const body = env.tf.resource.aws_iam_role?.[roleId];
  if (!body) throw new Error(`${world}: no role ${roleId}`);
  const resource: Resource = { arn: env.attribute("aws_iam_role", roleId, "arn"), tags: env.tags, policy: env.policy(body.assume_role_policy) };
  return evaluateAs(principal, "sts:AssumeRole", resource, context);
}

/** The cases of one role: its service's real request, from another resource, from another account, and another service. */
export function casesOf(role: ServiceRoleOf): TrustCase[] {
  const sender = senderOf(role);
  const real = sender.real(role);
  const base = `${role.world}: ${role.name}`;
  const make = (kind: TrustCaseKind, name: string, expect: Outcome, principal: string, context: Context): TrustCase => ({
    world: role.world,
    roleId: role.id,
    kind,
    name: `${base} by ${name}`,
    expect,
    run: (worlds) => assume(worlds, role.world, role.id, principal, context),
  });
  const other = sender.otherResource?.(role);
  const elsewhere = sender.otherAccount(role);
  // Lambda stands for any other service: a trust names one.
  const otherService = role.service === "lambda.amazonaws.com" ? "events.amazonaws.com" : "lambda.amazonaws.com";
  return [
    make("real", `${sender.label} ${real.what}`, "allow", role.service, real.context),
    ...(other ? [make("otherResource", `${sender.label} ${other.what}`, "deny", role.service, other.context)] : []),
    make(
      "otherAccount",
      `${sender.label} ${elsewhere.what}${sender.conditioned ? "" : " (allowed: its page documents no condition; iam:PassRole keeps it in the account)"}`,
      sender.conditioned ? "deny" : "allow",
      role.service,
      elsewhere.context,
    ),
    make("otherService", `${otherService.split(".")[0]} (another service) with the same request`, "deny", otherService, real.context),
  ];
}

/** Every service role of every world, and its cases. */
export function trustCases(worlds: TrustWorlds): TrustCase[] {
  return Object.entries(worlds).flatMap(([world, env]) => serviceRoles(world, env).flatMap(casesOf));
}

/** The pages the trusts follow, each with the services and roles (by their name's end) that follow it and whether it documents conditions (docs/security.md lists them). */
export function trustPages(worlds: TrustWorlds): Map<string, { services: Set<string>; conditioned: boolean }> {
  const pages = new Map<string, { services: Set<string>; conditioned: boolean }>();
  for (const [world, env] of Object.entries(worlds))
    for (const role of serviceRoles(world, env)) {
      const s = senderOf(role);
      const entry = pages.get(s.page) ?? { services: new Set<string>(), conditioned: s.conditioned };
      entry.services.add(role.service);
      pages.set(s.page, entry);
    }
  return pages;
}
