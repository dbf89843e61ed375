/**
 * How a task stops without losing a request, as numbers the stack sets and checks at synth.
 *
 * ECS sends SIGTERM either after deregistering the task's target (a deploy or scale-in: the load
 * balancer has drained it for `deregistrationDelaySeconds`) or while it is still registered (a Fargate
 * Spot interruption, two minutes before the task is reclaimed; a task stopped by hand). The app then
 * fails its health check and keeps serving until the load balancer has seen `unhealthyThreshold`
 * failures and every one of its nodes has acted on them (the drain: LB_PROPAGATION_SECONDS more), then
 * finishes what is in flight (`SHUTDOWN_TIMEOUT_MS`), all before ECS kills it at
 * `task.stopTimeoutSeconds`. Pure functions: no construct, no cdktf.
 */
import type { TargetHealthCheckConfig } from "../edge/target-group";

/** The app's own SHUTDOWN_TIMEOUT_MS when the task does not set one (app/src/config.ts). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Fargate Spot's warning before it reclaims a task, and Fargate's largest stop timeout. */
export const SPOT_WARNING_SECONDS = 120;
/**
 * The load balancer's propagation margin: how long, after the target group has marked a target unhealthy or
 * begun deregistering it, the drain still expects requests, because an Application Load Balancer is several
 * nodes (at least one per Availability Zone) and each acts on the change when it reaches it. AWS documents the
 * lag without a figure: "the AWS systems that control the Load Balancer's target registration and health" run
 * behind the systems that stop a task (Amazon EKS Best Practices Guide, "Load Balancing": "Avoiding Errors &
 * Timeouts with Kubernetes Applications and AWS Load Balancers",
 * https://docs.aws.amazon.com/eks/latest/best-practices/load-balancing.html), while the ALB's own page only says
 * that it "stops sending requests to targets that are deregistering" (Application Load Balancers User Guide,
 * "Edit target group attributes": "Deregistration delay",
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html). So the
 * figure is this project's assumption, named here so it is checked and can be changed in one place: 5 s. The
 * drain covers it (stopTimings), so the stop timeout must too (checked at synth, lib/settings/environment/schema.ts); the
 * game day's load balancer keeps sending to a target for as long (scripts/gameday/haproxy.ts).
 */
export const LB_PROPAGATION_SECONDS = 5;
/** Between the process closing and ECS's SIGKILL: its last log lines and exit. */
export const EXIT_MARGIN_SECONDS = 2;
/** The variables the stack sets on a task the load balancer reaches. */
export const DRAIN_VARIABLES = ["DRAIN_TIMEOUT_MS", "DRAIN_QUIET_MS", "KEEP_ALIVE_TIMEOUT_MS"] as const;
/** The variable the stack sets on a task that migrates the database at start. */
export const MIGRATION_VARIABLE = "MIGRATION_TIMEOUT_MS";
/** Room left in the health check grace period after migrations: connecting, listening, the first health checks. */
export const START_MARGIN_SECONDS = 10;
/** Migrations need at least this long, or no task could start. */
export const MIN_MIGRATION_SECONDS = 5;

export interface StopTimings {
  /** How long the target group takes to see a stopping task fail: unhealthyThreshold × interval + timeout. */
  readonly detectionSeconds: number;
  /** The longest the task serves while failing its health check after SIGTERM: the detection, then LB_PROPAGATION_SECONDS for every node to act on it. */
  readonly drainSeconds: number;
  /** No request (health checks included) for this long means nothing routes to the task: interval + timeout. */
  readonly quietSeconds: number;
  readonly shutdownSeconds: number;
  /** The stop timeout the task needs: drain + shutdown + exit. */
  readonly requiredStopSeconds: number;
}

/** The timings of a task behind a load balancer with this health check. */
export function stopTimings(healthCheck: TargetHealthCheckConfig, shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): StopTimings {
  const detectionSeconds = healthCheck.unhealthyThreshold * healthCheck.intervalSeconds + healthCheck.timeoutSeconds;
  const drainSeconds = detectionSeconds + LB_PROPAGATION_SECONDS;
  const shutdownSeconds = Math.ceil(shutdownTimeoutMs / 1000);
  return {
    detectionSeconds,
    drainSeconds,
    quietSeconds: healthCheck.intervalSeconds + healthCheck.timeoutSeconds,
    shutdownSeconds,
    requiredStopSeconds: drainSeconds + shutdownSeconds + EXIT_MARGIN_SECONDS,
  };
}

/** The variables a routed task gets: its drain, and a keep-alive longer than the load balancer's idle timeout. */
export function drainEnvironment(timings: StopTimings, idleTimeoutSeconds: number): Record<string, string> {
  return {
    DRAIN_TIMEOUT_MS: String(timings.drainSeconds * 1000),
    DRAIN_QUIET_MS: String(timings.quietSeconds * 1000),
    KEEP_ALIVE_TIMEOUT_MS: String((idleTimeoutSeconds + 5) * 1000),
  };
}

/** The migration budget: the health check grace period less the time to start listening. */
export function migrationSeconds(healthCheckGracePeriodSeconds: number): number {
  return healthCheckGracePeriodSeconds - START_MARGIN_SECONDS;
}

/** SHUTDOWN_TIMEOUT_MS as the task sets it, or the app's default; undefined when it is not a whole number. */
export function shutdownTimeoutMs(environment: Readonly<Record<string, string>> | undefined): number | undefined {
  const given = environment?.SHUTDOWN_TIMEOUT_MS;
  if (given === undefined) return DEFAULT_SHUTDOWN_TIMEOUT_MS;
  return /^\d{1,9}$/.test(given) ? Number(given) : undefined;
}
