#!/usr/bin/env node
/**
 * After `cdktf deploy`, proves the release is what the service runs, from ECS itself:
 *
 *   node scripts/verify-rollout.cjs --cluster C --service S --region R --image <repo>@sha256:… [--timeout-seconds 900]
 *
 * Terraform's exit code is not enough: when the deployment circuit breaker rolls a bad release back,
 * the apply still succeeds (terraform-provider-aws #19519) and the service quietly runs the previous
 * task definition. So this reads `aws ecs describe-services`: the PRIMARY deployment must run the
 * release's image and reach rolloutState COMPLETED; FAILED, a rollback, or another image fails the job.
 */
const { execFileSync } = require("node:child_process");

/**
 * The verdict on one reading of the service. `image` is the app container's image in the PRIMARY
 * deployment's task definition. Pure, so every case is tested with recorded shapes of the ECS API.
 * @returns {{ state: "completed" | "failed" | "pending", message: string }}
 */
function judgeRollout(service, image, expectedImage) {
  if (!service || service.status !== "ACTIVE") {
    return { state: "failed", message: `the service is ${service ? service.status : "missing"}, not ACTIVE` };
  }
  const deployments = service.deployments || [];
  const primary = deployments.find((d) => d.status === "PRIMARY");
  if (!primary) return { state: "failed", message: "the service has no PRIMARY deployment" };
  const failed = deployments.find((d) => d.rolloutState === "FAILED");
  if (image !== expectedImage) {
    const why = failed
      ? `the deployment circuit breaker rolled the release back (${failed.rolloutStateReason || "deployment failed"})`
      : "another deployment replaced the release";
    return { state: "failed", message: `the service runs ${image}, not the release ${expectedImage}: ${why}` };
  }
  if (primary.rolloutState === "FAILED") {
    return { state: "failed", message: `the release's deployment failed: ${primary.rolloutStateReason || "no reason given"}` };
  }
  if (primary.rolloutState === "COMPLETED") {
    return { state: "completed", message: `${expectedImage} is rolled out: ${primary.runningCount}/${primary.desiredCount} tasks running` };
  }
  return { state: "pending", message: `rollout ${primary.rolloutState || "IN_PROGRESS"}: ${primary.runningCount}/${primary.desiredCount} tasks running` };
}

function aws(args) {
  return JSON.parse(execFileSync("aws", [...args, "--output", "json"], { encoding: "utf8" }));
}

function parseArgs(argv) {
  const options = { "timeout-seconds": "900" };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) throw new Error(`unexpected argument ${argv[i]}`);
    options[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ["cluster", "service", "region", "image"]) {
    if (!options[required]) throw new Error(`--${required} is required`);
  }
  return options;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + Number(o["timeout-seconds"]) * 1000;
  for (;;) {
    const service = aws(["ecs", "describe-services", "--region", o.region, "--cluster", o.cluster, "--services", o.service]).services[0];
    const primary = (service?.deployments || []).find((d) => d.status === "PRIMARY");
    const image = primary
      ? aws(["ecs", "describe-task-definition", "--region", o.region, "--task-definition", primary.taskDefinition]).taskDefinition.containerDefinitions.find(
          (c) => c.name === "app",
        )?.image
      : undefined;
    const verdict = judgeRollout(service, image, o.image);
    console.log(`${new Date().toISOString()} ${verdict.state}: ${verdict.message}`);
    if (verdict.state === "completed") return;
    if (verdict.state === "failed") process.exit(1);
    if (Date.now() > deadline) {
      console.error(`the rollout did not complete within ${o["timeout-seconds"]} s`);
      process.exit(1);
    }
    await new Promise((done) => setTimeout(done, 15_000));
  }
}

module.exports = { judgeRollout };
if (require.main === module) {
  main().catch((error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
