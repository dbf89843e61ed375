/**
 * Emulator mode: the same stacks, deployed to a local AWS API emulator (moto) instead of an account.
 * Switched on by one variable, `AWS_EMULATOR_URL=http://127.0.0.1:<port>` (`npm run emulator` sets it).
 *
 * What differs from a real deploy is only here: the provider's endpoints, dummy credentials, path-style
 * S3 and a local state file of its own. Every resource is synthesized exactly as it ships.
 */
import { check } from "../lib/settings/validate";

/** Every AWS API the stacks call, by the provider's endpoint key. A service missing here would reach AWS. */
export const EMULATED_SERVICES = [
  "acm",
  "appautoscaling",
  "autoscaling",
  "budgets",
  "cloudwatch",
  "ec2",
  "ecr",
  "ecs",
  "elbv2",
  "events",
  "iam",
  "kms",
  "logs",
  "rds",
  "route53",
  "s3",
  "scheduler",
  "secretsmanager",
  "sns",
  "sqs",
  "ssm",
  "sts",
  "wafv2",
] as const;

/**
 * Provider settings for emulator mode. Credentials are dummies, so a mistyped endpoint can never act on
 * a real account; moto accepts any key.
 */
export function emulatorProviderConfig(url: string) {
  check(
    /^http:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):\d{1,5}\/?$/.test(url),
    "AWS_EMULATOR_URL",
    url,
    "not a loopback URL; emulator mode only talks to an emulator on this machine",
    'a URL such as "http://127.0.0.1:5000"',
  );
  const endpoint = url.replace(/\/$/, "");
  return {
    accessKey: "emulator",
    secretKey: "emulator",
    // moto serves every service on one port; S3 must not use a bucket subdomain of 127.0.0.1.
    s3UsePathStyle: true,
    skipMetadataApiCheck: "true",
    endpoints: [Object.fromEntries(EMULATED_SERVICES.map((service) => [service, endpoint]))],
  };
}

/**
 * Where emulator stacks are synthesized: never `cdktf.out`, whose `cdk.tf.json` the docs' next commands
 * (`terraform -chdir=cdktf.out/stacks/<env> output`, infracost, a real deploy) read. `npm run synth` with
 * AWS_EMULATOR_URL writes here; a cdktf command needs `--output .emulator/cdktf.out` (main.ts refuses
 * emulator stacks in `cdktf.out`). The lifecycle synthesizes into folders of its own under `.emulator/lifecycle/`.
 */
export const EMULATOR_OUTDIR = ".emulator/cdktf.out";

/**
 * Why an emulator run must not write into `outdir`, or undefined: it is the project's `cdktf.out`.
 * Both absolute, or both relative to the project folder.
 */
export function emulatorOutdirProblem(outdir: string, projectOutdir: string): string | undefined {
  return outdir.replace(/\/+$/, "") === projectOutdir.replace(/\/+$/, "")
    ? `the emulator's stacks would replace ${projectOutdir}'s, which terraform -chdir=cdktf.out/stacks/<env>, infracost and the next deploy read`
    : undefined;
}

/**
 * State file for emulator deploys: beside the real local state but never the same file, so an emulator
 * run can never overwrite (or be mistaken for) the state of a real deployment. Relative to
 * `<outdir>/stacks/<env>`: `.emulator/terraform.<env>.tfstate` for stacks in `.emulator/cdktf.out`, and a
 * `.emulator/` beside any other output folder (the lifecycle's own, under `.emulator/lifecycle/<stack>/`).
 */
export function emulatorStatePath(environment: string, outdirUnderEmulator = false): string {
  return outdirUnderEmulator ? `../../../terraform.${environment}.tfstate` : `../../../.emulator/terraform.${environment}.tfstate`;
}

/**
 * What the emulator cannot do, and how the harness works around it: the one list of emulator-only
 * concessions. None changes the stacks; each lives in emulator/ (moto_server.py patches moto,
 * known-gaps.ts lists attributes a re-plan cannot compare, lifecycles.ts prepares what a variant needs),
 * and docs/emulator.md repeats it for users.
 */
export const EMULATOR_GAPS = {
  managedPolicies: "AWS-managed IAM policies exist in moto only when it starts with MOTO_IAM_LOAD_MANAGED_POLICIES=true; the harness sets it.",
  tasksNeverRun:
    "moto runs no containers: moto_server.py makes every ECS service report its desired count running, so wait_for_steady_state settles. No task pulls an image, reads a secret or answers a health check.",
  missingActions:
    "moto 5.2 lacks Application Auto Scaling tagging, DescribeCapacityProviders without names, and AWS Budgets' tagging, subscriber calls and UpdateBudget; moto_server.py adds them. Budgets never see a bill there: no alert fires.",
  storedDifferently:
    "moto 5.2 drops RDS monitoring settings and parameter sources and copies launch template tags into the template data; moto_server.py stores them as AWS does, so a re-plan is not a false diff.",
  queuesAndSchedules:
    "moto keeps but never returns an SQS queue's redrive-allow policy, and returns its redrive policy with spaces AWS does not write; moto_server.py returns both as AWS does. No schedule fires and no message moves a worker: scaling, runs and their alarms are proven by the plan and property tests.",
  unstoredAttributes: "Attributes moto does not store at all (emulator/known-gaps.ts, each with its reason) are not compared by the re-plan check.",
  oneEmulatorPerStack:
    "moto's generated RDS resource ids repeat across DB instances of one server, so two stacks on one emulator confuse the provider's waiters; the lifecycle starts one emulator per stack.",
  certificates:
    "moto issues DNS-validated ACM certificates after MOTO_ACM_VALIDATION_WAIT (1 s here) without any DNS; the harness creates the hosted zone prod names. Certificate validation is not proven.",
  waf: "moto stores web ACLs, their association and logging but inspects no request: which requests the rules block is AWS's managed rule groups' business, the rules' order and actions are proven by property tests.",
  iamNotEnforced:
    "moto does not evaluate IAM policies: least privilege is proven by the IAM evaluator (__tests__/iam/least-privilege.test.ts), not by the emulator.",
} as const;
