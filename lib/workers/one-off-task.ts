import type { IConstruct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { environmentRevisions } from "../compute/task-definition";

/**
 * What the deploy role needs to run one-off tasks (`npm run task`, scripts/task.ts), as the release
 * pipeline does for migrations before a deploy: run the environment's task definitions in its cluster
 * only, tag them as ECS does on start, follow them and stop them (never a service's task), and read the logs of the task it
 * started (its stream in the environment's `/ecs/` log groups), so the job shows what the task printed.
 * Registering a revision with the recorded release's image is what deploying a task definition already
 * needs (lib/compute/task-definition.ts).
 */
export function grantOneOffTaskDeploy(scope: IConstruct): void {
  // No resource of the stack: the calls of the release pipeline's migrations, before its deploy.
  const deploy = DeployPermissions.of(scope)?.release([]);
  if (!deploy) return;
  const prefix = deploy.prefix;
  const cluster = deploy.arn("ecs", `cluster/${prefix}`);
  const tasks = deploy.arn("ecs", `task/${prefix}/*`);
  deploy.allow([
    {
      Sid: "OneOffTasks",
      Action: "ecs:RunTask",
      Resource: environmentRevisions(deploy),
      Condition: { ArnEquals: { "ecs:cluster": cluster } },
    },
    { Sid: "OneOffTaskTags", Action: "ecs:TagResource", Resource: tasks, Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } } },
    { Sid: "OneOffTaskStatus", Action: "ecs:DescribeTasks", Resource: tasks },
    // Stopping only what no service owns: a service's task carries ECS's managed tag aws:ecs:serviceName
    // (every service sets enableEcsManagedTags; aws: tags cannot be set or removed by anyone), a task
    // started by RunTask or a schedule does not. StopTask evaluates ecs:cluster and aws:ResourceTag (AWS's
    // Service Authorization Reference, "Actions, resources, and condition keys for Amazon Elastic Container Service").
    {
      Sid: "OneOffTaskStop",
      Action: "ecs:StopTask",
      Resource: tasks,
      Condition: { ArnEquals: { "ecs:cluster": cluster }, Null: { "aws:ResourceTag/aws:ecs:serviceName": "true" } },
    },
    {
      Sid: "OneOffTaskLogs",
      Action: "logs:GetLogEvents",
      Resource: [deploy.arn("logs", `log-group:/ecs/${prefix}:log-stream:*`), deploy.arn("logs", `log-group:/ecs/${prefix}-*:log-stream:*`)],
    },
  ]);
  deploy.tags(["ecs:TagResource"]);
}
