/**
 * The game day's pure parts, on the synthesized stacks: what it reads from cdk.tf.json, the load
 * balancer it configures from the target group, and the WAF verdicts it plans. The game day itself
 * runs in `npm run gameday` (.ci/run) and, broken on purpose, in gameday.emulator.test.ts.
 */
import { haproxyConfig, matcherRegex } from "../../scripts/gameday/haproxy";
import { readImageConfig } from "../../scripts/gameday/image";
import { readSpec } from "../../scripts/gameday/stack";
import { environments } from "../../environments/environments";
import { resourcePrefix } from "../../lib/settings/environment/settings";
import { parseSettings } from "../../lib/settings/environment/schema";
import { synth } from "../support/helpers";

// The game day runs the API on PostgreSQL: it plays environments with a database (a fork's may have none).
const played = environments.filter((e) => parseSettings(e).database.enabled);

describe.each(played.map((e) => [e.name, e] as const))("the game day of %s reads its synthesized stack", (name, settings) => {
  const config = parseSettings(settings);
  const prefix = resourcePrefix(settings);
  const spec = readSpec(name, synth(settings), prefix);

  test("the default API's service, with the count and deployment percentages the settings give", () => {
    expect(spec.service).toMatchObject({
      name: prefix,
      desiredCount: config.service.desiredCount,
      healthCheckGracePeriodSeconds: config.service.healthCheckGracePeriodSeconds,
      circuitBreaker: true,
    });
    expect(spec.service.maximumPercent).toBeGreaterThan(100);
  });

  test("the target group's health check and deregistration delay, and the load balancer's idle timeout", () => {
    const hc = config.loadBalancer.healthCheck;
    expect(spec.targetGroup).toEqual({
      path: hc.path,
      matcher: hc.matcher,
      intervalSeconds: hc.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds,
      healthyThreshold: hc.healthyThreshold,
      unhealthyThreshold: hc.unhealthyThreshold,
      deregistrationDelaySeconds: config.loadBalancer.deregistrationDelaySeconds,
    });
    expect(spec.idleTimeoutSeconds).toBe(config.loadBalancer.idleTimeoutSeconds);
  });

  test("the container as ECS starts it: user, read-only root, stop timeout, the drain variables; the app's role, and the owner's login for the migrate container alone", () => {
    expect(spec.task).toMatchObject({
      family: prefix,
      user: config.task.user,
      readonlyRootFilesystem: config.task.readonlyRootFilesystem,
      stopTimeoutSeconds: config.task.stopTimeoutSeconds,
      containerPort: config.task.containerPort,
      // The memory its tasks are stopped past (scripts/gameday/memory.ts).
      memoryMiB: config.task.memory,
    });
    expect(Object.keys(spec.task.environment)).toEqual(expect.arrayContaining(["DRAIN_TIMEOUT_MS", "DRAIN_QUIET_MS", "KEEP_ALIVE_TIMEOUT_MS"]));
    if (config.database.enabled) {
      expect(spec.task.environment.DB_IAM_USER).toBe(config.database.appUsername);
      expect(spec.database.appUsername).toBe(config.database.appUsername);
      expect(spec.task.init).toMatchObject({ name: "migrate" });
      // The owner's login is the migrate container's alone (the secrets both share, as a fork's cache token, are others).
      expect(Object.keys(spec.task.secrets)).not.toEqual(expect.arrayContaining(["DB_USERNAME"]));
      expect(Object.keys(spec.task.secrets)).not.toEqual(expect.arrayContaining(["DB_PASSWORD"]));
      expect(spec.task.init!.secrets).toMatchObject({
        DB_USERNAME: `${spec.database.secretArnRef}:username::`,
        DB_PASSWORD: `${spec.database.secretArnRef}:password::`,
      });
    }
  });

  test("the web ACL's counted rules, where there is one", () => {
    expect(spec.webAcl?.countedRules).toEqual(config.waf.enabled ? [...config.waf.countRules] : undefined);
  });
});

describe("HAProxy as the target group", () => {
  test.each([
    ["200", "^(200)$"],
    ["200-202", "^(200|201|202)$"],
    ["200,204", "^(200|204)$"],
  ])("matcher %s is the status regex %s", (matcher, regex) => {
    expect(matcherRegex(matcher)).toBe(regex);
  });

  test("checks the path with the thresholds and interval, no retries, the idle timeout, all scaled alike", () => {
    const cfg = haproxyConfig(
      { path: "/health", matcher: "200", intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3, deregistrationDelaySeconds: 30 },
      60,
      8080,
      "/tmp/s.sock",
      { ms: (s) => s * 100 },
    );
    expect(cfg).toContain("http-check send meth GET uri /health");
    expect(cfg).toContain("default-server check inter 1000ms rise 2 fall 3 disabled");
    expect(cfg).toContain("timeout check 500ms");
    expect(cfg).toContain("timeout http-keep-alive 6000ms");
    expect(cfg).toContain("retries 0");
    expect(cfg).toContain("no option redispatch");
    // A line per request by its X-Request-Id and target, so a request with no answer still has its target.
    expect(cfg).toContain("capture request header X-Request-Id len 100");
    expect(cfg).toContain('log-format "gameday-request %[capture.req.hdr(0)] %s %ST %tsc"');
  });
});

test("the image runs as app/Dockerfile's runtime stage says", () => {
  expect(readImageConfig()).toMatchObject({ workdir: "/app", user: "1000:1000", cmd: ["dist/server.mjs"], env: { NODE_ENV: "production" } });
});
