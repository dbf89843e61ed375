import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { EVENT_RULE_GRANT } from "../core/event-rule";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import type { AlarmTopic } from "./alarm-topic";
import type { Cluster } from "../compute/cluster";
import { jsonString } from "../core/hcl";
import { EnvironmentContext } from "../core/environment";

/** The rule is `<prefix>-service-events`, and the services' ARNs name the environment's region and account (`EnvironmentContext`). */
export interface ServiceEventsProps {
  /** Every service in it is covered, those added later too. */
  readonly cluster: Cluster;
  readonly topic: AlarmTopic;
}

/**
 * An EventBridge rule that sends the bad news of every service in the cluster to the alarm topic: a
 * deployment that failed or that the circuit breaker rolled back (ECS Deployment State Change, ERROR)
 * and tasks that cannot start or be placed (ECS Service Action, WARN or ERROR). Metrics say neither.
 */
export class ServiceEvents extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: ServiceEventsProps) {
    super(scope, id);
    const environment = EnvironmentContext.of(this);
    const name = environment.prefix;
    // Service ARNs are arn:…:service/<cluster>/<service>: one prefix names them all, and stays the
    // same when a service is replaced or added.
    const services = environment.arn("ecs", `service/${props.cluster.clusterName}/`);
    this.rule = new CloudwatchEventRule(this, "Rule", {
      name: `${name}-service-events`,
      description: `Failed or rolled-back deployments and tasks that cannot start, in ${name}`,
      eventPattern: jsonString({
        source: ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change", "ECS Service Action"],
        resources: [{ prefix: services }],
        detail: { eventType: ["WARN", "ERROR"] },
      }),
    });
    new CloudwatchEventTarget(this, "Topic", { rule: this.rule.name, arn: props.topic.topicArn });
    DeployPermissions.of(this)?.service("EventRule", {
      ...EVENT_RULE_GRANT,
      resources: [environment.arn("events", `rule/${name}-service-events`)],
    });
  }
}
