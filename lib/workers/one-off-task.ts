import type { IConstruct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";

/**
 * What the deploy role needs to run one-off tasks (`npm run task`, scripts/task.ts), as the release
 * pipeline does for migrations before a deploy: run the environment's task definitions in its cluster
 * only, tag them as ECS does on start, follow and stop its tasks, and read the logs of the task it
 * started (its stream in the environment's `/ecs/` log groups), so the job shows what the task printed.
 * Registering a revision with the recorded release's image is what deploying a task definition already
 * needs (lib/compute/task-definition.ts).
 */
export function grantOneOffTaskDeploy(scope: IConstruct): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  const prefix = deploy.prefix;
  const tasks = deploy.arn("ecs", `task/${prefix}/*`);
  deploy.allow([
    {
      Sid: "OneOffTasks",
      Action: "ecs:RunTask",
      Resource: [deploy.arn("ecs", `task-definition/${prefix}:*`), deploy.arn("ecs", `task-definition/${prefix}-*:*`)],
      Condition: { ArnEquals: { "ecs:cluster": deploy.arn("ecs", `cluster/${prefix}`) } },
    },
    { Sid: "OneOffTaskTags", Action: "ecs:TagResource", Resource: tasks, Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } } },
    { Sid: "OneOffTaskStatus", Action: ["ecs:DescribeTasks", "ecs:StopTask"], Resource: tasks },
    {
      Sid: "OneOffTaskLogs",
      Action: "logs:GetLogEvents",
      Resource: [deploy.arn("logs", `log-group:/ecs/${prefix}:log-stream:*`), deploy.arn("logs", `log-group:/ecs/${prefix}-*:log-stream:*`)],
    },
  ]);
}
