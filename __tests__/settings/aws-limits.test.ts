import { parseSettings } from "../../lib/settings/environment/schema";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";

/**
 * The limits of the AWS APIs the settings become (docs/settings-audit.md), each at its edge: the last value
 * AWS takes passes the schema, the first it refuses stops synth with the setting named. The refusals' wording
 * is held by __tests__/environments/bad-settings.test.ts; these hold where the line is.
 */
const env = (overrides: object): EnvironmentSettings => ({
  name: "test",
  region: "eu-west-1",
  availabilityZones: ["eu-west-1a", "eu-west-1b"],
  ...(overrides as Partial<EnvironmentSettings>),
});
const tags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`Tag${i}`, "v"]));
const emails = (count: number) => Array.from({ length: count }, (_, i) => `ops${i}@example.com`);
const routed = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`s${i}`, { route: { pathPatterns: [`/s${i}/*`] } }]));
const route = (r: object) => ({ services: { admin: { route: r } } });
const state = (more: object) => ({ state: { backend: "s3", bucket: "my-state", ...more } });
const https = (domainName: string) => ({ loadBalancer: { https: { domainName, hostedZoneId: "Z0123456789ABCDEFGHIJ" } } });
const egress = (entry: object) => ({ service: { egress: [{ cidr: "10.0.8.0/24", port: 587, ...entry }] } });
const KEY = "12345678-1234-1234-1234-123456789012";

const EDGES: [setting: string, limit: string, accepted: object, refused: object][] = [
  ["tags", "EC2 tag keys: 127 characters", { tags: { ["k".repeat(127)]: "v" } }, { tags: { ["k".repeat(128)]: "v" } }],
  ["tags", "50 tags a resource, 5 the stack's", { tags: tags(45) }, { tags: tags(46) }],
  ["tags", 'values not starting with "aws:"', { tags: { Team: "aws-platform" } }, { tags: { Team: "aws:platform" } }],
  ["tags", "IAM's tag characters", { tags: { "cost-center/id": "a+b=c@d.e_f: g" } }, { tags: { Team: "R&D" } }],
  ["tags", "IAM role tag keys without case", { tags: { Team: "a", Owner: "b" } }, { tags: { Team: "a", team: "b" } }],
  ["tags", "the stack's keys without case", { tags: { Projects: "x" } }, { tags: { project: "x" } }],
  [
    "state.kmsKeyId",
    "a key ARN",
    state({ kmsKeyId: `arn:aws:kms:eu-west-1:123456789012:key/${KEY}` }),
    state({ kmsKeyId: `arn:aws:kms:eu-west-1:123456789012:${KEY}` }),
  ],
  ["state.kmsKeyId", "a key id or alias", state({ kmsKeyId: "alias/terraform-state" }), state({ kmsKeyId: "terraform-state" })],
  ["state.bucket", "S3's reserved prefixes", state({ bucket: "sthree" }), state({ bucket: "sthree-state" })],
  ["project", 'security group names not starting "sg-"', { project: "sgx" }, { project: "sg" }],
  [
    "project",
    'bucket names not starting "sthree-"',
    { project: "sthreex", loadBalancer: { accessLogs: true } },
    { project: "sthree", loadBalancer: { accessLogs: true } },
  ],
  [
    "alarms.emails",
    "10 e-mail subscribers a budget notification",
    { alarms: { enabled: false, emails: emails(10) } },
    { alarms: { enabled: false, emails: emails(11) } },
  ],
  ["services", "100 target groups a load balancer", { services: routed(99) }, { services: routed(100) }],
  [
    "loadBalancer.healthCheck.matcher",
    "codes from 200",
    { loadBalancer: { healthCheck: { matcher: "200" } } },
    { loadBalancer: { healthCheck: { matcher: "199" } } },
  ],
  [
    "loadBalancer.healthCheck.matcher",
    "codes to 499",
    { loadBalancer: { healthCheck: { matcher: "200-499" } } },
    { loadBalancer: { healthCheck: { matcher: "200-500" } } },
  ],
  [
    "loadBalancer.healthCheck.path",
    "1024 characters",
    { loadBalancer: { healthCheck: { path: `/${"a".repeat(1023)}` } } },
    { loadBalancer: { healthCheck: { path: `/${"a".repeat(1024)}` } } },
  ],
  ["loadBalancer.https.domainName", "64 characters for a new certificate", https(`${"a".repeat(60)}.com`), https(`${"a".repeat(61)}.com`)],
  [
    "services.admin.route.pathPatterns.0",
    "ALB path characters",
    route({ pathPatterns: ["/admin/v2:beta/$x~'@+&\""] }),
    route({ pathPatterns: ["/admin;v=2"] }),
  ],
  ["services.admin.route.hostHeaders.0", "a dot in a host", route({ hostHeaders: ["admin.internal"] }), route({ hostHeaders: ["admin"] })],
  [
    "services.admin.route.hostHeaders.0",
    "letters after the last dot",
    route({ hostHeaders: ["admin.example.com"] }),
    route({ hostHeaders: ["admin.example.c0m"] }),
  ],
  [
    "services.admin.route",
    "5 wildcards a rule",
    route({ pathPatterns: ["/a/*/*", "/b/*/*"], hostHeaders: ["*.example.com"] }),
    route({ pathPatterns: ["/a/*/*", "/b/*/*"], hostHeaders: ["*.ex?mple.com"] }),
  ],
  ["service.egress.0.description", "255 characters a rule description", egress({ description: "a".repeat(255) }), egress({ description: "a".repeat(256) })],
  [
    "service.egress.0.description",
    "EC2's description characters",
    egress({ description: "SMTP relay (mail) #1: [a]+{b}!$*&;=,@/_-." }),
    egress({ description: "SMTP's relay" }),
  ],
  ["service.egress", "no second HTTPS-anywhere rule", egress({ cidr: "0.0.0.0/0", port: 444 }), egress({ cidr: "0.0.0.0/0", port: 443 })],
  ["database.username", "not a reserved word", { database: { username: "users" } }, { database: { username: "user" } }],
  ["database.databaseName", "not a reserved word", { database: { databaseName: "selection" } }, { database: { databaseName: "select" } }],
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("settings at the limits of the AWS APIs they become", () => {
  it.each(EDGES)("%s (%s): the last value AWS takes passes, the next is refused", (setting, _limit, accepted, refused) => {
    expect(() => parseSettings(env(accepted))).not.toThrow();
    expect(() => parseSettings(env(refused))).toThrow(new RegExp(`^Invalid setting ${escape(setting)} = .*: .+\\. Allowed: .+\\.$`, "s"));
  });
});
