import { ChangeMessageVisibilityCommand, DeleteMessageCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "pino";
import { telemetry } from "./telemetry";

/** What a handler is told besides the message: the signal that aborts it (its budget ran out, or the task stops). */
export interface HandlerContext {
  readonly signal: AbortSignal;
  /** How many times SQS has delivered this message, this delivery included. */
  readonly receiveCount: number;
  /** Logs with the message's id and receive count. */
  readonly logger: Logger;
}

/** Handles one message. Resolving means done (the message is deleted); throwing means try again later. */
export type Handler = (message: Message, context: HandlerContext) => Promise<void>;

export interface ConsumerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: Handler;
  readonly logger: Logger;
  /** Long polling: how long one receive waits for a message, 1–20 s (SQS's most). @default 20 */
  readonly waitSeconds?: number;
  /** The most one message may take (MESSAGE_TIMEOUT_MS); within the queue's visibility timeout, which the stack checks. */
  readonly messageTimeoutMs: number;
  /** A failed message comes back after this, doubled at each further receive, up to 15 minutes. 0: at once. */
  readonly retryDelaySeconds: number;
}

/** The delay before a failed message comes back: `base × 2^(receives − 1)`, at most 900 s. */
export function retryDelay(baseSeconds: number, receiveCount: number): number {
  return Math.min(900, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
}

/**
 * One long-polling consumer: receive one message, handle it, delete it; a failure (or a handler over
 * its budget) hides the message for the retry delay and SQS delivers it again, until the queue's
 * redrive policy moves it to the dead-letter queue after `maxReceiveCount` receives.
 *
 * `stop(timeoutMs)`: no new receive (a long poll in progress is abandoned), the message in flight gets
 * up to `timeoutMs` to finish; past that its handler is aborted and the message is returned to the
 * queue at once (visibility 0) for another task. Either way nothing is lost: a message is deleted
 * only after its handler resolved.
 */
export class Consumer {
  private stopping = false;
  private readonly polling = new AbortController();
  private inFlight?: { message: Message; done: Promise<void>; abort: AbortController };
  private loop?: Promise<void>;

  constructor(private readonly options: ConsumerOptions) {}

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  private async run(): Promise<void> {
    const { client, queueUrl, logger } = this.options;
    while (!this.stopping) {
      let messages: Message[] = [];
      try {
        ({ Messages: messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: this.options.waitSeconds ?? 20,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: this.polling.signal },
        ));
      } catch (error) {
        if (this.stopping) break;
        logger.warn({ err: error }, "receive failed; polling again in 5 s");
        await sleep(5000, this.polling.signal);
        continue;
      }
      for (const message of messages) {
        // Received just as the stop began: give it straight back.
        if (this.stopping) await this.giveBack(message, 0, "the worker is stopping");
        else await this.handle(message);
      }
    }
  }

  private async handle(message: Message): Promise<void> {
    const { handler, logger, messageTimeoutMs } = this.options;
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const abort = new AbortController();
    const budget = setTimeout(() => abort.abort(new Error(`not handled within MESSAGE_TIMEOUT_MS (${messageTimeoutMs} ms)`)), messageTimeoutMs);
    const started = Date.now();
    let log = logger.child({ messageId: message.MessageId, receiveCount });
    // Tracing on: handled in the trace the message carries (the API's request), its log lines joined to it.
    const done = telemetry().processMessage(message, this.options.queueUrl, async (fields) => {
      log = Object.keys(fields).length ? log.child(fields) : log;
      try {
        await handler(message, { signal: abort.signal, receiveCount, logger: log });
      } finally {
        clearTimeout(budget);
      }
    });
    this.inFlight = { message, done, abort };
    try {
      await done;
      if (abort.signal.aborted) throw abort.signal.reason;
      await this.options.client.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
      log.info({ ms: Date.now() - started }, "message handled");
    } catch (error) {
      if (this.stopping && abort.signal.aborted) return; // stop() returns it
      const delay = retryDelay(this.options.retryDelaySeconds, receiveCount);
      log.warn({ err: error, retryInSeconds: delay }, "message failed; it comes back after the retry delay, or goes to the dead-letter queue");
      await this.giveBack(message, delay, "failed");
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Makes the message visible again after `seconds` (0: at once). A failure here only delays it: it comes back at the visibility timeout. */
  private async giveBack(message: Message, seconds: number, why: string): Promise<void> {
    try {
      await this.options.client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: seconds }),
      );
      this.options.logger.info({ messageId: message.MessageId, visibleInSeconds: seconds, why }, "message returned to the queue");
    } catch (error) {
      this.options.logger.warn({ err: error, messageId: message.MessageId }, "could not return the message; it comes back at the queue's visibility timeout");
    }
  }

  /**
   * Stops polling and waits up to `timeoutMs` for the message in flight; then aborts its handler and
   * returns it to the queue. A delete still unanswered at the deadline is left: the message comes back
   * and, already handled, is only acknowledged.
   */
  async stop(timeoutMs: number): Promise<{ finished: boolean; returned: boolean }> {
    const deadline = Date.now() + timeoutMs;
    this.stopping = true;
    this.polling.abort(new Error("stopping"));
    const current = this.inFlight;
    const rest = () => sleep(Math.max(0, deadline - Date.now()));
    const finished =
      !current ||
      (await Promise.race([
        current.done.then(
          () => true,
          () => true,
        ),
        rest().then(() => false),
      ]));
    if (finished) {
      await Promise.race([this.loop, rest()]);
      return { finished: true, returned: false };
    }
    current.abort.abort(new Error("the worker is stopping"));
    await current.done.catch(() => undefined);
    await this.giveBack(current.message, 0, "the worker is stopping");
    return { finished: false, returned: true };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
