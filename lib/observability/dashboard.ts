import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { holdings, ResourceKind } from "../core/resource-kind";
import { dashboardCost } from "../calculators/cost";

/** The environment's CloudWatch dashboard. */
export const DASHBOARD = new ResourceKind({
  name: "CloudWatch dashboard",
  file: __filename,
  types: ["aws_cloudwatch_dashboard"],
  // Dashboards take no tags.
  deploy: { services: ["cloudwatch"] },
  endpoints: ["cloudwatch"],
  price: dashboardCost,
  inventory: async (aws) =>
    holdings(
      "cloudwatch",
      "dashboard",
      ((await aws("cloudwatch", "ListDashboards")).DashboardEntries ?? []).map((d: { DashboardName?: string }) => d.DashboardName),
    ),
  alarms: { why: "it shows the alarms; it has no failure of its own" },
});
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import type { Alarms } from "./alarms";
import { jsonString } from "../core/hcl";
import { EnvironmentContext } from "../core/environment";

/** The dashboard is named after the environment, and its graphs show the environment's region (`EnvironmentContext`). */
export interface DashboardProps {
  readonly alarms: Alarms;
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard per environment: the state of every alarm at the top, then each alarm's
 * metric with its threshold, in the order the alarms were made (load balancer, services, database).
 */
export class Dashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { prefix: name, region } = EnvironmentContext.of(this);
    const deploy = DeployPermissions.of(this)?.release(["aws_cloudwatch_dashboard"]);
    // Dashboards are global, by name.
    deploy?.allow([
      {
        Sid: "Dashboard",
        Action: ["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"],
        Resource: deploy.arn("cloudwatch", `dashboard/${name}`, ""),
      },
    ]);
    const alarms = props.alarms.alarms;
    const status = {
      type: "alarm",
      x: 0,
      y: 0,
      width: 24,
      height: 3,
      properties: { title: `${name} alarms`, alarms: alarms.map((a) => a.arn) },
    };
    const graphs = alarms.map((alarm, i) => ({
      type: "metric",
      x: (i % 3) * WIDTH,
      y: 3 + Math.floor(i / 3) * HEIGHT,
      width: WIDTH,
      height: HEIGHT,
      properties: { title: alarm.alarmName, region, annotations: { alarms: [alarm.arn] }, view: "timeSeries", stacked: false },
    }));
    this.dashboard = new CloudwatchDashboard(this, "Dashboard", {
      dashboardName: name,
      dashboardBody: jsonString({ widgets: [status, ...graphs] }),
    });
  }
}
