import type { EnvironmentSettings } from "../lib/settings/environment/settings";

/**
 * The environments, one stack each. This is the file a forker edits: rename the project, change the
 * region or sizes here. Anything left out takes the default documented in docs/settings.md.
 */

/**
 * Sandbox: cheap, short-lived, destroys cleanly; within its $50 budget left running (`npm run cost`). One
 * small task on Fargate Spot in a public subnet (no NAT gateway: its security group admits only the
 * load balancer), no Container Insights, no dashboard.
 */
export const dev: EnvironmentSettings = {
  name: "dev",
  project: "rest-api",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  encryption: { keyDeletionWindowDays: 7 },
  network: { cidr: "10.10.0.0/16", natMode: "none", flowLogRetentionDays: 7 },
  registry: { keepImages: 10, forceDelete: true },
  cluster: { onDemandBase: 0, onDemandWeight: 0, spotWeight: 1, containerInsights: false, logRetentionDays: 7 },
  // The chapter's recipe at its smallest Fargate size: 0.25 vCPU, 512 MB, port 8080, one environment variable.
  task: { cpu: 256, memory: 512, containerPort: 8080, environment: { APP_ENV: "dev" }, logRetentionDays: 7 },
  service: { desiredCount: 1 },
  autoscaling: { minCapacity: 1, maxCapacity: 2 },
  loadBalancer: { deletionProtection: false },
  // The alarms without the dashboard ($3): the console's alarm list shows the same in a sandbox.
  alarms: { dashboard: false },
  // Single-AZ, no final snapshot, short key deletion window: `destroy` leaves nothing to pay for.
  database: {
    instanceClass: "db.t4g.micro",
    multiAz: false,
    deletionProtection: false,
    skipFinalSnapshot: true,
    backupRetentionDays: 1,
    applyImmediately: true,
    logRetentionDays: 7,
    keyDeletionWindowDays: 7,
  },
};

/**
 * Production: HTTPS only, behind WAF; three tasks over three AZs, an on-demand base, protected from
 * accidental deletion.
 */
export const prod: EnvironmentSettings = {
  name: "prod",
  project: "rest-api",
  production: true,
  // EXAMPLE: replace with the account prod deploys to. Planning prod against AWS fails while it is one of
  // AWS's documentation accounts; with your own, a plan with another account's credentials stops first.
  accountId: "111122223333",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  // Every log group kept a year, as audits (and checkov's CKV_AWS_338) ask of production.
  network: { cidr: "10.20.0.0/16", natMode: "per-az", flowLogRetentionDays: 365 },
  registry: { keepImages: 50, forceDelete: false },
  cluster: { onDemandBase: 3, onDemandWeight: 1, spotWeight: 1, logRetentionDays: 365 },
  // The chapter's recipe: 0.5 vCPU, 1 GB, port 8080, one environment variable.
  task: { cpu: 512, memory: 1024, containerPort: 8080, environment: { APP_ENV: "production" }, logRetentionDays: 365 },
  service: { desiredCount: 3 },
  autoscaling: { minCapacity: 3, maxCapacity: 12, requestsPerTarget: 1000 },
  loadBalancer: {
    deletionProtection: true,
    accessLogs: true,
    accessLogsExpiryDays: 90,
    // EXAMPLE: replace both with your domain and the Route 53 hosted zone that serves it (or give
    // certificateArn). Planning prod against AWS fails while this reserved example domain is here.
    https: { domainName: "api.example.com", hostedZoneId: "Z0EXAMPLE0REPLACEME0" },
  },
  waf: { enabled: true, logRetentionDays: 365 },
  // What prod may cost a month before usage (npm run cost): its budget's alerts, and the ceiling synth checks.
  budget: { monthlyUsd: 400 },
  // Traces of every request into X-Ray: a collector sidecar in each task (docs/deploy-and-release.md, Tracing).
  tracing: { enabled: true },
  // Multi-AZ, protected, a final snapshot on delete, two weeks of backups.
  database: {
    instanceClass: "db.t4g.medium",
    allocatedStorageGb: 50,
    maxAllocatedStorageGb: 200,
    multiAz: true,
    deletionProtection: true,
    skipFinalSnapshot: false,
    backupRetentionDays: 14,
    logRetentionDays: 365,
    keyDeletionWindowDays: 30,
  },
};

export const environments: readonly EnvironmentSettings[] = [dev, prod];
