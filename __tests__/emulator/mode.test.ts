/** Emulator mode (AWS_EMULATOR_URL): only the provider and the state differ from what ships. */
import { dev, prod } from "../../environments/environments";
import { EMULATED_SERVICES, emulatorTarget, emulatorTargetFromEnv } from "../../emulator/mode";
import { runOptionsFromEnv } from "../../lib/settings/environment/settings";
import { examples } from "../support/variants";
import { env, synth } from "../support/helpers";
import { ResourceKind } from "../../lib/core/resource-kind";

const URL = "http://127.0.0.1:4599";

/** The provider endpoint each resource type calls. A new type fails here until it is mapped. */
const ENDPOINT_OF: Record<string, string> = {
  acm: "acm",
  appautoscaling: "appautoscaling",
  autoscaling: "autoscaling",
  budgets: "budgets",
  cloudwatch: "cloudwatch",
  db: "rds",
  default: "ec2",
  ecr: "ecr",
  ecs: "ecs",
  eip: "ec2",
  flow: "ec2",
  iam: "iam",
  internet: "ec2",
  kms: "kms",
  launch: "ec2",
  lb: "elbv2",
  nat: "ec2",
  route: "ec2",
  route53: "route53",
  s3: "s3",
  scheduler: "scheduler",
  sqs: "sqs",
  security: "ec2",
  sns: "sns",
  subnet: "ec2",
  vpc: "ec2",
  wafv2: "wafv2",
};

describe("emulator mode", () => {
  test("given AWS_EMULATOR_URL, the stacks' deployment target is the emulator; without it, none is given (AWS)", () => {
    expect(emulatorTargetFromEnv({ AWS_EMULATOR_URL: URL })).toMatchObject({ real: false, setting: { name: "AWS_EMULATOR_URL", value: URL } });
    expect(emulatorTargetFromEnv({})).toBeUndefined();
    expect(runOptionsFromEnv({ AWS_EMULATOR_URL: URL })).toEqual({ offline: false });
  });

  test("every AWS API that a resource of any environment calls points at the emulator", () => {
    for (const settings of [
      dev,
      prod,
      { ...dev, name: "ec2", network: { ...dev.network, natMode: "single" as const, endpoints: true }, compute: { mode: "ec2" as const } },
      // A worker's queues and a job's schedule (issue 23).
      examples.find((e) => e.name === "dev-workers")!,
    ]) {
      const tf = synth(settings, { target: emulatorTarget(URL) });
      const endpoints = tf.provider.aws[0].endpoints[0];
      for (const type of Object.keys(tf.resource)) {
        const key = type.replace(/^aws_/, "").split("_")[0];
        // Types named after CloudWatch belong to three APIs: logs, events (EventBridge) and cloudwatch.
        const byPrefix = Object.entries({ aws_route53_: "route53", aws_cloudwatch_log_: "logs", aws_cloudwatch_event_: "events" }).find(([p]) =>
          type.startsWith(p),
        );
        // A type this table does not know (a fork's own kind) by the endpoints its kind names.
        const service = byPrefix ? byPrefix[1] : (ENDPOINT_OF[key] ?? ResourceKind.of(type)?.endpoints[0]);
        expect({ type, service }).toEqual({ type, service: expect.any(String) });
        expect({ type, endpoint: endpoints[service] }).toEqual({ type, endpoint: URL });
      }
      expect(Object.keys(endpoints).sort()).toEqual([...EMULATED_SERVICES].sort());
    }
  });

  test("credentials are dummies and S3 is path-style", () => {
    const provider = synth(dev, { target: emulatorTarget(URL) }).provider.aws[0];
    expect(provider).toMatchObject({ access_key: "emulator", secret_key: "emulator", s3_use_path_style: true });
  });

  test("state goes to its own file, never the real local state", () => {
    const real = synth(dev).terraform.backend!.local.path;
    const emulated = synth(dev, { target: emulatorTarget(URL) }).terraform.backend!.local.path;
    expect(emulated).toBe("../../../.emulator/terraform.dev.tfstate");
    expect(emulated).not.toBe(real);
  });

  test("the resources are exactly what ships, but for the example-domain guard, which only a plan against AWS has", () => {
    for (const settings of [dev, prod]) {
      expect(synth(settings, { target: emulatorTarget(URL) }).resource).toEqual(synth(settings, { guardExampleDomains: false }).resource);
    }
  });

  test.each(["https://127.0.0.1:4566", "http://10.0.0.5:4566", "http://emulator.example.com:4566", "127.0.0.1:4566"])(
    "given a URL that is not plain HTTP on loopback (%s), synth refuses it",
    (url) => {
      expect(() => synth(env(), { target: emulatorTarget(url) })).toThrow(/AWS_EMULATOR_URL = .*not a loopback URL/);
    },
  );

  test("given both OFFLINE and AWS_EMULATOR_URL, synth refuses the ambiguity", () => {
    expect(() => synth(env(), { offline: true, target: emulatorTarget(URL) })).toThrow(/AWS_EMULATOR_URL .*OFFLINE is set too/);
  });
});
