/**
 * The lifecycle can fail: a deliberately broken stack, with a perpetual diff and a resource that
 * outlives destroy, run through the same harness, must be caught on both counts; and the emulator
 * refuses what AWS refuses where this project patched it to (emulator/moto_server.py).
 */
import { resolve } from "node:path";
import { Construct } from "constructs";
import { Fn, LocalBackend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { BACKGROUND_NICENESS, LifecycleResult, runLifecycle, TerraformWorkspace } from "../../emulator/lifecycle";
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { checkEmulatorInstalled, startEmulator, type Emulator } from "../../emulator/server";
import { terraformVersion } from "../../scripts/offline-plan";
import { emulatorProviderConfig } from "../../emulator/mode";
import { clientConfig, unseenKinds } from "../../emulator/inventory";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";

const skip = ["1", "true"].includes(process.env.SKIP_EMULATOR_TESTS ?? "");

/** Two classic mistakes: a tag that changes on every plan, and a log group that destroy keeps. */
class BrokenStack extends TerraformStack {
  constructor(scope: Construct, url: string) {
    super(scope, "broken");
    new AwsProvider(this, "Aws", { region: "us-east-1", ...emulatorProviderConfig(url) });
    new LocalBackend(this, { path: "broken.tfstate" });
    new CloudwatchLogGroup(this, "Kept", {
      name: "/broken/kept",
      skipDestroy: true,
      tags: { DeployedAt: Fn.timestamp() },
    });
  }
}

(skip ? describe.skip : describe)("the lifecycle harness", () => {
  let result: LifecycleResult;

  beforeAll(
    async () => {
      terraformVersion();
      checkEmulatorInstalled();
      result = await runLifecycle(
        {
          name: "broken",
          region: "us-east-1",
          steps: [
            { name: "deploy", action: "apply", stack: (app, { url }) => new BrokenStack(app, url) },
            { name: "plan again", action: "replan" },
            { name: "destroy", action: "destroy" },
          ],
        },
        new TerraformWorkspace(resolve(".emulator", "jest-harness")),
        { niceness: BACKGROUND_NICENESS }, // beside the lifecycle test: see runLifecycles
      );
    },
    5 * 60 * 1000,
  );

  test("given a perpetual diff, when the stack is planned again after apply, then the diff is reported", () => {
    expect(result.steps.find((s) => s.name === "plan again")?.unexpected).toEqual([
      expect.stringMatching(/^aws_cloudwatch_log_group\.Kept(_\w+)?: update .*\btags\b/),
    ]);
  });

  test("given a resource that outlives destroy, when the stack is destroyed, then it is reported as left behind", () => {
    expect(result.steps.find((s) => s.name === "destroy")?.leftovers).toEqual(["logs log-group /broken/kept"]);
  });

  test("and the lifecycle as a whole fails", () => {
    expect(result.ok).toBe(false);
  });
});

(skip ? describe.skip : describe)("the emulator refuses what EC2 refuses", () => {
  let emulator: Emulator;
  let ec2: EC2Client;
  beforeAll(async () => {
    emulator = await startEmulator();
    ec2 = new EC2Client({ region: "us-east-1", endpoint: emulator.url, credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" } });
  }, 60_000);
  afterAll(() => emulator?.stop());

  test("a security group or rule description outside EC2's character set, as AWS answers mid-apply", async () => {
    const { Vpcs } = await ec2.send(new DescribeVpcsCommand({}));
    const VpcId = Vpcs![0].VpcId!;
    await expect(ec2.send(new CreateSecurityGroupCommand({ GroupName: "bad", Description: "the service's port", VpcId }))).rejects.toThrow(
      /Invalid security group description/,
    );
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "good", Description: "the service port", VpcId }));
    const rule = (Description: string) =>
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "10.0.0.0/16", Description }] }],
        }),
      );
    await expect(rule("from the service's tasks")).rejects.toThrow(/Invalid rule description/);
    await expect(rule("from the service tasks")).resolves.toBeDefined();
  });
});

(skip ? describe.skip : describe)("the lifecycle's check that each kind's inventory sees what it made", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  }, 60_000);
  afterAll(() => emulator?.stop());

  test("names a kind the stack made but its inventory cannot find, and stops naming it once one exists", async () => {
    const types = ["aws_sqs_queue", "aws_security_group"];
    // A fresh emulator: its default VPC's groups are AWS's, so neither kind sees anything of a stack.
    expect((await unseenKinds(emulator.url, "us-east-1", types)).sort()).toEqual([
      "lib/core/security-group.ts (security groups)",
      "lib/workers/queue.ts (SQS queues)",
    ]);
    await new SQSClient(clientConfig(emulator.url, "us-east-1")).send(new CreateQueueCommand({ QueueName: "seen" }));
    const after = await unseenKinds(emulator.url, "us-east-1", types);
    expect(after).toEqual(["lib/core/security-group.ts (security groups)"]);
  });
});
