import { Construct } from "constructs";
import { Connections, type IConnectable } from "../../lib/core/connections";
import { env, only, ref, resources, synth } from "../support/helpers";
import { resolved, testApp, testLoadBalancer } from "../support/bare-stack";
import { Testing, TerraformStack } from "cdktf";
import { TargetHealthCheckSettingsSchema } from "../../lib/edge/target-group";

const lbSgRules = (tf: ReturnType<typeof synth>, kind: "ingress" | "egress") => {
  const lbSg = resources(tf, "aws_security_group").find((g) => g.name.endsWith("-lb"))!;
  return resources(tf, `aws_vpc_security_group_${kind}_rule`).filter((r) => r.security_group_id === ref(tf, "aws_security_group", lbSg, "id"));
};
const https = { domainName: "api.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" };

describe("LoadBalancer", () => {
  test("is an internet-facing ALB in the public subnets that drops invalid headers", () => {
    const tf = synth(env());
    const lb = only(tf, "aws_lb");
    expect(lb).toMatchObject({ load_balancer_type: "application", internal: false, drop_invalid_header_fields: true, idle_timeout: 60 });
    expect(lb.subnets.every((id: string) => id.includes("Network_Public"))).toBe(true);
  });

  test("internal: in the private subnets", () => {
    const lb = only(synth(env({ loadBalancer: { internal: true } })), "aws_lb");
    expect(lb.internal).toBe(true);
    expect(lb.subnets.every((id: string) => id.includes("Network_Private"))).toBe(true);
  });

  test("deletion protection follows the setting", () => {
    expect(only(synth(env()), "aws_lb").enable_deletion_protection).toBe(false);
    expect(only(synth(env({ loadBalancer: { deletionProtection: true } })), "aws_lb").enable_deletion_protection).toBe(true);
  });

  test("deletion protection also refuses a destroy at plan time (prevent_destroy)", () => {
    expect(only(synth(env()), "aws_lb").lifecycle).toBeUndefined();
    expect(only(synth(env({ loadBalancer: { deletionProtection: true } })), "aws_lb").lifecycle).toEqual({ prevent_destroy: true });
  });

  test("admits only the configured CIDRs, on port 80 only without HTTPS", () => {
    const tf = synth(env({ loadBalancer: { allowedCidrs: ["203.0.113.0/24", "198.51.100.0/24"] } }));
    expect(lbSgRules(tf, "ingress").map((r) => [r.from_port, r.cidr_ipv4])).toEqual([
      [80, "203.0.113.0/24"],
      [80, "198.51.100.0/24"],
    ]);
  });

  test("may send traffic only to the tasks, on the container port", () => {
    const tf = synth(env());
    const tasksSg = resources(tf, "aws_security_group").find((g) => g.name.endsWith("-tasks"))!;
    expect(lbSgRules(tf, "egress")).toEqual([
      expect.objectContaining({ from_port: 8080, to_port: 8080, referenced_security_group_id: ref(tf, "aws_security_group", tasksSg, "id") }),
    ]);
  });

  test("target group of type ip with the configured health check and a short deregistration delay", () => {
    const tg = only(synth(env({ loadBalancer: { healthCheck: { path: "/ready", matcher: "200-299", intervalSeconds: 8 } } })), "aws_lb_target_group");
    expect(tg).toMatchObject({ target_type: "ip", port: 8080, protocol: "HTTP", deregistration_delay: "30" });
    expect(tg.health_check).toMatchObject({ path: "/ready", matcher: "200-299", interval: 8, timeout: 5, healthy_threshold: 2, unhealthy_threshold: 2 });
  });

  test("without a certificate, one HTTP listener forwards to the target group", () => {
    const tf = synth(env());
    expect(only(tf, "aws_lb_listener")).toMatchObject({
      port: 80,
      protocol: "HTTP",
      default_action: [{ type: "forward", target_group_arn: ref(tf, "aws_lb_target_group", only(tf, "aws_lb_target_group"), "arn") }],
    });
    expect(tf.output!.ServiceUrl.value).toMatch(/^http:\/\/\$\{aws_lb\./);
  });

  describe("with HTTPS", () => {
    test("HTTP redirects to HTTPS, and the HTTPS listener uses a TLS 1.3/1.2 policy", () => {
      const arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab";
      const tf = synth(env({ loadBalancer: { https: { certificateArn: arn } } }));
      const [redirect, secure] = resources(tf, "aws_lb_listener");
      expect(redirect).toMatchObject({
        port: 80,
        default_action: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", status_code: "HTTP_301" } }],
      });
      expect(secure).toMatchObject({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06", certificate_arn: arn });
      expect(
        lbSgRules(tf, "ingress")
          .map((r) => r.from_port)
          .sort(),
      ).toEqual([443, 80]);
      expect(tf.resource.aws_acm_certificate).toBeUndefined();
    });

    test("a domain and hosted zone get a DNS-validated certificate and an alias record", () => {
      const tf = synth(env({ loadBalancer: { https } }));
      expect(only(tf, "aws_acm_certificate")).toMatchObject({ domain_name: "api.example.com", validation_method: "DNS" });
      const validation = only(tf, "aws_acm_certificate_validation");
      expect(resources(tf, "aws_lb_listener")[1].certificate_arn).toBe(ref(tf, "aws_acm_certificate_validation", validation, "certificate_arn"));
      const alias = resources(tf, "aws_route53_record").find((r) => r.type === "A")!;
      expect(alias).toMatchObject({ zone_id: https.hostedZoneId, name: "api.example.com", alias: { evaluate_target_health: true } });
      expect(tf.output!.ServiceUrl.value).toBe("https://api.example.com");
    });
  });

  describe("access logs", () => {
    const tf = synth(env({ region: "eu-west-1", loadBalancer: { accessLogs: true, accessLogsExpiryDays: 30 } }));

    test("go to a bucket with public access blocked, SSE-S3 and expiry", () => {
      expect(only(tf, "aws_lb").access_logs).toEqual({ bucket: ref(tf, "aws_s3_bucket", only(tf, "aws_s3_bucket"), "id"), enabled: true });
      expect(only(tf, "aws_s3_bucket_public_access_block")).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      expect(only(tf, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
        { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
      ]);
      expect(only(tf, "aws_s3_bucket_lifecycle_configuration").rule[0].expiration).toEqual([{ days: 30 }]);
    });

    test("the bucket policy admits the region's ELB account and denies non-TLS access", () => {
      const policy = JSON.parse(only(tf, "aws_s3_bucket_policy").policy);
      expect(policy.Statement[0].Principal).toEqual({ AWS: "arn:aws:iam::156460612806:root" });
      // Only this account's load balancers' logs: ELB writes under AWSLogs/<account>/.
      expect(policy.Statement[0].Resource).toBe(
        `${ref(tf, "aws_s3_bucket", only(tf, "aws_s3_bucket"), "arn")}/AWSLogs/\${data.aws_caller_identity.Account.account_id}/*`,
      );
      expect(policy.Statement[1]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    });

    test("newer regions use the log delivery service principal", () => {
      const newer = synth(env({ region: "eu-south-2", availabilityZones: ["eu-south-2a", "eu-south-2b"], loadBalancer: { accessLogs: true } }));
      expect(JSON.parse(only(newer, "aws_s3_bucket_policy").policy).Statement[0].Principal).toEqual({
        Service: "logdelivery.elasticloadbalancing.amazonaws.com",
      });
    });

    test("are off by default", () => {
      expect(synth(env()).resource.aws_s3_bucket).toBeUndefined();
    });
  });

  describe("rejects bad settings at synth", () => {
    test("HTTPS requested without a certificate source", () => {
      expect(() => synth(env({ loadBalancer: { https: {} } }))).toThrow(
        "Invalid setting loadBalancer.https = {}: HTTPS is requested without a certificate source. Allowed: certificateArn (an existing ACM certificate), or domainName with hostedZoneId (a new DNS-validated certificate).",
      );
    });
    test("a domain without its hosted zone", () => {
      expect(() => synth(env({ loadBalancer: { https: { domainName: "api.example.com" } } }))).toThrow(
        /loadBalancer\.https\.hostedZoneId = undefined: domainName needs the hosted zone/,
      );
    });
    test("a health check path without a leading slash", () => {
      expect(() => synth(env({ loadBalancer: { healthCheck: { path: "health" } } }))).toThrow(
        /Invalid setting loadBalancer\.healthCheck\.path = "health": not a path starting with \//,
      );
    });
    test("a timeout not shorter than the interval", () => {
      expect(() => synth(env({ loadBalancer: { healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } } }))).toThrow(
        /timeoutSeconds = 5: not shorter than intervalSeconds \(5\)/,
      );
    });
    test("a CIDR that is not one", () => {
      expect(() => synth(env({ loadBalancer: { allowedCidrs: ["everyone"] } }))).toThrow(/loadBalancer\.allowedCidrs\.0 = "everyone": not an IPv4 CIDR block/);
    });
    test("names over AWS's 32-character limit once prefixed", () => {
      expect(() => synth(env({ project: "payments-gateway-api", name: "staging-blue" }))).toThrow(
        /Invalid setting project = "payments-gateway-api": resource names start with "payments-gateway-api-staging-blue" \(33 characters\).*Allowed: project and name of 28 characters together at most\./,
      );
      expect(() => synth(env({ project: "payments-gateways", name: "staging-blue" }))).toThrow(
        /the target group's, "payments-gateways-staging-blue-tg", would pass AWS's limit of 32/,
      );
      expect(() => synth(env({ project: "payments-gateway", name: "staging-blue" }))).not.toThrow();
    });
  });
});

test("the access log bucket can be emptied by destroy only while the load balancer is unprotected", () => {
  const bucket = (deletionProtection: boolean) => only(synth(env({ loadBalancer: { accessLogs: true, deletionProtection } })), "aws_s3_bucket");
  expect(bucket(false).force_destroy).toBe(true);
  expect(bucket(true).force_destroy).toBe(false);
});

test("LoadBalancer rejects a certificate from another region", () => {
  const arn = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab";
  expect(() => synth(env({ region: "eu-west-1", loadBalancer: { https: { certificateArn: arn } } }))).toThrow(
    /loadBalancer\.https\.certificateArn = .*: a certificate in us-east-1, but a load balancer can only use one from its own region\. Allowed: a certificate in eu-west-1/,
  );
});

describe("LoadBalancer.connections, on a bare stack", () => {
  const bare = () => {
    const stack = new TerraformStack(testApp(), "s");
    const lb = testLoadBalancer(stack, "Lb");
    return { stack, lb };
  };
  const egress = (stack: TerraformStack) => Object.values(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_egress_rule ?? {}) as any[];
  /** A service's tasks, as the load balancer sees them: their security group, made once per stack and group. */
  const peers = new Map<string, IConnectable>();
  const tasks = (stack: TerraformStack, securityGroupId: string): IConnectable => {
    const key = `${stack.node.addr}/${securityGroupId}`;
    const peer = peers.get(key) ?? {
      connections: new Connections(new Construct(stack, securityGroupId), {
        securityGroupId,
        kind: "Service",
        ingressDescription: () => "The load balancer, on the container port",
        egressDescription: "To the service tasks",
      }),
    };
    peers.set(key, peer);
    return peer;
  };

  test("given two services, when each is allowed, then the load balancer may reach both, on their own ports", () => {
    const { stack, lb } = bare();
    lb.connections.allowTo(tasks(stack, "sg-api"), 8080);
    lb.connections.allowTo(tasks(stack, "sg-admin"), 9000);
    expect(
      egress(stack)
        .map((r) => [r.referenced_security_group_id, r.from_port])
        .sort(),
    ).toEqual([
      ["sg-admin", 9000],
      ["sg-api", 8080],
    ]);
  });

  test("given a peer already allowed, when it is allowed again, then nothing is added", () => {
    const { stack, lb } = bare();
    lb.connections.allowTo(tasks(stack, "sg-api"), 8080);
    lb.connections.allowTo(tasks(stack, "sg-api"), 8080);
    expect(egress(stack)).toHaveLength(1);
  });
});

describe("LoadBalancer and TargetGroup metrics, on a bare stack", () => {
  test("given a load balancer, when its 5xx metric is asked for, then it names that load balancer, summed over 5 minutes", () => {
    const stack = new TerraformStack(testApp(), "s");
    const lb = testLoadBalancer(stack, "Lb");
    const [name] = Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_lb);
    expect(resolved(stack, lb.metricHttpCodeElb5xx())).toEqual({
      namespace: "AWS/ApplicationELB",
      metricName: "HTTPCode_ELB_5XX_Count",
      dimensions: { LoadBalancer: `\${aws_lb.${name}.arn_suffix}` },
      statistic: "Sum",
      period: 300,
    });
  });

  test("given a target group, when its unhealthy hosts are asked for, then they are its own on its own load balancer, whatever the group's id", () => {
    const stack = new TerraformStack(testApp(), "s");
    const lb = testLoadBalancer(stack, "Lb");
    const group = lb.addTargets("Renamed", { name: "r", port: 80, healthCheck: TargetHealthCheckSettingsSchema.parse({}) });
    const tf = JSON.parse(Testing.synth(stack));
    const [lbName] = Object.keys(tf.resource.aws_lb);
    const [groupName] = Object.keys(tf.resource.aws_lb_target_group);
    expect(resolved(stack, group.metricUnhealthyHostCount({ statistic: "Maximum" }))).toEqual({
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions: { LoadBalancer: `\${aws_lb.${lbName}.arn_suffix}`, TargetGroup: `\${aws_lb_target_group.${groupName}.arn_suffix}` },
      statistic: "Maximum",
      period: 300,
    });
  });
});
