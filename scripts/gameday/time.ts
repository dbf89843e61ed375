/**
 * Time scaled as one. The game day runs a production week in minutes by multiplying every duration that
 * orders events by one factor: the synthesized ones (health checks, deregistration delay, stop timeout,
 * grace period, the container health check, the load balancer's idle and connect timeouts and its propagation
 * delay) and every
 * duration the app reads from its environment (each variable of the app's ConfigSchema ending in `_MS` or
 * `_SECONDS`: drain, shutdown, keep-alive, migration budget, the database's connect, statement and query
 * timeouts, TCP keepalive, the pool's idle timeout, Retry-After, the login's cache), as the task sets it or
 * the app defaults it. A variable left out would keep its production length among scaled ones and reorder
 * what happens (at 0.2 an unscaled 11 s query timeout outlives the 9 s stop timeout; in prod it does not).
 *
 * Scaling is exact only up to what the app accepts (whole milliseconds, Retry-After in whole seconds, each
 * variable's minimum), so a scale is refused when it would change the order of any two durations as prod
 * has them (one shorter than another in prod must stay shorter), naming both and the scale.
 */
import { ConfigSchema } from "../../app/src/config";
import type { GamedaySpec } from "./stack";

/** The ALB's connect timeout to a target (not configurable): "10 seconds", Application Load Balancer target groups. */
export const ALB_CONNECT_TIMEOUT_SECONDS = 10;

/**
 * How long the ALB's nodes keep sending new requests to a target after the target group marked it unhealthy or
 * began deregistering it: each node acts on the change when it reaches it. AWS gives no figure (the pages are
 * named at LB_PROPAGATION_SECONDS in lib/compute/stop-timings.ts, the margin the drain covers); the game day's
 * load balancer lags by this much (scripts/gameday/haproxy.ts), its own figure, not read from the stack, so a
 * drain that leaves out the margin loses requests here as it would on AWS.
 */
export const ALB_PROPAGATION_SECONDS = 5;

type Shape = typeof ConfigSchema.shape;
const shape: Shape = ConfigSchema.shape;

/** The app's variables that hold a duration, by their unit: every `_MS` and `_SECONDS` variable of its ConfigSchema. */
export function durationVariables(): string[] {
  return Object.keys(shape)
    .filter((name) => /_(MS|SECONDS)$/.test(name))
    .sort();
}

const unitMs = (name: string) => (name.endsWith("_SECONDS") ? 1000 : 1);

/** The app's own default of a variable, read from its schema (no copy of it here). */
export function appDefault(name: string): number | undefined {
  const parsed = (shape as Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>)[name].safeParse(undefined);
  return parsed.success && typeof parsed.data === "number" ? parsed.data : undefined;
}

/** A duration as prod has it and as the game day runs it, both in milliseconds. */
export interface Duration {
  readonly name: string;
  readonly prodMs: number;
  readonly scaledMs: number;
}

export class ScaleRefused extends Error {
  override readonly name = "ScaleRefused";
}

/**
 * The app's duration variables, scaled: the task's value, else the app's default, times `scale`, rounded to
 * the variable's unit. Other variables are returned as given. Throws ScaleRefused when a scaled value is one
 * the app would refuse to start with.
 */
export function scaleEnvironment(environment: Readonly<Record<string, string>>, scale: number): Record<string, string> {
  const env = { ...environment };
  for (const name of durationVariables()) {
    const given = env[name] === undefined ? appDefault(name) : Number(env[name]);
    if (given === undefined) continue;
    const scaled = Math.round(given * scale);
    const check = (shape as Record<string, { safeParse(value: unknown): { success: boolean; error?: { issues: { message: string }[] } } }>)[name].safeParse(
      String(scaled),
    );
    if (!check.success)
      throw new ScaleRefused(
        `time scale ${scale}: ${name} would be ${scaled} (${given} in prod), which the app refuses (${check.error!.issues.map((i) => i.message).join("; ")})`,
      );
    env[name] = String(scaled);
  }
  return env;
}

/** Every duration that orders events, in prod and here: the synthesized ones and the app container's variables. */
export function durations(spec: GamedaySpec, scale: number, appEnvironment: Readonly<Record<string, string>> = spec.task.environment): Duration[] {
  const seconds = (name: string, value: number): Duration => ({ name, prodMs: value * 1000, scaledMs: Math.round(value * 1000 * scale) });
  const tg = spec.targetGroup;
  const hc = spec.task.healthCheck;
  const list: Duration[] = [
    seconds("the target group's health check interval", tg.intervalSeconds),
    seconds("the target group's health check timeout", tg.timeoutSeconds),
    seconds("the deregistration delay", tg.deregistrationDelaySeconds),
    seconds("the load balancer's idle timeout", spec.idleTimeoutSeconds),
    seconds("the load balancer's connect timeout", ALB_CONNECT_TIMEOUT_SECONDS),
    seconds("the load balancer's propagation delay", ALB_PROPAGATION_SECONDS),
    seconds("the task's stop timeout", spec.task.stopTimeoutSeconds),
    seconds("the service's health check grace period", spec.service.healthCheckGracePeriodSeconds),
    ...(hc
      ? [
          seconds("the container health check's interval", hc.intervalSeconds),
          seconds("the container health check's timeout", hc.timeoutSeconds),
          seconds("the container health check's start period", hc.startPeriodSeconds),
        ]
      : []),
  ];
  const scaled = scaleEnvironment(appEnvironment, scale);
  for (const name of durationVariables()) {
    const prod = appEnvironment[name] === undefined ? appDefault(name) : Number(appEnvironment[name]);
    if (prod === undefined) continue;
    list.push({ name, prodMs: prod * unitMs(name), scaledMs: Number(scaled[name]) * unitMs(name) });
  }
  return list;
}

/** Each pair of durations whose order `scale` changes: one shorter than another in prod and not shorter here (equal ones may part: neither comes first in prod). */
export function reorders(list: readonly Duration[], scale: number): string[] {
  const show = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);
  const found: string[] = [];
  for (const a of list)
    for (const b of list)
      if (a.prodMs < b.prodMs && a.scaledMs >= b.scaledMs)
        found.push(
          `${a.name} (${show(a.prodMs)} in prod) is shorter than ${b.name} (${show(b.prodMs)}) in prod, but at time scale ${scale} would be ${show(a.scaledMs)} against ${show(b.scaledMs)}`,
        );
  return found;
}

/** Refuses a scale that changes the order of two durations (reorders) or gives the app a value it refuses; returns the durations checked. */
export function checkOrder(spec: GamedaySpec, scale: number, appEnvironment?: Readonly<Record<string, string>>): Duration[] {
  const list = durations(spec, scale, appEnvironment);
  const found = reorders(list, scale);
  if (found.length)
    throw new ScaleRefused(
      `time scale ${scale} changes the order of events, so the game day would prove another system than prod: ${found.slice(0, 3).join("; ")}` +
        `${found.length > 3 ? `; and ${found.length - 3} more pairs` : ""}. Choose another --scale`,
    );
  return list;
}
