import { Construct } from "constructs";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import * as z from "zod/mini";
import { metricOf, type Metric, type MetricOptions } from "../core/metric";
import { fail, int, matching, rule, section, withDefault } from "../settings/rules";

const HEALTH_PATH = /^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/;
/** A target group's health check path: at most 1024 characters (ELB CreateTargetGroup HealthCheckPath). */
const MAX_HEALTH_PATH = 1024;
/** HTTP codes an Application Load Balancer's health check accepts: 200-499 (ELB Matcher HttpCode), one, a range or a list. */
const MATCHER = /^[2-4]\d\d(-[2-4]\d\d)?(,[2-4]\d\d(-[2-4]\d\d)?)*$/;
/**
 * ALB path patterns: case-sensitive, at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & and the
 * wildcards `*` and `?` (ELB user guide, "Path conditions").
 */
const PATH_PATTERN = /^\/[A-Za-z0-9_.~\-/$+&:@*?"']{0,127}$/;
/** ALB host conditions: a domain name, `*` and `?` allowed, at most 128 characters. */
const HOST_PATTERN = /^(?=.{1,128}$)[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?(\.[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?)*$/;
/** ALB host conditions need a dot, and only letters after the last one (ELB user guide, "Host conditions"). */
const HOST_SUFFIX = /\.[a-z]+$/;
/** A listener rule takes at most five condition values in all. */
const MAX_CONDITION_VALUES = 5;
/**
 * A listener rule takes at most five wildcard characters (`*`, `?`) in its values: the ELB user guide's
 * condition types say five; its quota table says six ("Condition wildcards per rule", not adjustable), so five is what is sure to apply.
 */
const MAX_CONDITION_WILDCARDS = 5;

export const TargetHealthCheckSettingsSchema = z
  .strictObject({
    /** Health check path, at most 1024 characters. @default "/health" */
    path: withDefault(
      matching(HEALTH_PATH, "not a path starting with /", 'e.g. "/health": letters, digits and . _ ~ - between slashes, no trailing slash').check(
        rule<string>(
          (v) => v.length <= MAX_HEALTH_PATH,
          (v) => `${v.length} characters, longer than a target group's health check path may be`,
          `a path of at most ${MAX_HEALTH_PATH} characters`,
        ),
      ),
      "/health",
    ),
    /** Healthy HTTP codes, 200–499: one (`"200"`), a range (`"200-299"`) or a list (`"200,204"`). @default "200" */
    matcher: withDefault(
      matching(
        MATCHER,
        "not a list of HTTP codes from 200 to 499, which an Application Load Balancer's health check takes",
        'codes 200-499 such as "200", "200-299" or "200,204"',
      ),
      "200",
    ),
    /** Seconds between checks; with `unhealthyThreshold`, how long a stopping task drains (see `task.stopTimeoutSeconds`). @default 10 */
    intervalSeconds: withDefault(int(5, 300), 10),
    /** Check timeout, less than the interval. @default 5 */
    timeoutSeconds: withDefault(int(2, 120), 5),
    /** Passes before traffic. @default 2 */
    healthyThreshold: withDefault(int(2, 10), 2),
    /** Failures before no traffic. @default 2 */
    unhealthyThreshold: withDefault(int(2, 10), 2),
  })
  .check(
    z.superRefine((s, ctx) => {
      if (s.timeoutSeconds >= s.intervalSeconds)
        fail(ctx, ["timeoutSeconds"], s.timeoutSeconds, `not shorter than intervalSeconds (${s.intervalSeconds})`, `fewer than ${s.intervalSeconds} seconds`);
    }),
  );
export type TargetHealthCheckConfig = z.output<typeof TargetHealthCheckSettingsSchema>;

/**
 * Which requests the load balancer sends to a service other than the default API: a listener rule
 * matching a path or a host, in front of the service's own target group.
 */
export const RouteSettingsSchema = z
  .strictObject({
    /**
     * Paths this service answers, e.g. `["/admin", "/admin/*"]`: up to 128 of A-Z a-z 0-9 `_ - . $ / ~ " ' @ : + &` each, `*` and `?` wildcards.
     * @default []
     */
    pathPatterns: withDefault(
      z.readonly(
        z.array(
          matching(
            PATH_PATTERN,
            "not a path pattern an Application Load Balancer takes",
            `a path starting with / of up to 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + &, e.g. "/admin/*"; * and ? are wildcards`,
          ),
        ),
      ),
      [],
    ),
    /** Host names this service answers, e.g. `["admin.example.com"]` (`*` and `?` wildcards; a dot, and letters after the last one). @default [] */
    hostHeaders: withDefault(
      z.readonly(
        z.array(
          matching(HOST_PATTERN, "not a host name", 'a lowercase host name of up to 128 characters, e.g. "admin.example.com" or "*.example.com"').check(
            rule<string>(
              (v) => HOST_SUFFIX.test(v),
              "no dot, or more than letters after the last one, which an Application Load Balancer's host condition refuses",
              'a host name with a dot and only letters after the last one, e.g. "admin.example.com"',
            ),
          ),
        ),
      ),
      [],
    ),
    /** The rule's priority on the listener, 1 (first) to 50000; unique per environment. @default the first free of 100, 110, 120, … in key order */
    priority: z.optional(int(1, 50000)),
    /** How the load balancer decides one of this service's tasks is healthy: the same fields and defaults as `loadBalancer.healthCheck`. @default as `loadBalancer.healthCheck` */
    healthCheck: section(TargetHealthCheckSettingsSchema),
  })
  .check(
    z.superRefine((route, ctx) => {
      const values = route.pathPatterns.length + route.hostHeaders.length;
      if (values === 0)
        // undefined: the error shows the route as written, not with its health check defaults.
        fail(
          ctx,
          [],
          undefined,
          "a route matches no request without a path or a host",
          'pathPatterns (e.g. ["/admin/*"]) or hostHeaders, or no route for a worker',
        );
      else if (values > MAX_CONDITION_VALUES)
        fail(
          ctx,
          [],
          undefined,
          `${values} paths and hosts; a listener rule takes at most ${MAX_CONDITION_VALUES}`,
          `${MAX_CONDITION_VALUES} values or fewer in all`,
        );
      else {
        const wildcards = [...route.pathPatterns, ...route.hostHeaders].join("").replace(/[^*?]/g, "").length;
        if (wildcards > MAX_CONDITION_WILDCARDS)
          fail(
            ctx,
            [],
            undefined,
            `${wildcards} wildcards (* and ?) in its paths and hosts; a listener rule takes at most ${MAX_CONDITION_WILDCARDS}`,
            `${MAX_CONDITION_WILDCARDS} wildcards or fewer in all (each * and ? counts)`,
          );
      }
    }),
  );
export type RouteSettings = z.input<typeof RouteSettingsSchema>;
export type RouteConfig = z.output<typeof RouteSettingsSchema>;

/** The first default priority, and the step between routed services left to the default. */
export const FIRST_PRIORITY = 100;
export const PRIORITY_STEP = 10;

export interface TargetGroupProps {
  /** The target group's name, at most 32 characters. */
  readonly name: string;
  readonly vpcId: string;
  /** The port the tasks listen on. */
  readonly port: number;
  readonly healthCheck: TargetHealthCheckConfig;
  readonly deregistrationDelaySeconds: number;
  /** The listener it hangs off. */
  readonly listener: LbListener;
  /** Its load balancer's, which CloudWatch names its metrics by beside its own. */
  readonly loadBalancerArnSuffix: string;
  /**
   * The requests it receives: a rule with these conditions at this priority, or `undefined` for the
   * listener's default action.
   * @default the listener's default action
   */
  readonly rule?: { readonly priority: number; readonly pathPatterns: readonly string[]; readonly hostHeaders: readonly string[] };
}

/**
 * A target group and the way requests reach it: the listener's default action, or a listener rule
 * matching paths or hosts. Made by `LoadBalancer.addTargets`, which owns the listener.
 */
export class TargetGroup extends Construct {
  readonly targetGroup: LbTargetGroup;
  /** The listener rule in front of it; none for the default action. */
  readonly listenerRule?: LbListenerRule;
  /** The rule's priority; none for the default action. */
  readonly priority?: number;

  get targetGroupArn(): string {
    return this.targetGroup.arn;
  }

  /** For CloudWatch dimensions and the request-count scaling label. */
  get targetGroupArnSuffix(): string {
    return this.targetGroup.arnSuffix;
  }

  get healthCheckPath(): string {
    return this.props.healthCheck.path;
  }

  /** Targets failing the load balancer's health check; Average over 5 minutes. */
  metricUnhealthyHostCount(options?: MetricOptions): Metric {
    return this.metric("UnHealthyHostCount", options);
  }

  /** Seconds from the request leaving the load balancer to the target's response; Average over 5 minutes (`p99` for the tail). */
  metricTargetResponseTime(options?: MetricOptions): Metric {
    return this.metric("TargetResponseTime", options);
  }

  private metric(metricName: string, options?: MetricOptions): Metric {
    const dimensions = { LoadBalancer: this.props.loadBalancerArnSuffix, TargetGroup: this.targetGroupArnSuffix };
    return metricOf("AWS/ApplicationELB", metricName, dimensions, "Average", options);
  }

  constructor(
    scope: Construct,
    id: string,
    private readonly props: TargetGroupProps,
  ) {
    super(scope, id);
    const health = props.healthCheck;
    // "Default" is left out of Terraform addresses, so the target group keeps the address it had
    // before it was wrapped in this construct.
    this.targetGroup = new LbTargetGroup(this, "Default", {
      name: props.name,
      targetType: "ip",
      port: props.port,
      protocol: "HTTP",
      vpcId: props.vpcId,
      deregistrationDelay: String(props.deregistrationDelaySeconds),
      healthCheck: {
        enabled: true,
        path: health.path,
        matcher: health.matcher,
        interval: health.intervalSeconds,
        timeout: health.timeoutSeconds,
        healthyThreshold: health.healthyThreshold,
        unhealthyThreshold: health.unhealthyThreshold,
        protocol: "HTTP",
        port: "traffic-port",
      },
    });
    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
    if (!props.rule) {
      props.listener.putDefaultAction(forward);
      return;
    }
    const { priority, pathPatterns, hostHeaders } = props.rule;
    this.priority = priority;
    this.listenerRule = new LbListenerRule(this, "Rule", {
      listenerArn: props.listener.arn,
      priority,
      action: forward,
      condition: [
        ...(pathPatterns.length ? [{ pathPattern: { values: [...pathPatterns] } }] : []),
        ...(hostHeaders.length ? [{ hostHeader: { values: [...hostHeaders] } }] : []),
      ],
    });
  }
}
