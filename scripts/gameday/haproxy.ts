/**
 * HAProxy standing in for the Application Load Balancer, configured from the synthesized listener
 * and target group: the health check's path, matcher, interval, timeout and thresholds, the idle
 * timeout, and round robin. Like an ALB it never retries a request on another target (`retries 0`,
 * no redispatch), so a request sent to a dying task fails as it would behind the ALB.
 *
 * Targets are registered and deregistered at run time through HAProxy's admin socket, in the ALB's
 * states: a new target starts unhealthy and takes traffic after `healthyThreshold` passing checks; a
 * deregistered one drains (no new requests) for the deregistration delay, then leaves.
 *
 * An ALB is several nodes, each acting on a change in the target group when it reaches it: for the
 * propagation delay (ALB_PROPAGATION_SECONDS, scaled) a target marked unhealthy, or deregistered, still gets
 * new requests. HAProxy is one node, so the lag is made here: a deregistered target stays in rotation that
 * long before it drains; a target HAProxy's checks mark down is put back in rotation with its checks paused
 * (the target group already reports it unhealthy) and taken out that long after (a watcher polls HAProxy's
 * state every WATCH_MS, so the lag is up to WATCH_MS short of the delay).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import dgram from "node:dgram";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TargetGroupSpec } from "./stack";
import { ALB_CONNECT_TIMEOUT_SECONDS, ALB_PROPAGATION_SECONDS } from "./time";

/** Targets the backend can hold at once; ECS's maximum percent of a small service stays well within. */
const SLOTS = 16;
/** How often the propagation watcher reads HAProxy's view of the targets. */
const WATCH_MS = 50;

export function checkHaproxy(): void {
  const probe = spawnSync("haproxy", ["-v"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0)
    throw new Error(
      "HAProxy was not found on PATH: the game day's load balancer. Install it with `apt-get install -y haproxy` (Debian's package), " +
        "or set SKIP_GAMEDAY=1 to skip the game day.",
    );
}

/** An ALB matcher ("200", "200-299", "200,204") as an HAProxy status regex. */
export function matcherRegex(matcher: string): string {
  const parts = matcher.split(",").map((part) => {
    const [from, to] = part.split("-").map(Number);
    const codes: number[] = [];
    for (let code = from; code <= (to ?? from); code++) codes.push(code);
    return codes.join("|");
  });
  return `^(${parts.join("|")})$`;
}

export interface Timing {
  /** Milliseconds of the synthesized seconds, scaled. */
  ms(seconds: number): number;
}

export function haproxyConfig(tg: TargetGroupSpec, idleTimeoutSeconds: number, port: number, socket: string, time: Timing, logPort?: number): string {
  return [
    "global",
    `  stats socket ${socket} mode 600 level admin`,
    // A line per request at its end (its X-Request-Id, the target it went to, the status and how it ended), by UDP
    // to the harness: written to stderr, HAProxy dropped lines under load (6 of 2,700 in one run).
    ...(logPort ? [`  log 127.0.0.1:${logPort} format raw local0 info`] : []),
    "  maxconn 4096",
    "defaults",
    "  mode http",
    "  log global",
    "  option http-keep-alive",
    // The ALB gives a target 10 s to accept a connection (scaled with the rest, time.ts); a refused one fails at once either way.
    `  timeout connect ${time.ms(ALB_CONNECT_TIMEOUT_SECONDS)}ms`,
    `  timeout client ${time.ms(idleTimeoutSeconds)}ms`,
    `  timeout http-keep-alive ${time.ms(idleTimeoutSeconds)}ms`,
    `  timeout server ${time.ms(idleTimeoutSeconds)}ms`,
    "  retries 0",
    "  no option redispatch",
    "frontend listener",
    `  bind 127.0.0.1:${port}`,
    // Which target answered, HAProxy's own errors included: a failure is traced to the task it hit.
    "  http-after-response set-header X-Target %s",
    // So a request that got no answer is still traced to its target: the load reads these lines (REQUEST_LOG).
    "  capture request header X-Request-Id len 100",
    `  log-format "${REQUEST_LOG_TAG} %[capture.req.hdr(0)] %s %ST %tsc"`,
    "  default_backend targets",
    "backend targets",
    "  balance roundrobin",
    "  option httpchk",
    `  http-check send meth GET uri ${tg.path}`,
    `  http-check expect rstatus ${matcherRegex(tg.matcher)}`,
    `  timeout check ${time.ms(tg.timeoutSeconds)}ms`,
    `  default-server check inter ${time.ms(tg.intervalSeconds)}ms rise ${tg.healthyThreshold} fall ${tg.unhealthyThreshold} disabled`,
    ...Array.from({ length: SLOTS }, (_, i) => `  server slot${i} 127.0.0.1:1`),
    "",
  ].join("\n");
}

/** The tag of HAProxy's line per request: `<tag> <X-Request-Id> <server> <status> <termination state>`. */
const REQUEST_LOG_TAG = "gameday-request";
const REQUEST_LOG = new RegExp(`^${REQUEST_LOG_TAG} (\\S+) (\\S+) (-?\\d+) (\\S+)$`);

/** A request as HAProxy logged it when it ended. */
export interface LoggedRequest {
  /** The server (target slot) it went to, `<NOSRV>` when none. */
  readonly server: string;
  readonly status: number;
  /** HAProxy's termination state (e.g. `----` a normal end, `SH--` the server closed before its headers, `CD--` the client went away). */
  readonly termination: string;
}

export type TargetState = "initial" | "healthy" | "unhealthy" | "draining" | "unused";

export class LoadBalancer {
  private readonly slots = new Map<number, string>();
  /** Targets between `state ready` and `health down`: HAProxy reports them UP for that instant, the ALB never would. */
  private readonly registering = new Set<string>();
  private exited!: Promise<void>;
  /** Every request HAProxy logged, by X-Request-Id. */
  private readonly requests = new Map<string, LoggedRequest>();
  /** Slots the watcher last saw in rotation and healthy. */
  private readonly lastUp = new Set<number>();
  /** Slots HAProxy marked down whose other "nodes" have not yet acted on it: back in rotation, checks paused, until the timer. */
  private readonly propagating = new Map<number, NodeJS.Timeout>();
  private watcher?: NodeJS.Timeout;
  private watching = false;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly process: ChildProcess,
    /** The propagation delay, scaled. */
    readonly propagationMs: number,
  ) {
    this.exited = new Promise((resolve) => process.once("exit", () => resolve()));
  }

  static async start(tg: TargetGroupSpec, idleTimeoutSeconds: number, port: number, time: Timing): Promise<LoadBalancer> {
    checkHaproxy();
    const dir = mkdtempSync(join(tmpdir(), "gameday-haproxy-"));
    const socket = join(dir, "admin.sock");
    const config = join(dir, "haproxy.cfg");
    const receiver = dgram.createSocket({ type: "udp4", recvBufferSize: 16 * 1024 * 1024 });
    await new Promise<void>((resolve) => receiver.bind(0, "127.0.0.1", resolve));
    writeFileSync(config, haproxyConfig(tg, idleTimeoutSeconds, port, socket, time, receiver.address().port));
    const check = spawnSync("haproxy", ["-c", "-q", "-f", config], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`HAProxy refused its configuration:\n${check.stderr}`);
    const child = spawn("haproxy", ["-db", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const lb = new LoadBalancer(dir, port, child, time.ms(ALB_PROPAGATION_SECONDS));
    receiver.on("message", (message) => {
      for (const line of message.toString().split("\n")) lb.recordLine(line);
    });
    child.once("exit", () => receiver.close());
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await lb.command("show info");
        lb.watcher = setInterval(() => void lb.watch(), WATCH_MS);
        return lb;
      } catch {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`HAProxy did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** One admin socket command (several joined with `;`); its answer. */
  command(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(join(this.dir, "admin.sock"));
      let answer = "";
      socket.on("connect", () => socket.end(`${text}\n`));
      socket.on("data", (chunk) => (answer += chunk.toString()));
      socket.on("end", () => resolve(answer));
      socket.on("error", reject);
    });
  }

  /** RegisterTargets: the target starts unhealthy and takes requests once `healthyThreshold` checks pass. */
  async register(id: string, port: number): Promise<void> {
    const slot = Array.from({ length: SLOTS }, (_, i) => i).find((i) => !this.slots.has(i));
    if (slot === undefined) throw new Error(`the load balancer has no free target slot for ${id}`);
    this.slots.set(slot, id);
    this.registering.add(id);
    const server = `targets/slot${slot}`;
    await this.command(`set server ${server} addr 127.0.0.1 port ${port}`);
    // Leaving maintenance makes a server UP at once; at weight 0 it takes no request in the instant
    // before it is marked down, and back at weight 1 it waits for its checks like a new ALB target.
    await this.command(`set weight ${server} 0`);
    await this.command(`set server ${server} state ready`);
    await this.command(`set server ${server} health down`);
    this.registering.delete(id);
    await this.command(`set weight ${server} 1`);
  }

  /**
   * DeregisterTargets: new requests still arrive for the propagation delay (each node stops when the change
   * reaches it), then none; after the deregistration delay (counted from the call) the target is gone.
   */
  async deregister(id: string, delayMs: number): Promise<void> {
    const slot = this.slotOf(id);
    if (slot === undefined) return;
    const server = `targets/slot${slot}`;
    await new Promise((r) => setTimeout(r, this.propagationMs));
    await this.command(`set server ${server} state drain`);
    await new Promise((r) => setTimeout(r, Math.max(0, delayMs - this.propagationMs)));
    const pending = this.propagating.get(slot);
    if (pending) clearTimeout(pending);
    this.propagating.delete(slot);
    this.lastUp.delete(slot);
    // Checks back on for the slot's next target (a paused check would leave it UP unchecked).
    await this.command(`set server ${server} state maint; shutdown sessions server ${server}; enable health ${server}`);
    this.slots.delete(slot);
  }

  /**
   * The propagation of a health change: a target in rotation that HAProxy's checks just marked down is put
   * back in rotation (checks paused: HAProxy then counts it UP) for the propagation delay, then marked down
   * with its checks on again, as the last ALB node would stop sending to it.
   */
  private async watch(): Promise<void> {
    if (this.watching || this.process.exitCode !== null) return;
    this.watching = true;
    try {
      const answer = await this.command("show servers state targets");
      for (const line of answer.split("\n").slice(2)) {
        const fields = line.trim().split(/\s+/);
        const match = /^slot(\d+)$/.exec(fields[3] ?? "");
        if (!match) continue;
        const slot = Number(match[1]);
        const id = this.slots.get(slot);
        if (!id || this.propagating.has(slot) || this.registering.has(id)) continue;
        const op = Number(fields[5]);
        const admin = Number(fields[6]);
        // In rotation: no maintenance or drain flag (0x04 only records the `disabled` the slot was configured with).
        if ((admin & ~0x04) !== 0) this.lastUp.delete(slot);
        else if (op === 2) this.lastUp.add(slot);
        else if (op === 0 && this.lastUp.delete(slot)) {
          const server = `targets/slot${slot}`;
          this.propagating.set(
            slot,
            setTimeout(() => {
              this.propagating.delete(slot);
              if (this.slots.get(slot) === id) void this.command(`enable health ${server}; set server ${server} health down`).catch(() => undefined);
            }, this.propagationMs),
          );
          await this.command(`disable health ${server}; set server ${server} health up`);
        }
      }
    } catch {
      // HAProxy stopping: nothing left to propagate.
    } finally {
      this.watching = false;
    }
  }

  /** The target's health as the target group reports it. */
  async state(id: string): Promise<TargetState> {
    return (await this.states()).get(id) ?? "unused";
  }

  async states(): Promise<Map<string, TargetState>> {
    // Registering when the question is asked or when it is answered: the answer may predate `health down`.
    const registering = new Set(this.registering);
    const answer = await this.command("show servers state targets");
    for (const id of this.registering) registering.add(id);
    const states = new Map<string, TargetState>();
    for (const line of answer.split("\n").slice(2)) {
      const fields = line.trim().split(/\s+/);
      // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
      const slot = /^slot(\d+)$/.exec(fields[3] ?? "");
      if (!slot) continue;
      const id = this.slots.get(Number(slot[1]));
      if (!id) continue;
      const op = Number(fields[5]);
      const admin = Number(fields[6]);
      // A target whose failure is still propagating is unhealthy to the target group, though some nodes still send to it.
      const propagating = this.propagating.has(Number(slot[1]));
      states.set(
        id,
        registering.has(id) ? "initial" : admin & 0x8 ? "draining" : propagating ? "unhealthy" : op === 2 ? "healthy" : op === 0 ? "unhealthy" : "initial",
      );
    }
    return states;
  }

  private recordLine(line: string): void {
    const match = REQUEST_LOG.exec(line.trim());
    if (match && match[1] !== "-") this.requests.set(match[1], { server: match[2], status: Number(match[3]), termination: match[4] });
  }

  /** The request with this X-Request-Id, once HAProxy logged its end. */
  logged(requestId: string): LoggedRequest | undefined {
    return this.requests.get(requestId);
  }

  /** The target a request went to, by its X-Request-Id; none before its line or when it went to no target. */
  targetOf(requestId: string): string | undefined {
    const server = this.requests.get(requestId)?.server;
    return server && server !== "<NOSRV>" ? server : undefined;
  }

  /** The ids of the requests logged with ids starting with `prefix` (one load's). */
  loggedIds(prefix: string): Set<string> {
    return new Set([...this.requests.keys()].filter((id) => id.startsWith(prefix)));
  }

  /** The name the load balancer gives the target (in X-Target), while it is registered. */
  targetName(id: string): string | undefined {
    const slot = this.slotOf(id);
    return slot === undefined ? undefined : `slot${slot}`;
  }

  private slotOf(id: string): number | undefined {
    return [...this.slots.entries()].find(([, v]) => v === id)?.[0];
  }

  async stop(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    for (const timer of this.propagating.values()) clearTimeout(timer);
    if (this.process.exitCode === null) {
      this.process.kill("SIGTERM");
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
