import { TerraformStack, Testing } from "cdktf";
import { EncryptionKey } from "../../lib/core/encryption-key";
import { EnvironmentContext } from "../../lib/core/environment";
import { environments } from "../../environments/environments";
import { examples } from "../support/variants";
import { address, env, ref, resources, synth, type TfJson } from "../support/helpers";
import { testApp } from "../support/bare-stack";

/** The environment's KMS key: every log group encrypted with it, and a key policy that says who may use it. */
const policy = (tf: TfJson) => JSON.parse(environmentKey(tf).policy);
function environmentKey(tf: TfJson) {
  return resources(tf, "aws_kms_key").find((k) => String(k.description).endsWith(" environment key"))!;
}

describe.each([...environments, ...examples].map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  const tf = synth(settings);

  test("every log group is encrypted with the environment's key", () => {
    const arn = ref(tf, "aws_kms_key", environmentKey(tf), "arn");
    expect(resources(tf, "aws_cloudwatch_log_group").map((g) => [g.name, g.kms_key_id])).toEqual(
      resources(tf, "aws_cloudwatch_log_group").map((g) => [g.name, arn]),
    );
  });

  test("the image repository and the alarm topic are encrypted with the environment's key", () => {
    const arn = ref(tf, "aws_kms_key", environmentKey(tf), "arn");
    expect(resources(tf, "aws_ecr_repository").map((r) => r.encryption_configuration)).toEqual([[{ encryption_type: "KMS", kms_key: arn }]]);
    expect(resources(tf, "aws_sns_topic").map((t) => t.kms_master_key_id)).toEqual([arn]);
  });

  test("every KMS key rotates and has an explicit key policy", () => {
    for (const key of resources(tf, "aws_kms_key")) {
      expect([key.description, key.enable_key_rotation, typeof key.policy]).toEqual([key.description, true, "string"]);
    }
  });
});

describe("the key policy", () => {
  const tf = synth(env());
  const statements: any[] = policy(tf).Statement;

  test("only the account itself may administer the key (kms:*), through its IAM policies", () => {
    expect(statements.filter((s) => [s.Action].flat().includes("kms:*")).map((s) => s.Principal)).toEqual([
      { AWS: "arn:aws:iam::${data.aws_caller_identity.Account.account_id}:root" },
    ]);
  });

  test("CloudWatch Logs of the stack's region may use it only for the stack's own log groups, each by its exact ARN", () => {
    const logs = statements.find((s) => s.Principal?.Service === "logs.eu-west-1.amazonaws.com");
    const arns = resources(tf, "aws_cloudwatch_log_group").map(
      (g) => `arn:aws:logs:eu-west-1:\${data.aws_caller_identity.Account.account_id}:log-group:${g.name}`,
    );
    expect(Object.keys(logs.Condition)).toEqual(["ArnEquals"]);
    expect([...logs.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]].sort()).toEqual(arns.sort());
    for (const arn of arns) expect(arn).not.toMatch(/[*?]/);
  });

  test("without alarms it names no other principal: nothing else may use the key", () => {
    expect(policy(synth(env({ alarms: { enabled: false } }))).Statement.map((s: any) => s.Principal)).toEqual([
      { AWS: "arn:aws:iam::${data.aws_caller_identity.Account.account_id}:root" },
      { Service: "logs.eu-west-1.amazonaws.com" },
    ]);
  });

  test("in a partition other than aws, the ARNs name it", () => {
    const cn = policy(synth(env({ region: "cn-north-1", availabilityZones: ["cn-north-1a", "cn-north-1b"] })));
    expect(cn.Statement[0].Principal.AWS).toMatch(/^arn:aws-cn:iam::/);
  });
});

describe("settings", () => {
  test("the deletion window defaults to 30 days; dev shortens it to 7", () => {
    expect(environmentKey(synth(env())).deletion_window_in_days).toBe(30);
    expect(environmentKey(synth(environments.find((e) => e.name === "dev")!)).deletion_window_in_days).toBe(7);
  });

  test("a window KMS does not offer is refused at synth, naming the setting", () => {
    expect(() => synth(env({ encryption: { keyDeletionWindowDays: 45 } }))).toThrow(
      /Invalid setting encryption\.keyDeletionWindowDays = 45: .*Allowed: a whole number from 7 to 30/,
    );
  });
});

test("given a bare stack, when the key is built on its own, then its alias names the environment", () => {
  const stack = new TerraformStack(testApp(), "s");
  new EnvironmentContext(stack, { project: "shop", environment: "dev", region: "eu-west-1", accountId: "111122223333" });
  const key = new EncryptionKey(stack, "Key", { keyDeletionWindowDays: 7 });
  const tf = JSON.parse(Testing.synth(stack)) as TfJson;
  const [alias] = resources(tf, "aws_kms_alias");
  expect(alias).toMatchObject({ name: "alias/shop-dev", target_key_id: `\${${address(tf, "aws_kms_key", resources(tf, "aws_kms_key")[0])}.key_id}` });
  expect(key.accountId).toBe("111122223333");
});
