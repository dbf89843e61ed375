import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { parseSettings } from "../../lib/settings/environment/schema";
import { env, synth } from "../support/helpers";

/**
 * A corpus of realistic mistakes, every section: each must stop synth with a message that names the
 * setting as the user wrote it, shows the value, and says what is allowed. None may reach Terraform.
 */
const arm = { task: { cpuArchitecture: "ARM64" } };
const https = (more: object) => ({
  loadBalancer: { https: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012", ...more } },
});
const s3 = (more: object) => ({ state: { backend: "s3", bucket: "my-state", ...more } });

const CASES: [setting: string, overrides: Record<string, unknown>][] = [
  // Unknown keys, at every level: refused, not dropped.
  ["memmory", { memmory: 2048 }],
  ["autoScaling", { autoScaling: { enabled: false } }],
  ["task.memmory", { task: { memmory: 2048 } }],
  ["task.enable", { task: { enable: true } }],
  ["task.image.tags", { task: { image: { tags: "v1" } } }],
  ["task.healthCheck.cmd", { task: { healthCheck: { cmd: "true" } } }],
  ["network.natmode", { network: { natmode: "none" } }],
  ["registry.keepImage", { registry: { keepImage: 5 } }],
  ["cluster.spot", { cluster: { spot: 1 } }],
  ["service.desired", { service: { desired: 2 } }],
  ["autoscaling.max", { autoscaling: { max: 4 } }],
  ["loadBalancer.healthcheck", { loadBalancer: { healthcheck: { path: "/x" } } }],
  ["loadBalancer.healthCheck.paths", { loadBalancer: { healthCheck: { paths: "/x" } } }],
  ["loadBalancer.https.certificate", { loadBalancer: { https: { certificate: "arn" } } }],
  ["database.instanceType", { database: { instanceType: "db.t4g.micro" } }],
  ["database.enable", { database: { enable: false } }],
  ["compute.ec2.instance", { compute: { mode: "ec2", ec2: { instance: "t3.small" } } }],
  ["compute.modes", { compute: { modes: "ec2" } }],
  ["ci.repository", { ci: { githubRepository: "acme/api", repository: "acme/api" } }],
  ["state.bucketName", { state: { backend: "s3", bucket: "b-ok", bucketName: "x" } }],
  ["waf.enable", { waf: { enable: true } }],
  ["network.endpoint", { network: { endpoint: true } }],
  // Wrong types.
  ["project", { project: 42 }],
  ["production", { production: "yes" }],
  ["registry.encryption", { registry: { encryption: "aws:kms" } }],
  ["network.endpoints", { network: { endpoints: "true" } }],
  ["waf.rateLimitPer5Minutes", { waf: { rateLimitPer5Minutes: 1.5 } }],
  ["waf.logRetentionDays", { waf: { logRetentionDays: 45 } }],
  ["alarms.dashboard", { alarms: { dashboard: 1 } }],
  ["region", { region: ["us-east-1"] }],
  ["availabilityZones", { availabilityZones: "us-east-1a" }],
  ["availabilityZones.0", { availabilityZones: [1, 2] }],
  ["tags.Team", { tags: { Team: 7 } }],
  ["task.cpu", { task: { cpu: "512" } }],
  ["task.memory", { task: { memory: 1024.5 } }],
  ["task.environment.PORT_COUNT", { task: { environment: { APP_ENV: "x", PORT_COUNT: 3 } } }],
  ["task.environment", { task: { environment: ["APP_ENV=x"] } }],
  ["task.secrets.API_KEY", { task: { secrets: { API_KEY: null } } }],
  ["task.healthCheck.command", { task: { healthCheck: { command: 5 } } }],
  ["task.healthCheck.command", { task: { healthCheck: { command: ["/bin/probe", 1] } } }],
  ["task.readonlyRootFilesystem", { task: { readonlyRootFilesystem: "false" } }],
  ["task.user", { task: { user: 1000 } }],
  ["task.cpuArchitecture", { task: { cpuArchitecture: "arm64" } }],
  ["network.natMode", { network: { natMode: "per_az" } }],
  ["network.flowLogTrafficType", { network: { flowLogTrafficType: "all" } }],
  ["network.cidr", { network: { cidr: 10 } }],
  ["registry.forceDelete", { registry: { forceDelete: "yes" } }],
  ["cluster.containerInsights", { cluster: { containerInsights: 1 } }],
  ["service.desiredCount", { service: { desiredCount: "3" } }],
  ["autoscaling.enabled", { autoscaling: { enabled: "true" } }],
  ["loadBalancer.allowedCidrs", { loadBalancer: { allowedCidrs: "0.0.0.0/0" } }],
  ["loadBalancer.internal", { loadBalancer: { internal: "no" } }],
  ["database.multiAz", { database: { multiAz: 1 } }],
  ["database.engineVersion", { database: { engineVersion: 17 } }],
  ["compute.mode", { compute: { mode: "fargate-spot" } }],
  ["ci.githubRepository", { ci: { environments: ["dev"] } }],
  ["ci.environments", { ci: { githubRepository: "acme/api", environments: "dev" } }],
  ["state.backend", { state: { backend: "gcs", bucket: "x" } }],
  ["state", { state: "s3" }],
  ["state.bucket", { state: { backend: "s3" } }],
  // Values the schema refuses by the rules of the construct that uses them, named the same way.
  ["name", { name: "Dev" }],
  ["project", { project: "My_Project" }],
  ["project", { project: "internal" }],
  ["project", { project: "api-" }],
  ["project", { project: "api--v2" }],
  ["project", { project: "payments-gateway-api", name: "staging-blue" }],
  ["region", { region: "us-east1" }],
  ["region", { region: "eu-middle-1" }],
  ["availabilityZones", { availabilityZones: ["us-east-1a"] }],
  ["availabilityZones", { availabilityZones: ["us-east-1a", "us-east-1a"] }],
  ["availabilityZones", { availabilityZones: ["us-east-1a", "eu-west-1b"] }],
  // Values AWS would refuse only at apply.
  ["availabilityZones", { region: "us-west-1", availabilityZones: ["us-west-1a", "us-west-1d"] }],
  ["availabilityZones", { region: "eu-west-1", availabilityZones: ["eu-west-1a", "eu-west-1z"] }],
  ["task.healthCheck.timeoutSeconds", { task: { healthCheck: { command: "true", timeoutSeconds: 90 } } }],
  ["loadBalancer.allowedCidrs", { loadBalancer: { allowedCidrs: ["203.0.113.0/24", "198.51.100.0/24", "203.0.113.0/24"] } }],
  [
    "service.egress",
    {
      service: {
        egress: [
          { cidr: "10.0.8.0/24", port: 587 },
          { cidr: "10.0.8.0/24", port: 587, description: "again" },
        ],
      },
    },
  ],
  ["database.maxAllocatedStorageGb", { database: { allocatedStorageGb: 100, maxAllocatedStorageGb: 105 } }],
  // The audit of every setting against its resource's limits (docs/settings-audit.md); edges in __tests__/settings/aws-limits.test.ts.
  ["tags", { tags: { ["k".repeat(128)]: "v" } }],
  ["tags", { tags: Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`Tag${i}`, "v"])) }],
  ["tags", { tags: { Team: "aws:platform" } }],
  ["tags", { tags: { Team: "R&D" } }],
  ["tags", { tags: { project: "x" } }],
  ["tags", { tags: { Team: "a", team: "b" } }],
  ["state.kmsKeyId", s3({ kmsKeyId: "state-key" })],
  ["state.bucket", s3({ bucket: "sthree-state" })],
  ["project", { project: "sg" }],
  ["project", { project: "sthree", loadBalancer: { accessLogs: true } }],
  ["alarms.emails", { alarms: { enabled: false, emails: Array.from({ length: 11 }, (_, i) => `ops${i}@example.com`) } }],
  ["services", { services: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`s${i}`, { route: { pathPatterns: [`/s${i}/*`] } }])) }],
  ["loadBalancer.healthCheck.matcher", { loadBalancer: { healthCheck: { matcher: "199" } } }],
  ["loadBalancer.healthCheck.path", { loadBalancer: { healthCheck: { path: `/${"a".repeat(1024)}` } } }],
  ["loadBalancer.https.domainName", { loadBalancer: { https: { domainName: `${"a".repeat(61)}.com`, hostedZoneId: "Z0123456789ABCDEFGHIJ" } } }],
  ["services.admin.route.pathPatterns.0", { services: { admin: { route: { pathPatterns: ["/admin;v=2"] } } } }],
  ["services.admin.route.hostHeaders.0", { services: { admin: { route: { hostHeaders: ["admin"] } } } }],
  ["services.admin.route", { services: { admin: { route: { pathPatterns: ["/a/*/*", "/b/*/*"], hostHeaders: ["*.ex?mple.com"] } } } }],
  ["service.egress.0.description", { service: { egress: [{ cidr: "10.0.8.0/24", port: 587, description: "SMTP's relay" }] } }],
  ["service.egress", { service: { egress: [{ cidr: "0.0.0.0/0", port: 443 }] } }],
  ["database.username", { database: { username: "user" } }],
  ["database.databaseName", { database: { databaseName: "select" } }],
  // A stopping task that could not drain in time, and migrations with no time at start.
  ["task.stopTimeoutSeconds", { task: { stopTimeoutSeconds: 20 } }],
  ["loadBalancer.healthCheck.unhealthyThreshold", { loadBalancer: { healthCheck: { intervalSeconds: 60, unhealthyThreshold: 3 } } }],
  ["service.healthCheckGracePeriodSeconds", { service: { healthCheckGracePeriodSeconds: 12 } }],
  ["task.environment.SHUTDOWN_TIMEOUT_MS", { task: { environment: { SHUTDOWN_TIMEOUT_MS: "ten seconds" } } }],
  ["task.environment.DRAIN_TIMEOUT_MS", { task: { environment: { DRAIN_TIMEOUT_MS: "0" } } }],
  ["waf.countRules.0", { waf: { enabled: true, countRules: ["XSS_BODY"] } }],
  ["tags", { tags: { "aws:team": "x" } }],
  ["tags", { tags: { Project: "x" } }],
  ["state.bucket", s3({ bucket: "My_Bucket" })],
  ["state.bucket", s3({ bucket: "a..b" })],
  ["state.region", s3({ region: "us-east" })],
  ["state.key", s3({ key: "/abs/path" })],
  ["network.cidr", { network: { cidr: "10.0.0.0/8" } }],
  ["network.cidr", { network: { cidr: "10.0.0.1/16" } }],
  ["network.cidr", { network: { cidr: "not-a-cidr" } }],
  ["network.flowLogRetentionDays", { network: { flowLogRetentionDays: 10 } }],
  ["registry.keepImages", { registry: { keepImages: 0 } }],
  ["registry.untaggedExpiryDays", { registry: { untaggedExpiryDays: 0 } }],
  ["cluster.spotWeight", { cluster: { spotWeight: -1 } }],
  ["cluster.spotWeight", { ...arm, cluster: { spotWeight: 1 } }],
  ["cluster.onDemandBase", { cluster: { onDemandBase: -2 } }],
  ["cluster.logRetentionDays", { cluster: { logRetentionDays: 31 } }],
  ["cluster.onDemandWeight", { cluster: { onDemandWeight: 0, spotWeight: 0 } }],
  ["task.cpu", { task: { cpu: 300 } }],
  ["task.memory", { task: { cpu: 256, memory: 4096 } }],
  ["task.containerPort", { task: { containerPort: 70000 } }],
  ["task.stopTimeoutSeconds", { task: { stopTimeoutSeconds: 500 } }],
  ["task.scratchPath", { task: { scratchPath: "tmp" } }],
  ["task.scratchSizeMib", { task: { scratchSizeMib: 0 } }],
  ["task.scratchSizeMib", { task: { cpu: 256, memory: 512, scratchSizeMib: 300 } }],
  ["services.worker.task.scratchSizeMib", { services: { worker: { task: { cpu: 256, memory: 512, scratchSizeMib: 257 } } } }],
  ["ci.workflows", { ci: { githubRepository: "acme/api", workflows: ["deploy"] } }],
  ["ci.ref", { ci: { githubRepository: "acme/api", ref: "refs/pull/1/merge" } }],
  ["task.user", { task: { user: "root user" } }],
  ["task.logRetentionDays", { task: { logRetentionDays: 8 } }],
  ["task.environment.DB_HOST", { task: { environment: { APP_ENV: "x", DB_HOST: "other" } } }],
  ["task.environment", { task: { environment: { "BAD-NAME": "x" } } }],
  ["task.secrets.API_KEY", { task: { secrets: { API_KEY: "plain-text-secret" } } }],
  ["task.healthCheck.command", { task: { healthCheck: { command: "  " } } }],
  ["task.healthCheck.intervalSeconds", { task: { healthCheck: { command: "true", intervalSeconds: 1 } } }],
  ["task.healthCheck.retries", { task: { healthCheck: { command: "true", retries: 11 } } }],
  ["task.healthCheck.timeoutSeconds", { task: { healthCheck: { command: "true", timeoutSeconds: 1 } } }],
  ["task.healthCheck.startPeriodSeconds", { task: { healthCheck: { command: "true", startPeriodSeconds: 301 } } }],
  ["task.image", { task: { image: { tag: "v1", uri: "ghcr.io/a/b:1" } } }],
  ["task.image.tag", { task: { image: { tag: "-bad" } } }],
  ["task.image.uri", { task: { image: { uri: "ghcr.io/a/b" } } }],
  ["service.desiredCount", { service: { desiredCount: -1 } }],
  ["service.healthCheckGracePeriodSeconds", { service: { healthCheckGracePeriodSeconds: -5 } }],
  ["service.enableExecuteCommand", { service: { enableExecuteCommand: true } }],
  ["autoscaling.minCapacity", { autoscaling: { minCapacity: 5, maxCapacity: 2 } }],
  ["autoscaling.cpuTargetPercent", { autoscaling: { cpuTargetPercent: 150 } }],
  ["autoscaling.memoryTargetPercent", { autoscaling: { memoryTargetPercent: 0 } }],
  ["autoscaling.scaleInCooldownSeconds", { autoscaling: { scaleInCooldownSeconds: -1 } }],
  ["loadBalancer.allowedCidrs.0", { loadBalancer: { allowedCidrs: ["0.0.0.0"] } }],
  ["loadBalancer.idleTimeoutSeconds", { loadBalancer: { idleTimeoutSeconds: 0 } }],
  ["loadBalancer.deregistrationDelaySeconds", { loadBalancer: { deregistrationDelaySeconds: 4000 } }],
  ["loadBalancer.healthCheck.path", { loadBalancer: { healthCheck: { path: "health" } } }],
  ["loadBalancer.healthCheck.timeoutSeconds", { loadBalancer: { healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } } }],
  ["loadBalancer.healthCheck.matcher", { loadBalancer: { healthCheck: { matcher: "ok" } } }],
  ["loadBalancer.healthCheck.healthyThreshold", { loadBalancer: { healthCheck: { healthyThreshold: 1 } } }],
  ["loadBalancer.https.sslPolicy", https({ sslPolicy: "ELBSecurityPolicy-2016-08" })],
  ["loadBalancer.https.sslPolicy", https({ sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-6" })],
  ["loadBalancer.https.certificateArn", https({ certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" })],
  ["loadBalancer.https.certificateArn", https({ certificateArn: "not-an-arn" })],
  ["loadBalancer.https", { loadBalancer: { https: {} } }],
  ["loadBalancer.https.hostedZoneId", { loadBalancer: { https: { domainName: "api.example.com", hostedZoneId: "abc" } } }],
  ["loadBalancer.accessLogsExpiryDays", { loadBalancer: { accessLogs: true, accessLogsExpiryDays: 0 } }],
  ["database.instanceClass", { database: { instanceClass: "db.t4g.nano" } }],
  ["database.instanceClass", { database: { instanceClass: "t4g.micro" } }],
  ["database.engineVersion", { database: { engineVersion: "9.6" } }],
  ["database.engineVersion", { database: { engineVersion: "seventeen" } }],
  ["database.allocatedStorageGb", { database: { allocatedStorageGb: 5 } }],
  ["database.maxAllocatedStorageGb", { database: { allocatedStorageGb: 100, maxAllocatedStorageGb: 50 } }],
  ["database.databaseName", { database: { databaseName: "my-db" } }],
  ["database.username", { database: { username: "admin" } }],
  ["database.backupRetentionDays", { database: { backupRetentionDays: 40 } }],
  ["database.monitoringIntervalSeconds", { database: { monitoringIntervalSeconds: 7 } }],
  ["database.logRetentionDays", { database: { logRetentionDays: 2 } }],
  ["database.keyDeletionWindowDays", { database: { keyDeletionWindowDays: 3 } }],
  ["encryption.keyDeletionWindowDays", { encryption: { keyDeletionWindowDays: 45 } }],
  ["service.egress.0.cidr", { service: { egress: [{ cidr: "10.0.8.0/33", port: 587 }] } }],
  ["service.egress.0.port", { service: { egress: [{ cidr: "10.0.8.0/24", port: 0 }] } }],
  ["alarms.emails.0", { alarms: { emails: ["ops"] } }],
  ["alarms.http5xxPercent", { alarms: { http5xxPercent: 0 } }],
  ["encryption.keyDeletionWindow", { encryption: { keyDeletionWindow: 7 } }],
  ["compute.ec2.instanceType", { compute: { mode: "ec2", ec2: { instanceType: "t3.huge" } } }],
  ["compute.ec2.minInstances", { compute: { mode: "ec2", ec2: { minInstances: 3, maxInstances: 1 } } }],
  ["compute.ec2.amiId", { compute: { mode: "ec2", ec2: { amiId: "ami-xyz" } } }],
  ["compute.ec2.targetCapacityPercent", { compute: { mode: "ec2", ec2: { targetCapacityPercent: 0 } } }],
  ["compute.ec2.rootVolumeGb", { compute: { mode: "ec2", ec2: { rootVolumeGb: 10 } } }],
  ["ci.githubRepository", { ci: { githubRepository: "acme" } }],
  ["ci.branch", { ci: { githubRepository: "acme/api", branch: "feature/../x" } }],
  ["ci.oidcProviderArn", { ci: { githubRepository: "acme/api", oidcProviderArn: "arn:aws:iam::1:oidc" } }],
  // Services beside the default API.
  ["services.Worker", { services: { Worker: {} } }],
  ["services.worker.tsk", { services: { worker: { tsk: { cpu: 256 } } } }],
  ["services.worker.task.containerPort", { services: { worker: { task: { containerPort: 9000 } } } }],
  ["services.worker.autoscaling.requestsPerTarget", { services: { worker: { autoscaling: { requestsPerTarget: 100 } } } }],
  ["services.worker.database", { database: { enabled: false }, services: { worker: { database: true } } }],
  ["services.worker.task.environment.DB_HOST", { services: { worker: { database: true, task: { environment: { DB_HOST: "x" } } } } }],
  ["services.worker.task.memory", { services: { worker: { task: { cpu: 256, memory: 4096 } } } }],
  ["services.worker.service.desiredCount", { services: { worker: { service: { desiredCount: 9 } } } }],
  ["services.worker.service.enableExecuteCommand", { services: { worker: { service: { enableExecuteCommand: true } } } }],
  ["services.worker.task.cpuArchitecture", { compute: { mode: "ec2" }, services: { worker: { task: { cpuArchitecture: "ARM64" } } } }],
  ["services.admin.route", { services: { admin: { route: {} } } }],
  [
    "services.admin.route",
    { services: { admin: { route: { pathPatterns: ["/a", "/b", "/c"], hostHeaders: ["a.example.com", "b.example.com", "c.example.com"] } } } },
  ],
  ["services.admin.route.pathPatterns.0", { services: { admin: { route: { pathPatterns: ["admin/*"] } } } }],
  ["services.admin.route.hostHeaders.0", { services: { admin: { route: { hostHeaders: ["Admin.Example.com"] } } } }],
  ["services.admin.route.priority", { services: { admin: { route: { pathPatterns: ["/admin/*"], priority: 0 } } } }],
  ["services.b.route.priority", { services: { a: { route: { pathPatterns: ["/a/*"], priority: 5 } }, b: { route: { pathPatterns: ["/b/*"], priority: 5 } } } }],
  ["services.admin.route.healthCheck.timeoutSeconds", { services: { admin: { route: { pathPatterns: ["/admin/*"], healthCheck: { timeoutSeconds: 30 } } } } }],
  ["services.admin.task.environment.PORT", { services: { admin: { route: { pathPatterns: ["/admin/*"] }, task: { environment: { PORT: "1" } } } } }],
  ["services.administration", { services: { administration: {} } }],
  ["services.backoffice", { project: "acme-platform", name: "staging", services: { backoffice: { route: { pathPatterns: ["/office/*"] } } } }],
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("bad settings stop synth, naming the setting", () => {
  it("the corpus is large and covers every section", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
    const sections = new Set(CASES.map(([setting]) => setting.split(/[. ]/)[0]));
    for (const section of [
      "name",
      "project",
      "region",
      "availabilityZones",
      "tags",
      "state",
      "network",
      "registry",
      "cluster",
      "task",
      "service",
      "autoscaling",
      "loadBalancer",
      "database",
      "compute",
      "ci",
      "services",
    ]) {
      expect([section, sections.has(section)]).toEqual([section, true]);
    }
  });

  it.each(CASES)("%s: %j", (setting, overrides) => {
    let message = "";
    try {
      synth(env(overrides as Partial<EnvironmentSettings>));
    } catch (error) {
      expect((error as Error).name).toBe("SettingError");
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`^Invalid setting ${escape(setting)} = .*: .+\\. Allowed: .+\\.$`, "s"));
    expect(message).not.toMatch(/\$\{TOKEN|\[object Object\]|undefined\)|\n\s+at /);
  });
});

describe("the schema owns the rules", () => {
  // Constructs receive checked, complete settings: a bad one is refused before any construct is built,
  // with the same message synth gives. (Run options such as IMAGE_TAG are not settings; their tests are elsewhere.)
  it.each(CASES)("%s: %j is refused by parseSettings alone", (setting, overrides) => {
    const input = env(overrides as Partial<EnvironmentSettings>);
    expect(() => parseSettings(input)).toThrow(new RegExp(`^Invalid setting ${escape(setting)} = `));
  });
});

describe("messages help", () => {
  const message = (overrides: Record<string, unknown>) => {
    try {
      synth(env(overrides as Partial<EnvironmentSettings>));
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("synth succeeded");
  };

  it("a misspelled key names the closest known one", () => {
    expect(message({ task: { memmory: 2048 } })).toContain('did you mean "memory"?');
    expect(message({ autoScaling: {} })).toContain('did you mean "autoscaling"?');
  });

  it("an unknown region names the closest real ones", () => {
    expect(message({ region: "us-east1" })).toMatch(/the closest are "us-east-1", /);
  });

  it("an unknown TLS policy or instance class names the closest valid ones", () => {
    expect(message(https({ sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-6" }))).toContain('"ELBSecurityPolicy-TLS13-1-2-2021-06"');
    expect(message({ database: { instanceClass: "db.t4g.mikro" } })).toContain('"db.t4g.micro"');
  });

  it("a retention period CloudWatch does not offer names the nearest ones", () => {
    expect(message({ task: { logRetentionDays: 8 } })).toContain("nearest: 7, 14");
  });

  it("a state setting is checked offline exactly as online", () => {
    const bad = { state: { backend: "s3", bucket: "Bad_Bucket" } };
    expect(() => synth(env(bad as Partial<EnvironmentSettings>), { offline: true })).toThrow(/^Invalid setting state\.bucket = "Bad_Bucket"/);
    expect(() => synth(env(bad as Partial<EnvironmentSettings>))).toThrow(/^Invalid setting state\.bucket = "Bad_Bucket"/);
  });
});
