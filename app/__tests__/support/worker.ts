import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type Emulator, startEmulator } from "../../../emulator/server";
import { APP_DIR } from "../../harness/api";
import { RunningProcess } from "../../harness/process";

/**
 * The worker's test world: moto's SQS (the project's emulator, emulator/server.ts), queues made as
 * the stack makes them (a dead-letter queue, redrive after N receives), the worker run as the image
 * runs it (`node dist/worker.mjs`), and two proxies that let a test stop a worker at a chosen point.
 */
export const AWS_ENV = {
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AWS_REGION: "us-east-1",
};

export class Sqs {
  readonly client: SQSClient;

  private constructor(
    readonly emulator: Emulator,
    readonly url: string,
  ) {
    this.client = new SQSClient({ region: "us-east-1", endpoint: url, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  }

  static async start(): Promise<Sqs> {
    const emulator = await startEmulator();
    return new Sqs(emulator, emulator.url);
  }

  /** A queue with its dead-letter queue, as lib/workers/queue.ts makes them. */
  async queue(name: string, options: { visibilityTimeoutSeconds: number; maxReceiveCount: number }): Promise<{ url: string; deadLetterUrl: string }> {
    const dlq = await this.client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const dlqArn = (await this.client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn;
    const queue = await this.client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount }),
        },
      }),
    );
    return { url: queue.QueueUrl!, deadLetterUrl: dlq.QueueUrl! };
  }

  async send(queueUrl: string, body: string): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  }

  /** Visible and in-flight messages. */
  async depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes: a = {} } = await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
    );
    return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
  }

  /** Takes the visible messages (for a look: they are hidden for a minute). */
  async take(queueUrl: string): Promise<string[]> {
    const { Messages = [] } = await this.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    return Messages.map((m) => m.Body!);
  }

  stop(): Promise<void> {
    return this.emulator.stop();
  }
}

/** The worker as the image runs it: `node dist/worker.mjs`, configured by environment. */
export class RunningWorker extends RunningProcess {
  static async start(env: Record<string, string>): Promise<RunningWorker> {
    const child = spawn(process.execPath, ["dist/worker.mjs"], {
      cwd: APP_DIR,
      env: { PATH: globalThis.process.env.PATH ?? "", ...AWS_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const worker = new RunningWorker(child, "the worker");
    await worker.waitForLog((l) => l.msg === "worker polling", 20_000);
    return worker;
  }

  override waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return super.waitForLog(match, timeoutMs);
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    return this.signal(signal);
  }
}

/**
 * An HTTP proxy in front of the emulator that can hold every DeleteMessage (never answering it), so a
 * worker can be killed after it committed a message's effect and before SQS heard it was done.
 */
export class SqsGate {
  holdDeletes = false;
  /** DeleteMessage requests held so far. */
  held = 0;
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(target: string) {
    const upstream = new URL(target);
    this.server = http.createServer((req, res) => {
      const action = String(req.headers["x-amz-target"] ?? "");
      if (this.holdDeletes && action.endsWith(".DeleteMessage")) {
        this.held++;
        req.resume();
        return; // no answer, ever
      }
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  static async start(target: string): Promise<SqsGate> {
    const gate = new SqsGate(target);
    await new Promise<void>((resolve) => gate.server.listen(0, "127.0.0.1", resolve));
    return gate;
  }

  /** The queue URL as seen through the gate (the SDK sends a queue's requests to its URL's host). */
  via(queueUrl: string): string {
    const url = new URL(queueUrl);
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}${url.pathname}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A TCP proxy to the database that can pause what the worker sends: its next query waits in the proxy,
 * so a handler is in flight for as long as the test likes, on any backend.
 */
export class PausableProxy {
  private paused = false;
  private readonly waiting: (() => void)[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.on("data", (chunk: Buffer) => {
        if (this.paused) this.waiting.push(() => upstream.write(chunk));
        else upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  static async start(target: { host: string; port: number }): Promise<PausableProxy> {
    const proxy = new PausableProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const send of this.waiting.splice(0)) send();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = "the condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
