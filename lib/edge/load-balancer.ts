import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { EnvironmentContext } from "../core/environment";
import { metricOf, metricQuery, type Metric, type MetricOptions } from "../core/metric";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { AccessLogs } from "./access-logs";
import { Certificate } from "./certificate";
import { securityGroup } from "../core/security-group";
import { TargetGroup, TargetHealthCheckSettingsSchema, type TargetHealthCheckConfig } from "./target-group";
import * as z from "zod/mini";
import { fail, flag, int, ipv4Block, listed, matching, rule, section, withDefault } from "../settings/rules";
import { check, checkName } from "../settings/validate";
import { TLS13_POLICIES } from "../settings/data/tls-policies";
import { Connections } from "../core/connections";
import type { AlarmSpec, AlarmThresholds, IWatchable } from "../core/watchable";
import { holdings, ResourceKind } from "../core/resource-kind";
import { loadBalancerCost } from "../calculators/cost";
import { CERTIFICATE } from "./certificate";

/** The Application Load Balancer, its listeners, their rules and the target groups (lib/edge/target-group.ts). */
export const LOAD_BALANCER = new ResourceKind({
  name: "Application Load Balancer",
  file: __filename,
  types: ["aws_lb", "aws_lb_listener", "aws_lb_listener_rule", "aws_lb_target_group"],
  deploy: { services: ["elasticloadbalancing"], tag: ["elasticloadbalancing:AddTags"], untag: ["elasticloadbalancing:RemoveTags"] },
  endpoints: ["elbv2"],
  price: loadBalancerCost,
  inventory: async (aws) => [
    ...holdings(
      "elbv2",
      "load-balancer",
      ((await aws("elastic-load-balancing-v2", "DescribeLoadBalancers")).LoadBalancers ?? []).map((l: { LoadBalancerName?: string }) => l.LoadBalancerName),
    ),
    ...holdings(
      "elbv2",
      "target-group",
      ((await aws("elastic-load-balancing-v2", "DescribeTargetGroups")).TargetGroups ?? []).map((t: { TargetGroupName?: string }) => t.TargetGroupName),
    ),
  ],
  alarms: { namespace: "AWS/ApplicationELB" },
});

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
/** ACM's limit on a requested certificate's domain name (its common name, RFC 5280): RequestCertificate DomainName. */
const MAX_CERTIFICATE_DOMAIN = 64;

/** HTTPS: give `certificateArn`, or `domainName` and `hostedZoneId` to have a certificate made. */
export const HttpsSettingsSchema = z
  .strictObject({
    /** Existing ACM certificate. @default none */
    certificateArn: z.optional(matching(CERTIFICATE_ARN, "not an ACM certificate ARN", "arn:aws:acm:<region>:<account>:certificate/<id>")),
    /** Domain: alias record, and a new certificate without `certificateArn` (then at most 64 characters, ACM's limit). @default none */
    domainName: z.optional(matching(DOMAIN, "not a lowercase domain name", 'e.g. "api.example.com"')),
    /** Route 53 zone of the domain. @default none */
    hostedZoneId: z.optional(matching(/^Z[A-Z0-9]{1,31}$/, "not a Route 53 hosted zone id", '"Z" followed by letters and digits')),
    /** A TLS 1.3 policy. @default "ELBSecurityPolicy-TLS13-1-2-2021-06" */
    sslPolicy: withDefault(
      listed(TLS13_POLICIES, "load balancer TLS policy offering TLS 1.3", "lib/settings/data/tls-policies.ts"),
      "ELBSecurityPolicy-TLS13-1-2-2021-06",
    ),
  })
  .check(
    z.superRefine((https, ctx) => {
      if (!https.certificateArn && !https.domainName) {
        // Shown as written: undefined lets the error show the user's own value, not the filled-in default policy.
        fail(
          ctx,
          [],
          undefined,
          "HTTPS is requested without a certificate source",
          "certificateArn (an existing ACM certificate), or domainName with hostedZoneId (a new DNS-validated certificate)",
        );
      } else if (Boolean(https.domainName) !== Boolean(https.hostedZoneId))
        fail(
          ctx,
          ["hostedZoneId"],
          https.hostedZoneId,
          https.domainName ? "domainName needs the hosted zone that serves it" : "given without domainName",
          https.domainName ? 'a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ"' : "domainName together with hostedZoneId",
        );
      else if (!https.certificateArn && https.domainName && https.domainName.length > MAX_CERTIFICATE_DOMAIN)
        fail(
          ctx,
          ["domainName"],
          https.domainName,
          `${https.domainName.length} characters; ACM refuses a new certificate whose domain name is longer than ${MAX_CERTIFICATE_DOMAIN}`,
          `a domain of at most ${MAX_CERTIFICATE_DOMAIN} characters, or certificateArn of an existing certificate that covers it`,
        );
    }),
  );

/**
 * Names reserved for documentation and testing (RFC 2606, RFC 6761): they never resolve to a real
 * site, so a certificate for one never validates. The shipped settings use one as a marked example.
 */
export function isReservedDomain(domain: string): boolean {
  const labels = domain.split(".");
  const [second, top] = labels.slice(-2);
  return ["example", "test", "invalid", "localhost"].includes(top) || (second === "example" && ["com", "net", "org"].includes(top));
}

const ingressCidr = ipv4Block('blocks such as "0.0.0.0/0" or "203.0.113.0/24"');

export const LoadBalancerSettingsSchema = z.strictObject({
  /** Internal load balancer in the private subnets. @default false */
  internal: withDefault(flag, false),
  /** Who may connect, on 80 (and 443 with HTTPS). @default ["0.0.0.0/0"] */
  allowedCidrs: withDefault(
    z.readonly(z.array(ingressCidr)).check(
      rule<readonly string[]>((v) => v.length > 0, "empty, so nobody could reach the API", "one or more IPv4 CIDR blocks"),
      rule<readonly string[]>(
        (v) => new Set(v).size === v.length,
        (v) => `"${v.find((c, i) => v.indexOf(c) !== i)}" is listed twice, and a security group refuses a duplicate rule`,
        "each block once",
      ),
    ),
    ["0.0.0.0/0"],
  ),
  /** Idle connection timeout. @default 60 */
  idleTimeoutSeconds: withDefault(int(1, 4000), 60),
  /** Refuse deletion (AWS protection and Terraform `prevent_destroy`); while off, `destroy` may also empty the access log bucket. @default false */
  deletionProtection: withDefault(flag, false),
  /** Draining time for stopping tasks. @default 30 */
  deregistrationDelaySeconds: withDefault(int(0, 3600), 30),
  /** How the load balancer decides a task of the default API is healthy; routed services set their own in `route.healthCheck`. */
  healthCheck: section(TargetHealthCheckSettingsSchema),
  /** `{ certificateArn }` or `{ domainName, hostedZoneId }`; see HTTPS. @default none (HTTP only) */
  https: z.optional(HttpsSettingsSchema),
  /** Access logs to a private, encrypted, TLS-only S3 bucket. @default false */
  accessLogs: withDefault(flag, false),
  /** Days before log objects expire. @default 90 */
  accessLogsExpiryDays: withDefault(int(1, 3650), 90),
});
/** The load balancer's settings as written in an environment. */
export type LoadBalancerSettings = z.input<typeof LoadBalancerSettingsSchema>;
/** The same, checked and with every default applied. */
export type LoadBalancerConfig = z.output<typeof LoadBalancerSettingsSchema>;
export type HttpsConfig = z.output<typeof HttpsSettingsSchema>;

/**
 * The default API's health check belongs to its target group, which the service registers with
 * `addTargets`. Its name, region and account (which the access log bucket admits) are the environment's.
 */
export interface LoadBalancerProps extends Omit<LoadBalancerConfig, "healthCheck"> {
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
}

/** What a service registers with `addTargets`. */
export interface AddTargetsProps {
  /** The target group's name, at most 32 characters. */
  readonly name: string;
  /** The port its tasks listen on. */
  readonly port: number;
  readonly healthCheck: TargetHealthCheckConfig;
  /** Requests matching these paths or hosts, at this priority. @default every request no rule matches (the listener's default action) */
  readonly rule?: { readonly priority: number; readonly pathPatterns: readonly string[]; readonly hostHeaders: readonly string[] };
}

/**
 * The Application Load Balancer: spreads requests over the healthy tasks of the services registered
 * with `addTargets`, the default API taking what no rule matches. HTTP only, or HTTPS with HTTP
 * redirected to it.
 */
export class LoadBalancer extends Construct implements IWatchable {
  private readonly targets = new Map<string, TargetGroup>();
  private defaultTarget?: string;
  readonly loadBalancer: Lb;
  readonly securityGroup: SecurityGroup;
  /** Network access from it to its targets: each routed service opens its container port (`connections.allowTo(service)`). */
  readonly connections: Connections;
  /** The listener that forwards to the target groups (HTTPS when enabled, else HTTP). */
  readonly listener: LbListener;
  /** The URL clients use. */
  readonly url: string;
  readonly accessLogs?: AccessLogs;
  private readonly props: LoadBalancerProps;

  get loadBalancerArn(): string {
    return this.loadBalancer.arn;
  }

  get loadBalancerArnSuffix(): string {
    return this.loadBalancer.arnSuffix;
  }

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    this.props = props;
    const name = EnvironmentContext.of(this).prefix;
    const https = props.https;
    const cidrs = props.allowedCidrs;
    grantLoadBalancerDeploy(this, https?.domainName ? https.hostedZoneId : undefined);

    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${name}-lb`,
      description: `Load balancer of ${name}: HTTP(S) in, the service port out`,
      vpcId: props.vpcId,
    });
    this.connections = new Connections(this, {
      securityGroupId: this.securityGroup.id,
      kind: "LoadBalancer",
      // Its way in is from loadBalancer.allowedCidrs, on 80 and 443 (below), never from another group.
      ingressDescription: (from) => `From ${from.kind}`,
      egressDescription: "To the load balancer",
    });
    const ports = https ? [80, 443] : [80];
    for (const port of ports) {
      cidrs.forEach((cidr, i) => {
        new VpcSecurityGroupIngressRule(this, `Ingress${port}_${i}`, {
          securityGroupId: this.securityGroup.id,
          description: `HTTP${port === 443 ? "S" : ""} from ${cidr}`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: cidr,
        });
      });
    }

    this.accessLogs = props.accessLogs
      ? new AccessLogs(this, "AccessLogs", {
          expiryDays: props.accessLogsExpiryDays,
          forceDestroy: !props.deletionProtection,
        })
      : undefined;

    this.loadBalancer = new Lb(this, "LoadBalancer", {
      name: checkLoadBalancerName(name),
      loadBalancerType: "application",
      internal: props.internal,
      subnets: props.internal ? props.privateSubnetIds : props.publicSubnetIds,
      securityGroups: [this.securityGroup.id],
      dropInvalidHeaderFields: true,
      idleTimeout: props.idleTimeoutSeconds,
      enableDeletionProtection: props.deletionProtection,
      accessLogs: this.accessLogs ? { bucket: this.accessLogs.bucket.id, enabled: true } : undefined,
      dependsOn: this.accessLogs ? [this.accessLogs.policy] : undefined,
      lifecycle: props.deletionProtection ? { preventDestroy: true } : undefined,
    });

    // Until a service takes the default action (addTargets without a rule), nothing is served.
    const forward = [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not found" } }];
    if (!https) {
      this.listener = new LbListener(this, "HttpListener", { loadBalancerArn: this.loadBalancer.arn, port: 80, protocol: "HTTP", defaultAction: forward });
      this.url = `http://${this.loadBalancer.dnsName}`;
      return;
    }

    new LbListener(this, "HttpRedirect", {
      loadBalancerArn: this.loadBalancer.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
    });
    const certificateArn =
      https.certificateArn ?? new Certificate(this, "Certificate", { domainName: https.domainName!, hostedZoneId: https.hostedZoneId! }).validatedArn;
    this.listener = new LbListener(this, "HttpsListener", {
      loadBalancerArn: this.loadBalancer.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: https.sslPolicy,
      certificateArn,
      defaultAction: forward,
    });
    if (https.domainName) {
      new Route53Record(this, "AliasRecord", {
        zoneId: https.hostedZoneId!,
        name: https.domainName,
        type: "A",
        alias: { name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true },
      });
    }
    this.url = `https://${https.domainName ?? this.loadBalancer.dnsName}`;
  }

  /**
   * A target group for a service's tasks, reached by the listener's default action (no `rule`; one
   * service only) or by a listener rule matching paths or hosts (priorities unique). Made in this
   * construct, beside the listener it hangs off.
   */
  addTargets(id: string, props: AddTargetsProps): TargetGroup {
    if (this.targets.has(id)) throw new Error(`LoadBalancer ${this.node.path}: addTargets("${id}") was already called`);
    if (!props.rule && this.defaultTarget)
      throw new Error(
        `LoadBalancer ${this.node.path}: "${id}" and "${this.defaultTarget}" both ask for the listener's default action; give one of them a rule`,
      );
    const samePriority = props.rule && [...this.targets].find(([, t]) => t.priority === props.rule!.priority);
    if (samePriority)
      throw new Error(
        `LoadBalancer ${this.node.path}: "${id}" and "${samePriority[0]}" both ask for listener rule priority ${props.rule!.priority}; priorities are unique`,
      );
    const group = new TargetGroup(this, id, {
      ...props,
      vpcId: this.props.vpcId,
      deregistrationDelaySeconds: this.props.deregistrationDelaySeconds,
      listener: this.listener,
      loadBalancerArnSuffix: this.loadBalancerArnSuffix,
    });
    this.targets.set(id, group);
    if (!props.rule) this.defaultTarget = id;
    return group;
  }

  /** 5xx responses the load balancer made itself (no healthy target, a target that closed the connection); Sum over 5 minutes. */
  metricHttpCodeElb5xx(options?: MetricOptions): Metric {
    return this.metric("HTTPCode_ELB_5XX_Count", "Sum", options);
  }

  /** 5xx responses of the targets, every service's; Sum over 5 minutes. */
  metricHttpCodeTarget5xx(options?: MetricOptions): Metric {
    return this.metric("HTTPCode_Target_5XX_Count", "Sum", options);
  }

  /** Requests the load balancer received; Sum over 5 minutes. */
  metricRequestCount(options?: MetricOptions): Metric {
    return this.metric("RequestCount", "Sum", options);
  }

  private metric(metricName: string, statistic: string, options?: MetricOptions): Metric {
    return metricOf("AWS/ApplicationELB", metricName, { LoadBalancer: this.loadBalancerArnSuffix }, statistic, options);
  }

  /** Its alarm: 5xx responses as a share of all requests, counting its own and the targets'. */
  alarmSpecs(t: AlarmThresholds): AlarmSpec[] {
    return [
      {
        id: "LoadBalancer5xx",
        what: "http-5xx",
        body: {
          alarmDescription: `More than ${t.http5xxPercent} % of requests answered 5xx over 5 minutes`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: t.http5xxPercent,
          evaluationPeriods: 1,
          treatMissingData: "notBreaching",
          metricQuery: [
            { id: "rate", expression: "100 * (elb + targets) / MAX([requests, 1])", label: "5xx %", returnData: true },
            metricQuery("elb", this.metricHttpCodeElb5xx()),
            metricQuery("targets", this.metricHttpCodeTarget5xx()),
            metricQuery("requests", this.metricRequestCount()),
          ],
        },
      },
    ];
  }
}

/** AWS's rules for load balancer names beyond length: no "internal-" prefix (AWS's own), no "--". */
function checkLoadBalancerName(name: string): string {
  checkName("project and name", name, 32, "load balancer");
  check(
    !name.startsWith("internal-"),
    "project and name",
    name,
    `the load balancer name "${name}" starts with "internal-", which AWS reserves`,
    'a project name other than "internal"',
  );
  check(
    !name.includes("--"),
    "project and name",
    name,
    `the load balancer name "${name}" contains "--"`,
    "project and environment names without a leading or trailing hyphen",
  );
  return name;
}

/**
 * What the deploy role needs for the load balancer, its listeners, rules and target groups (tagged),
 * and for HTTPS: the certificate (tagged) and records in the one hosted zone named in the settings.
 */
function grantLoadBalancerDeploy(scope: Construct, hostedZoneId?: string): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  deploy.service("LoadBalancing", {
    kind: LOAD_BALANCER,
    read: ["elasticloadbalancing:Describe*"],
    create: [
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:CreateTargetGroup",
    ],
    manage: [
      // The load balancer a listener is made on, the listener a rule is made on.
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteRule",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:RemoveTags",
      "elasticloadbalancing:SetRulePriorities",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
    ],
  });
  deploy.serviceLinkedRole("elasticloadbalancing.amazonaws.com");
  if (hostedZoneId === undefined) return;
  deploy.service("Certificate", {
    kind: CERTIFICATE,
    create: ["acm:AddTagsToCertificate", "acm:RequestCertificate"],
    manage: ["acm:AddTagsToCertificate", "acm:DeleteCertificate", "acm:DescribeCertificate", "acm:ListTagsForCertificate", "acm:RemoveTagsFromCertificate"],
  });
  deploy.allow([
    {
      Sid: "DnsRecords",
      Action: ["route53:ChangeResourceRecordSets", "route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
      Resource: deploy.arn("route53", `hostedzone/${hostedZoneId}`, "", ""),
    },
    { Sid: "DnsChanges", Action: "route53:GetChange", Resource: deploy.arn("route53", "change/*", "", "") },
  ]);
}
