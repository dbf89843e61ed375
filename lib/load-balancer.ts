import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { AccessLogs } from "./access-logs";
import { Certificate } from "./certificate";
import { isAligned, parseCidr } from "./cidr";
import { securityGroup } from "./security-group";
import { check, checkInt, checkListed, checkName } from "./validate";
import { TLS13_POLICIES } from "./data/tls-policies";

export interface TargetHealthCheckSettings {
  /** Health check path. @default "/health" */
  readonly path?: string;
  /** Healthy HTTP codes. @default "200" */
  readonly matcher?: string;
  /** Seconds between checks. @default 15 */
  readonly intervalSeconds?: number;
  /** Check timeout, less than the interval. @default 5 */
  readonly timeoutSeconds?: number;
  /** Passes before traffic. @default 2 */
  readonly healthyThreshold?: number;
  /** Failures before no traffic. @default 3 */
  readonly unhealthyThreshold?: number;
}

/** HTTPS: give `certificateArn`, or `domainName` and `hostedZoneId` to have a certificate made. */
export interface HttpsSettings {
  /** Existing ACM certificate. @default none */
  readonly certificateArn?: string;
  /** Domain: alias record, and a new certificate without `certificateArn`. @default none */
  readonly domainName?: string;
  /** Route 53 zone of the domain. @default none */
  readonly hostedZoneId?: string;
  /** A TLS 1.3 policy. @default "ELBSecurityPolicy-TLS13-1-2-2021-06" */
  readonly sslPolicy?: string;
}

export interface LoadBalancerSettings {
  /** Internal load balancer in the private subnets. @default false */
  readonly internal?: boolean;
  /** Who may connect, on 80 (and 443 with HTTPS). @default ["0.0.0.0/0"] */
  readonly allowedCidrs?: readonly string[];
  /** Idle connection timeout. @default 60 */
  readonly idleTimeoutSeconds?: number;
  /** Refuse deletion (AWS protection and Terraform `prevent_destroy`); while off, `destroy` may also empty the access log bucket. @default false */
  readonly deletionProtection?: boolean;
  /** Draining time for stopping tasks. @default 30 */
  readonly deregistrationDelaySeconds?: number;
  /** How the load balancer decides a task is healthy. */
  readonly healthCheck?: TargetHealthCheckSettings;
  /** `{ certificateArn }` or `{ domainName, hostedZoneId }`; see HTTPS. @default none (HTTP only) */
  readonly https?: HttpsSettings;
  /** Access logs to a private, encrypted, TLS-only S3 bucket. @default false */
  readonly accessLogs?: boolean;
  /** Days before log objects expire. @default 90 */
  readonly accessLogsExpiryDays?: number;
}

export interface LoadBalancerProps extends LoadBalancerSettings {
  readonly name: string;
  readonly region: string;
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  readonly targetPort: number;
}

const HEALTH_PATH = /^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/;
const MATCHER = /^[1-4]\d\d(-[1-4]\d\d)?(,[1-4]\d\d(-[1-4]\d\d)?)*$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

/**
 * The Application Load Balancer: spreads requests over the healthy tasks of the service. HTTP only,
 * or HTTPS with HTTP redirected to it.
 */
export class LoadBalancer extends Construct {
  private readonly egressTargets: string[] = [];
  readonly loadBalancer: Lb;
  readonly securityGroup: SecurityGroup;
  readonly targetGroup: LbTargetGroup;
  /** The listener that forwards to the target group (HTTPS when enabled, else HTTP). */
  readonly listener: LbListener;
  /** The URL clients use. */
  readonly url: string;
  readonly healthCheckPath: string;
  readonly accessLogs?: AccessLogs;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const https = props.https;
    if (https) checkHttps(https, props.region);
    const health = props.healthCheck ?? {};
    this.healthCheckPath = health.path ?? "/health";
    check(
      HEALTH_PATH.test(this.healthCheckPath),
      "loadBalancer.healthCheck.path",
      this.healthCheckPath,
      "not a path starting with /",
      'e.g. "/health": letters, digits and . _ ~ - between slashes, no trailing slash',
    );
    const matcher = health.matcher ?? "200";
    check(
      MATCHER.test(matcher),
      "loadBalancer.healthCheck.matcher",
      matcher,
      "not a list of HTTP codes",
      'codes 100-499 such as "200", "200-299" or "200,204"',
    );
    const interval = checkInt("loadBalancer.healthCheck.intervalSeconds", health.intervalSeconds ?? 15, 5, 300);
    const timeout = checkInt("loadBalancer.healthCheck.timeoutSeconds", health.timeoutSeconds ?? 5, 2, 120);
    check(
      timeout < interval,
      "loadBalancer.healthCheck.timeoutSeconds",
      timeout,
      `not shorter than intervalSeconds (${interval})`,
      `fewer than ${interval} seconds`,
    );
    const cidrs = props.allowedCidrs ?? ["0.0.0.0/0"];
    check(cidrs.length > 0, "loadBalancer.allowedCidrs", cidrs, "empty, so nobody could reach the API", "one or more IPv4 CIDR blocks");
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      check(
        parsed !== undefined && isAligned(parsed),
        "loadBalancer.allowedCidrs",
        cidr,
        "not an IPv4 CIDR block",
        'blocks such as "0.0.0.0/0" or "203.0.113.0/24"',
      );
    }

    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-lb`,
      description: `Load balancer of ${props.name}: HTTP(S) in, the service's port out`,
      vpcId: props.vpcId,
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
          name: props.name,
          region: props.region,
          expiryDays: props.accessLogsExpiryDays ?? 90,
          forceDestroy: !(props.deletionProtection ?? false),
        })
      : undefined;

    this.loadBalancer = new Lb(this, "LoadBalancer", {
      name: checkLoadBalancerName(props.name),
      loadBalancerType: "application",
      internal: props.internal ?? false,
      subnets: props.internal ? props.privateSubnetIds : props.publicSubnetIds,
      securityGroups: [this.securityGroup.id],
      dropInvalidHeaderFields: true,
      idleTimeout: checkInt("loadBalancer.idleTimeoutSeconds", props.idleTimeoutSeconds ?? 60, 1, 4000),
      enableDeletionProtection: props.deletionProtection ?? false,
      accessLogs: this.accessLogs ? { bucket: this.accessLogs.bucket.id, enabled: true } : undefined,
      dependsOn: this.accessLogs ? [this.accessLogs.policy] : undefined,
      lifecycle: props.deletionProtection ? { preventDestroy: true } : undefined,
    });

    this.targetGroup = new LbTargetGroup(this, "TargetGroup", {
      name: checkName("project and name", `${props.name}-tg`, 32, "target group"),
      targetType: "ip",
      port: props.targetPort,
      protocol: "HTTP",
      vpcId: props.vpcId,
      deregistrationDelay: String(checkInt("loadBalancer.deregistrationDelaySeconds", props.deregistrationDelaySeconds ?? 30, 0, 3600)),
      healthCheck: {
        enabled: true,
        path: this.healthCheckPath,
        matcher,
        interval,
        timeout,
        healthyThreshold: checkInt("loadBalancer.healthCheck.healthyThreshold", health.healthyThreshold ?? 2, 2, 10),
        unhealthyThreshold: checkInt("loadBalancer.healthCheck.unhealthyThreshold", health.unhealthyThreshold ?? 3, 2, 10),
        protocol: "HTTP",
        port: "traffic-port",
      },
    });

    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
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
      sslPolicy: https.sslPolicy ?? "ELBSecurityPolicy-TLS13-1-2-2021-06",
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

  /** Lets the load balancer reach `securityGroupId` on `port`; each call adds one peer, a repeated one is a no-op. */
  allowTo(securityGroupId: string, port: number): void {
    const key = `${securityGroupId}:${port}`;
    if (this.egressTargets.includes(key)) return;
    this.egressTargets.push(key);
    // The first rule keeps the id it always had, so existing stacks plan no replacement.
    new VpcSecurityGroupEgressRule(this, this.egressTargets.length === 1 ? "EgressToService" : `EgressToService${this.egressTargets.length}`, {
      securityGroupId: this.securityGroup.id,
      description: "To the service's tasks",
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: securityGroupId,
    });
  }
}

function checkHttps(https: HttpsSettings, region: string): void {
  check(
    Boolean(https.certificateArn || https.domainName),
    "loadBalancer.https",
    https,
    "HTTPS is requested without a certificate source",
    "certificateArn (an existing ACM certificate), or domainName with hostedZoneId (a new DNS-validated certificate)",
  );
  if (https.certificateArn) {
    check(
      CERTIFICATE_ARN.test(https.certificateArn),
      "loadBalancer.https.certificateArn",
      https.certificateArn,
      "not an ACM certificate ARN",
      "arn:aws:acm:<region>:<account>:certificate/<id>",
    );
    const certRegion = https.certificateArn.split(":")[3];
    check(
      certRegion === region,
      "loadBalancer.https.certificateArn",
      https.certificateArn,
      `a certificate in ${certRegion}, but a load balancer can only use one from its own region`,
      `a certificate in ${region}`,
    );
  }
  if (https.domainName) {
    check(DOMAIN.test(https.domainName), "loadBalancer.https.domainName", https.domainName, "not a lowercase domain name", 'e.g. "api.example.com"');
  }
  check(
    Boolean(https.domainName) === Boolean(https.hostedZoneId),
    "loadBalancer.https.hostedZoneId",
    https.hostedZoneId,
    https.domainName ? "domainName needs the hosted zone that serves it" : "given without domainName",
    https.domainName ? 'a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ"' : "domainName together with hostedZoneId",
  );
  if (https.hostedZoneId) {
    check(
      /^Z[A-Z0-9]{1,31}$/.test(https.hostedZoneId),
      "loadBalancer.https.hostedZoneId",
      https.hostedZoneId,
      "not a Route 53 hosted zone id",
      '"Z" followed by letters and digits',
    );
  }
  if (https.sslPolicy) {
    checkListed("loadBalancer.https.sslPolicy", https.sslPolicy, TLS13_POLICIES, "load balancer TLS policy offering TLS 1.3", "lib/data/tls-policies.ts");
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
