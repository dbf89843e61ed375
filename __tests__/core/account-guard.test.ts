/**
 * The account guard: `accountId` becomes the AWS provider's `allowed_account_ids` for a deploy to AWS,
 * so credentials of another account stop the plan before it reads or changes anything (Terraform's
 * AWS provider documents the argument: "List of allowed AWS account IDs to prevent you from
 * mistakenly using an incorrect one"); an example account stops every plan against AWS with a message
 * naming the setting; offline and on the emulator nothing is guarded (no real account is asked).
 */
import { App } from "cdktf";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { environments } from "../../environments/environments";
import { EXAMPLE_ACCOUNT_IDS, isExampleAccount } from "../../lib/core/account-guard";
import { env, only, synth, type TfJson } from "../support/helpers";
import { ApiStack } from "../../stacks/api-stack";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { emulatorTarget } from "../../emulator/mode";

const REAL = "210987654321";
const provider = (tf: TfJson) => tf.provider.aws[0];
const vpcPreconditions = (tf: TfJson) => only(tf, "aws_vpc").lifecycle?.precondition ?? [];

test("a real account is the provider's only allowed account for a deploy to AWS", () => {
  const tf = synth(env({ accountId: REAL }));
  expect(provider(tf).allowed_account_ids).toEqual([REAL]);
  expect(vpcPreconditions(tf)).toEqual([]);
});

test.each([
  ["offline", { offline: true }],
  ["on the emulator", { target: emulatorTarget("http://127.0.0.1:4566") }],
])("%s, no account is guarded (none is asked, or the emulator's is fixed)", (_mode, options) => {
  const tf = synth(env({ accountId: REAL }), options);
  expect(provider(tf).allowed_account_ids).toBeUndefined();
  expect(vpcPreconditions(tf)).toEqual([]);
});

test("an example account fails every plan against AWS before anything is made, naming the setting and what to set", () => {
  const tf = synth(env({ accountId: EXAMPLE_ACCOUNT_IDS[1] }));
  expect(provider(tf).allowed_account_ids).toBeUndefined();
  expect(vpcPreconditions(tf)).toEqual([
    {
      condition: expect.stringMatching(/^\$\{local\.\w+ != "111122223333"\}$/),
      error_message: expect.stringMatching(
        /^test: accountId = "111122223333" is one of AWS's documentation accounts, .* Allowed: the account ID this environment deploys to/,
      ),
    },
  ]);
  // and the local it reads holds the setting, so the condition is false whatever the credentials
  const local = /local\.(\w+)/.exec(vpcPreconditions(tf)[0].condition)![1];
  expect((tf as unknown as { locals: Record<string, string> }).locals[local]).toBe("111122223333");
});

test("synth warns of an example account, and of a production environment without one", () => {
  const warnings = (settings: Parameters<typeof env>[0]) => {
    const outdir = mkdtempSync(join(tmpdir(), "account-guard-"));
    try {
      const app = new App({ outdir, stackTraces: false });
      new ApiStack(app, "test", env(settings), { offline: true });
      app.synth();
      const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8"));
      return (manifest.stacks.test.annotations ?? []).map((a: { message: string }) => a.message).filter((m: string) => m.includes("accountId"));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };
  expect(warnings({ accountId: "123456789012" })).toEqual([expect.stringMatching(/accountId = "123456789012" is one of AWS's documentation accounts/)]);
  expect(
    warnings({
      production: true,
      loadBalancer: { https: { certificateArn: "arn:aws:acm:eu-west-1:210987654321:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d" } },
    }),
  ).toEqual([expect.stringMatching(/^test: accountId is not set, so a deploy with another account's credentials would apply there\. Allowed: /)]);
  expect(warnings({ accountId: REAL })).toEqual([]);
});

test.each(["12345678901", "1234567890123", "12345678901a", ""])("refuses %j, naming the setting and what is allowed", (accountId) => {
  expect(() => synth(env({ accountId }))).toThrow(/^Invalid setting accountId = .*: not an AWS account ID\. Allowed: twelve digits/);
});

test("every shipped environment names its account or carries none; an example one is marked as such", () => {
  for (const settings of environments)
    if (settings.accountId !== undefined) expect([settings.name, /^\d{12}$/.test(settings.accountId)]).toEqual([settings.name, true]);
  expect(isExampleAccount("111122223333")).toBe(true);
  expect(isExampleAccount(REAL)).toBe(false);
});
