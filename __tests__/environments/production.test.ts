/**
 * An environment marked production serves HTTPS only; the shipped prod carries a marked example domain
 * that a plan against AWS refuses (the terraform project proves the refusal by a real plan).
 */
import { AnnotationMetadataEntryType, Testing } from "cdktf";
import { isReservedDomain } from "../../lib/edge/load-balancer";
import { ApiStack } from "../../stacks/api-stack";
import { dev, prod } from "../../environments/environments";
import { env, resources, synth } from "../support/helpers";
import { testApp } from "../support/bare-stack";
import { emulatorTarget } from "../../emulator/mode";

const listeners = (tf: ReturnType<typeof synth>) => resources(tf, "aws_lb_listener");
const guarded = (tf: ReturnType<typeof synth>) => listeners(tf).filter((l) => l.lifecycle?.precondition);

describe("production: true", () => {
  test("given no certificate source, synth refuses, naming the setting and what is allowed", () => {
    expect(() => synth(env({ production: true }))).toThrow(
      "Invalid setting loadBalancer.https = undefined: the environment is marked production: true, which serves HTTPS only. Allowed: https with certificateArn (an existing ACM certificate), or domainName with hostedZoneId (a new DNS-validated certificate).",
    );
  });

  test("prod is marked production and serves HTTPS, its port 80 only redirecting to it", () => {
    expect(prod.production).toBe(true);
    const tf = synth(prod, { offline: true });
    expect(
      listeners(tf)
        .map((l) => [l.port, l.protocol, l.default_action[0].type])
        .sort(),
    ).toEqual([
      [443, "HTTPS", "forward"],
      [80, "HTTP", "redirect"],
    ]);
  });

  test("dev is not: a sandbox may serve plain HTTP", () => {
    expect(dev.production ?? false).toBe(false);
  });
});

/**
 * prod ships with the marked example domain; a fork that set its own domain or certificate (docs/forking.md's
 * recipe) is tested on prod with the example put back, so these tests follow whichever prod they find.
 */
const https = prod.loadBalancer?.https;
const shipsExample = https?.domainName !== undefined && isReservedDomain(https.domainName);
const exampled = shipsExample
  ? prod
  : { ...prod, loadBalancer: { ...prod.loadBalancer, https: { domainName: "api.example.com", hostedZoneId: "Z0EXAMPLE0REPLACEME0" } } };
const exampleDomain = exampled.loadBalancer!.https!.domainName!;
const escaped = exampleDomain.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("the shipped example domain", () => {
  test("reserved names are recognized: example.com/.net/.org and the .example, .test, .invalid, .localhost domains", () => {
    for (const domain of ["api.example.com", "example.org", "a.b.example.net", "api.example", "shop.test", "x.invalid", "app.localhost"]) {
      expect([domain, isReservedDomain(domain)]).toEqual([domain, true]);
    }
    for (const domain of ["api.acme.com", "example.company.com", "myexample.com", "api.testing.io"]) {
      expect([domain, isReservedDomain(domain)]).toEqual([domain, false]);
    }
  });

  test("prod is guarded while it carries one, so it cannot be deployed by accident, and not once it has the team's own", () => {
    expect(guarded(synth(prod))).toHaveLength(shipsExample ? 1 : 0);
  });

  test("a plan against AWS fails on it: the HTTPS listener's precondition says what to set", () => {
    const [listener] = guarded(synth(exampled));
    expect(listener.lifecycle.precondition).toEqual([
      {
        condition: expect.stringMatching(new RegExp(`^\\$\\{local\\.\\w+ != "${escaped}"\\}$`)),
        error_message: expect.stringMatching(
          new RegExp(
            `^${exampled.name}: loadBalancer\\.https\\.domainName = "${escaped}" is a reserved example domain.*Allowed: your own domain .*environments/environments\\.ts\\.$`,
          ),
        ),
      },
    ]);
  });

  test("offline and on the emulator nothing refuses it: no domain is served there", () => {
    expect(guarded(synth(exampled, { offline: true }))).toEqual([]);
    expect(guarded(synth(exampled, { target: emulatorTarget("http://127.0.0.1:4566") }))).toEqual([]);
  });

  test("synth warns, so every cdktf command shows it, yet still writes every stack: dev deploys while prod shows the example", () => {
    const stack = new ApiStack(testApp(), exampled.name, exampled);
    expect(Testing.synth(stack)).toBeTruthy();
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data)));
    expect(warnings.filter((w) => w.includes("reserved example domain"))).toEqual([
      expect.stringMatching(/reserved example domain.*Planning this stack against AWS fails until then\.$/),
    ]);
  });

  test("your own domain is not guarded", () => {
    const tf = synth({ ...prod, loadBalancer: { ...prod.loadBalancer, https: { domainName: "api.acme.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" } } });
    expect(guarded(tf)).toEqual([]);
  });
});
