import { Construct } from "constructs";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Autoscaling, type AutoscalingConfig } from "./autoscaling";
import type { Cluster } from "./cluster";
import type { AddTargetsProps, LoadBalancer } from "../edge/load-balancer";
import type { Network } from "../network/network";
import { securityGroup } from "../core/security-group";
import { DeployPermissions } from "../core/deploy-permissions";
import { ResourceKind } from "../core/resource-kind";
import { serviceCost } from "../calculators/cost";

/** An ECS service: the tasks it keeps running behind the load balancer (or a worker's, with none). */
export const SERVICE = new ResourceKind({
  name: "ECS service",
  file: __filename,
  types: ["aws_ecs_service"],
  deploy: { services: ["ecs"], tag: ["ecs:TagResource"], untag: ["ecs:UntagResource"] },
  endpoints: ["ecs"],
  price: serviceCost,
  inventory: { why: "a service lives in its cluster, which is listed until it is deleted, and ECS deletes no cluster that still has a service" },
  alarms: { namespace: "AWS/ECS" },
});
import { alarmMetric, metricOf, metricQuery, type Metric, type MetricOptions } from "../core/metric";
import type { TargetGroup } from "../edge/target-group";
import { CONTAINER_NAME, environmentRevisions, type TaskDefinition } from "./task-definition";
import * as z from "zod/mini";
import { flag, int, ipv4Block, matching, rule, withDefault } from "../settings/rules";
import { USES } from "../settings/sections";
import { Connections } from "../core/connections";
import type { AlarmSpec, AlarmThresholds, IWatchable } from "../core/watchable";
import { pascal } from "../core/environment";

/** What EC2 takes as a security group rule's description (IpRange Description): up to 255 of these characters. */
const RULE_DESCRIPTION = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
/** The way out every service's security group has (lib/core/security-group.ts `egressHttps`): a second one is a duplicate rule. */
const HTTPS_ANYWHERE = { cidr: "0.0.0.0/0", port: 443 };

const EgressSchema = z.strictObject({
  cidr: ipv4Block('a block such as "10.0.8.0/24" or "203.0.113.7/32"'),
  port: int(1, 65535),
  description: z.optional(
    matching(
      RULE_DESCRIPTION,
      "not a description EC2 takes for a security group rule",
      "up to 255 letters, digits, spaces and . _ - : / ( ) # , @ [ ] + = & ; { } ! $ *",
    ),
  ),
});

export const ServiceSettingsSchema = z.strictObject({
  /** Tasks to run; with autoscaling, only at creation. @default 1 */
  desiredCount: withDefault(int(0, 1000), 1),
  /** Time a new task may fail health checks while starting. @default 60 */
  healthCheckGracePeriodSeconds: withDefault(int(0, 2147483647), 60),
  /** ECS Exec, logged to the cluster; needs `task.readonlyRootFilesystem: false`. @default false */
  enableExecuteCommand: withDefault(flag, false),
  /** `deploy` waits for healthy tasks and fails if they never are. @default true */
  waitForSteadyState: withDefault(flag, true),
  /** What else of the environment its tasks use, by name: sections a fork's constructs add (`["cache"]`, docs/forking.md), each handing the tasks its connection and network access. @default [] */
  uses: withDefault(USES, []),
  /**
   * More ways out for the tasks, beyond HTTPS anywhere and the database: `{ cidr, port, description? }` each, e.g. an SMTP relay
   * `{ cidr: "10.0.8.0/24", port: 587 }`; a description takes up to 255 letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*`. @default []
   */
  egress: withDefault(
    z.readonly(z.array(EgressSchema)).check(
      rule<readonly { cidr: string; port: number }[]>(
        (v) => new Set(v.map((e) => `${e.cidr}:${e.port}`)).size === v.length,
        (v) => {
          const keys = v.map((e) => `${e.cidr}:${e.port}`);
          const dup = v[keys.findIndex((k, i) => keys.indexOf(k) !== i)];
          return `${dup.cidr} on port ${dup.port} is listed twice, and a security group refuses a duplicate rule`;
        },
        "each block and port once",
      ),
      rule<readonly { cidr: string; port: number }[]>(
        (v) => !v.some((e) => e.cidr === HTTPS_ANYWHERE.cidr && e.port === HTTPS_ANYWHERE.port),
        `${HTTPS_ANYWHERE.cidr} on port ${HTTPS_ANYWHERE.port} is the HTTPS way out every service already has, and a security group refuses a duplicate rule`,
        "other blocks or ports; HTTPS anywhere is always allowed",
      ),
    ),
    [],
  ),
});
/** The service's settings as written in an environment. */
export type ServiceSettings = z.input<typeof ServiceSettingsSchema>;
/** The same, checked and with every default applied. */
export type ServiceConfig = z.output<typeof ServiceSettingsSchema>;

/** Which of the load balancer's requests reach a service, and how it checks the service's tasks. */
export type ServiceRoute = Pick<AddTargetsProps, "healthCheck" | "rule">;

export interface ServiceProps extends ServiceConfig {
  /** `<project>-<environment>[-<service>]`: the service's name, and the prefix of its security group's and target group's. */
  readonly name: string;
  /**
   * Its key in `services`, which names its alarms (`<prefix>-<key>-cpu`, id `<Key>ServiceCpu`).
   * @default none: the default API, whose alarms carry no key
   */
  readonly key?: string;
  /** Where the tasks run: its capacity decides the strategy, placement and whether tasks may take a public IP. */
  readonly cluster: Cluster;
  /** The recipe the tasks run; its port is the one the load balancer reaches. */
  readonly taskDefinition: TaskDefinition;
  /** The app subnets: private behind NAT, or public when there is no NAT. */
  readonly network: Network;
  /**
   * The load balancer that sends this service requests: the service registers a target group of its
   * own there (see `route`).
   * @default none: a worker, which nothing reaches
   */
  readonly loadBalancer?: LoadBalancer;
  /**
   * With `loadBalancer`: the health check, and the listener rule (paths, hosts, priority), or no rule
   * for the listener's default action.
   * @default none; required with `loadBalancer`
   */
  readonly route?: ServiceRoute;
}

/**
 * The service: keeps N copies of the recipe running and replaces failed ones, behind the load
 * balancer or, as a worker, reached by nothing. It owns its wiring: its target group and listener
 * rule, its security group admitting the load balancer on the container port (and the load balancer's
 * way out to it); `autoScaleTaskCount` adds scaling, and `connections` access (`service.connections.allowTo(database)`).
 *
 * What it makes beside itself is named after its id, `<X>Service` → `<X>TargetGroup` (in the load
 * balancer) and `<X>Autoscaling`, so the first service, `Service`, keeps the Terraform addresses it
 * has always had.
 */
export class Service extends Construct implements IWatchable {
  readonly service: EcsService;
  /** The tasks' security group: the load balancer on the container port is the only way in; a worker's admits nothing. */
  readonly securityGroup: SecurityGroup;
  /** Its target group on the load balancer; none for a worker. */
  readonly targetGroup?: TargetGroup;
  /** Network access to and from its tasks, on the container port unless another is named. */
  readonly connections: Connections;
  private readonly props: ServiceProps;
  private scaling?: Autoscaling;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    this.props = props;
    const { cluster, taskDefinition, network, loadBalancer, route } = props;
    const port = taskDefinition.containerPort;
    const capacity = cluster.capacity;
    if (loadBalancer && (!route || port === undefined))
      throw new Error(
        `Service ${this.node.path}: a load balancer needs ${route ? "a task definition that serves HTTP (give it http)" : "a route (health check, and a rule unless it takes the default action)"}`,
      );
    if (!loadBalancer && route) throw new Error(`Service ${this.node.path}: a route without a load balancer reaches nothing; give loadBalancer too`);
    // Out: HTTPS, which pulling images, writing logs, reading secrets and calling AWS APIs take (through
    // the NAT or VPC endpoints), the database once allowed, and what `egress` adds. DNS goes to the VPC
    // resolver, which security groups do not filter.
    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-tasks`,
      // As first written, though egress is narrower now: a group's description cannot change without
      // replacing the group, which running tasks hold on to.
      description: `Tasks of ${props.name}: ${loadBalancer ? "the load balancer" : "nothing"} in, anything out`,
      vpcId: network.vpc.id,
      egressHttps: "HTTPS: ECR, CloudWatch Logs, Secrets Manager and the APIs the app calls",
    });
    this.connections = new Connections(this, {
      securityGroupId: this.securityGroup.id,
      kind: "Service",
      defaultPort: port,
      ingressDescription: (from) => (from.kind === "LoadBalancer" ? "The load balancer, on the container port" : `From ${from.kind}, on the container port`),
      egressDescription: "To the service tasks",
    });
    grantServiceDeploy(this, props);
    props.egress.forEach(({ cidr, port: to, description }, i) => {
      new VpcSecurityGroupEgressRule(this, `Egress${i}`, {
        securityGroupId: this.securityGroup.id,
        description: description ?? `service.egress ${i}`,
        ipProtocol: "tcp",
        fromPort: to,
        toPort: to,
        cidrIpv4: cidr,
      });
    });
    if (loadBalancer && route && port !== undefined) {
      this.targetGroup = loadBalancer.addTargets(this.sibling("TargetGroup"), { ...route, name: `${props.name}-tg`, port });
      loadBalancer.connections.allowTo(this, port);
    }
    const targetGroup = this.targetGroup;

    this.service = new EcsService(this, "Service", {
      name: props.name,
      cluster: cluster.clusterArn,
      taskDefinition: taskDefinition.taskDefinitionArn,
      desiredCount: props.desiredCount,
      capacityProviderStrategy: [...capacity.strategy],
      networkConfiguration: {
        subnets: network.appSubnetIds,
        securityGroups: [this.securityGroup.id],
        assignPublicIp: capacity.publicIpCapable && network.appNeedsPublicIp,
      },
      loadBalancer: targetGroup && [{ targetGroupArn: targetGroup.targetGroupArn, containerName: CONTAINER_NAME, containerPort: port! }],
      // ECS takes a grace period only for a service behind a load balancer.
      healthCheckGracePeriodSeconds: targetGroup && props.healthCheckGracePeriodSeconds,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      enableExecuteCommand: props.enableExecuteCommand,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      waitForSteadyState: props.waitForSteadyState,
      orderedPlacementStrategy: capacity.placement.length ? [...capacity.placement] : undefined,
      // The listener (or rule) first, so the target group belongs to a load balancer; the capacity
      // providers first, so the strategy names registered ones.
      dependsOn: [...(targetGroup ? [targetGroup.listenerRule ?? loadBalancer!.listener] : []), cluster.capacityProviders],
    });
  }

  /** The id of something this service makes beside itself: `<X>Service` → `<X><kind>`. */
  private sibling(kind: string): string {
    return `${this.node.id.replace(/Service$/, "")}${kind}`;
  }

  /** The service's name, for CloudWatch dimensions and the CLI. */
  get serviceName(): string {
    return this.service.name;
  }

  /** The service's ARN (its Terraform id), as ECS events name it. */
  get serviceArn(): string {
    return this.service.id;
  }

  /** The load balancer in front of it; none for a worker. */
  get loadBalancer(): LoadBalancer | undefined {
    return this.props.loadBalancer;
  }

  /** The cluster it runs in. */
  get cluster(): Cluster {
    return this.props.cluster;
  }

  /** Its key in `services`; none for the default API. */
  get key(): string | undefined {
    return this.props.key;
  }

  /** Its scaling target, once `autoScaleTaskCount` made one. */
  get autoscaling(): Autoscaling | undefined {
    return this.scaling;
  }

  /** The tasks' CPU as a share of what they reserve, in %; Average over 5 minutes (`SampleCount` counts the tasks reporting). */
  metricCpuUtilization(options?: MetricOptions): Metric {
    return metricOf("AWS/ECS", "CPUUtilization", this.dimensions, "Average", options);
  }

  /** The tasks' memory as a share of what they reserve, in %; Average over 5 minutes. */
  metricMemoryUtilization(options?: MetricOptions): Metric {
    return metricOf("AWS/ECS", "MemoryUtilization", this.dimensions, "Average", options);
  }

  /** Tasks the service wants; Container Insights publishes it (`cluster.containerInsights`). Average over 5 minutes. */
  metricDesiredTaskCount(options?: MetricOptions): Metric {
    return metricOf("ECS/ContainerInsights", "DesiredTaskCount", this.dimensions, "Average", options);
  }

  /** Tasks running; Container Insights publishes it (`cluster.containerInsights`). Average over 5 minutes. */
  metricRunningTaskCount(options?: MetricOptions): Metric {
    return metricOf("ECS/ContainerInsights", "RunningTaskCount", this.dimensions, "Average", options);
  }

  private get dimensions(): Record<string, string> {
    return { ClusterName: this.cluster.clusterName, ServiceName: this.serviceName };
  }

  /**
   * Lets the task count follow load (target tracking on CPU, memory and, when set, requests per task,
   * which needs a target group). Autoscaling then owns the count, so Terraform stops resetting it to
   * `desiredCount`. Once only.
   */
  autoScaleTaskCount(settings: AutoscalingConfig): Autoscaling {
    if (this.scaling) throw new Error(`Service ${this.node.path}: autoScaleTaskCount was already called; the service has one scaling target`);
    const { cluster, loadBalancer } = this.props;
    const targetGroup = this.targetGroup;
    if (settings.requestsPerTarget !== undefined && !targetGroup)
      throw new Error(`Service ${this.node.path}: requestsPerTarget scales on the load balancer's requests, and a worker gets none`);
    this.service.lifecycle = { ignoreChanges: ["desired_count"] };
    // Beside the service, where it has always been, so existing stacks keep its Terraform address.
    this.scaling = new Autoscaling(this.node.scope!, this.sibling("Autoscaling"), {
      ...settings,
      name: this.props.name,
      clusterName: cluster.clusterName,
      serviceName: this.serviceName,
      requestCountLabel: targetGroup && `${loadBalancer!.loadBalancerArnSuffix}/${targetGroup.targetGroupArnSuffix}`,
    });
    return this.scaling;
  }
  /**
   * Its alarms: CPU and memory, its tasks running below the desired count (when Container Insights publishes
   * task counts), and for a routed service its target group's unhealthy targets and p99 response time. Named
   * after its key (`admin-cpu`), the default API's without one.
   */
  alarmSpecs(t: AlarmThresholds): AlarmSpec[] {
    const label = this.key === undefined ? "" : pascal(this.key);
    const what = this.key === undefined ? "" : `${this.key}-`;
    const usage: [id: string, metric: Metric, name: string, threshold: number][] = [
      ["Cpu", this.metricCpuUtilization({ period: 900 }), "CPU", t.cpuPercent],
      ["Memory", this.metricMemoryUtilization({ period: 900 }), "memory", t.memoryPercent],
    ];
    const specs: AlarmSpec[] = usage.map(([id, metric, name, threshold]) => ({
      id: `${label}Service${id}`,
      what: `${what}${id.toLowerCase()}`,
      body: {
        ...alarmMetric(metric),
        evaluationPeriods: 1,
        alarmDescription: `The service's average ${name} above ${threshold} % over 15 minutes`,
        comparisonOperator: "GreaterThanThreshold",
        threshold,
        treatMissingData: "missing",
      },
    }));
    if (this.cluster.containerInsights)
      specs.push({
        id: `${label}ServiceRunningTasks`,
        what: `${what}running-tasks`,
        body: {
          alarmDescription: "Fewer tasks running than desired for 15 minutes (crash loop, placement or image pull failures)",
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          evaluationPeriods: 3,
          treatMissingData: "notBreaching",
          metricQuery: [
            { id: "missing", expression: "desired - running", label: "tasks missing", returnData: true },
            metricQuery("desired", this.metricDesiredTaskCount()),
            metricQuery("running", this.metricRunningTaskCount()),
          ],
        },
      });
    const target = this.targetGroup;
    if (target)
      specs.push(
        {
          id: `${label}ServiceUnhealthyTargets`,
          what: `${what}unhealthy-targets`,
          body: {
            ...alarmMetric(target.metricUnhealthyHostCount({ statistic: "Maximum" })),
            alarmDescription: "A target failed the load balancer's health check for 10 minutes",
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            evaluationPeriods: 2,
            treatMissingData: "notBreaching",
          },
        },
        {
          id: `${label}ServiceResponseTime`,
          what: `${what}p99-response-time`,
          body: {
            ...alarmMetric(target.metricTargetResponseTime({ statistic: "p99" })),
            alarmDescription: `p99 response time above ${t.targetP99Milliseconds} ms over 5 minutes`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: t.targetP99Milliseconds / 1000,
            evaluationPeriods: 1,
            treatMissingData: "notBreaching",
          },
        },
      );
    return specs;
  }
}

/**
 * Deploying a service: creating and deleting it is the administrator's (a service a release made would run on,
 * unknown to the stack's reviewers); a release updates it, only in its own cluster, in the environment's subnets
 * and with the environment's task definitions (UpdateService evaluates ecs:cluster, ecs:subnet and
 * ecs:task-definition: AWS's Service Authorization Reference, "Actions, resources, and condition keys for Amazon
 * Elastic Container Service"), so no release moves a service into another environment's network or recipe.
 */
function grantServiceDeploy(service: Service, props: ServiceProps): void {
  const deploy = DeployPermissions.of(service);
  if (!deploy) return;
  deploy.service("EcsServices", {
    kind: SERVICE,
    create: ["ecs:CreateService", "ecs:TagResource"],
    manage: ["ecs:DescribeServices", "ecs:ListTagsForResource"],
    destroy: ["ecs:DeleteService"],
  });
  const release = deploy.release(["aws_ecs_service"]);
  const prefix = deploy.prefix;
  release.service("EcsServiceTags", {
    manage: ["ecs:DescribeServices", "ecs:ListTagsForResource", "ecs:TagResource", "ecs:UntagResource"],
    resources: [deploy.arn("ecs", `service/${prefix}/*`)],
    kind: SERVICE,
  });
  release.allow([
    {
      Sid: `EcsServiceUpdates${props.key === undefined ? "" : pascal(props.key)}`,
      Action: "ecs:UpdateService",
      Resource: deploy.arn("ecs", `service/${prefix}/${props.name}`),
      Condition: {
        ...deploy.ownResource,
        // By name (the cluster is the environment's prefix): the policy names no resource but the subnets, whose ids exist only once made.
        ArnEquals: { "ecs:cluster": deploy.arn("ecs", `cluster/${prefix}`) },
        ArnLikeIfExists: { "ecs:task-definition": environmentRevisions(deploy) },
        "ForAllValues:StringEquals": { "ecs:subnet": props.network.appSubnetIds },
      },
    },
  ]);
}
