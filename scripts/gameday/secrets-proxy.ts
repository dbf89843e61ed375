/**
 * The path between the tasks and Secrets Manager, with an outage's fault: an HTTP proxy in front of the emulator that
 * the app containers reach as their Secrets Manager endpoint (`AWS_ENDPOINT_URL_SECRETS_MANAGER`). `silence()` makes
 * every call from then on hang: its request is read and never answered (no byte, no FIN, no RST), as a Secrets Manager
 * endpoint that stopped answering leaves a caller; `restore()` answers new calls again, while those held stay unanswered
 * for good (their caller must give up on them). Otherwise each call is passed to the emulator and its answer back.
 *
 * Every call is recorded with the task that made it (the SDK's user agent carries `app/<task id>`: the harness sets
 * `AWS_SDK_UA_APP_ID` per task), when it came, and when it was answered, or when its caller gave up on it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface SecretsCall {
  /** The task that made it (its AWS_SDK_UA_APP_ID), or "?" */
  readonly task: string;
  /** The API operation (`secretsmanager.GetSecretValue`). */
  readonly operation: string;
  readonly at: number;
  /** Held unanswered (the outage), or passed to the emulator. */
  readonly held: boolean;
  /** When its answer was sent (passed), or when the caller closed the connection (held). */
  endedAt?: number;
  status?: number;
}

export class SecretsProxy {
  readonly calls: SecretsCall[] = [];
  private silent = false;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(upstreamUrl: string): Promise<SecretsProxy> {
    const upstream = new URL(upstreamUrl);
    const server = http.createServer((req, res) => proxy.handle(req, res, upstream));
    // Node's own request timeout would answer a held request with 408 after 5 minutes: the outage answers nothing.
    server.requestTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new SecretsProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  /** From now on every call hangs, unanswered. */
  silence(): void {
    this.silent = true;
  }

  /** New calls are answered again; the held ones stay unanswered. */
  restore(): void {
    this.silent = false;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, upstream: URL): void {
    const agent = `${req.headers["x-amz-user-agent"] ?? ""} ${req.headers["user-agent"] ?? ""}`;
    const call: SecretsCall = {
      task: /(?:^|\s)app\/(\S+)/.exec(agent)?.[1] ?? "?",
      operation: String(req.headers["x-amz-target"] ?? req.method),
      at: Date.now(),
      held: this.silent,
    };
    this.calls.push(call);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    if (call.held) {
      // Read, never answered: only the caller's own timeout ends it.
      res.once("close", () => (call.endedAt = Date.now()));
      return;
    }
    req.on("end", () => {
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on("end", () => {
            call.endedAt = Date.now();
            call.status = answer.statusCode;
          });
        },
      );
      forward.on("error", () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  }
}
