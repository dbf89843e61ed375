import { randomUUID } from "node:crypto";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { FastifyBaseLogger } from "fastify";
import { z } from "zod";
import { telemetry } from "./telemetry";

/**
 * The events the API publishes for the worker: something worth doing later, after the answer. Each has
 * an `id` of its own, which the worker records when it has handled it (the inbox, worker.ts), so a
 * message delivered twice, as SQS may, or sent twice by a retrying publisher, is acted on once.
 */
export const NoteEventSchema = z.strictObject({
  /** Unique per event: the worker's idempotency key. */
  id: z.uuid(),
  type: z.enum(["note.created", "note.updated"]),
  noteId: z.uuid(),
  /** When the API made the change, ISO 8601. */
  occurredAt: z.iso.datetime(),
});
export type NoteEvent = z.infer<typeof NoteEventSchema>;

/** Where events go. `publish` never throws: a lost event costs a word count, which the backfill job recounts, never a request. */
export interface EventPublisher {
  publish(type: NoteEvent["type"], noteId: string): Promise<void>;
}

/** No queue configured (WORKER_QUEUE_URL unset, e.g. `npm run api:local`): nothing is published. */
export const noEvents: EventPublisher = { publish: async () => undefined };

/** The region of an SQS queue URL (`https://sqs.<region>.amazonaws.com/...`), else AWS_REGION (an emulator's URL names none). */
export function queueRegion(queueUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl)?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
}

/** A client for the queue's region that sends to the queue URL's host (AWS's, or an emulator's). */
export function sqsClient(queueUrl: string): SQSClient {
  // Tracing on, its calls are spans and a send carries the trace to the worker in the message's attributes.
  return telemetry().instrumentClient(new SQSClient({ region: queueRegion(queueUrl), endpoint: new URL(queueUrl).origin, maxAttempts: 3 }));
}

export interface SqsPublisherOptions {
  /** The longest a publish may hold the request that made the change. @default 2000 */
  readonly timeoutMs?: number;
  /** @default a client for the queue's region; its requests go to the queue URL's host */
  readonly client?: SQSClient;
}

/**
 * Sends each event as one SQS message (JSON), with the task role's credentials, after the change is
 * committed. A send that fails or takes longer than `timeoutMs` is logged and dropped: the request
 * still succeeds, and the note's word count stays unset until the backfill job (dist/backfill.mjs)
 * counts it. Events of a change the database refused are never sent.
 */
export function sqsPublisher(queueUrl: string, logger: FastifyBaseLogger, options: SqsPublisherOptions = {}): EventPublisher {
  const client = options.client ?? sqsClient(queueUrl);
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    async publish(type, noteId) {
      const event: NoteEvent = { id: randomUUID(), type, noteId, occurredAt: new Date().toISOString() };
      try {
        await client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(event),
            MessageAttributes: { type: { DataType: "String", StringValue: type } },
          }),
          { abortSignal: AbortSignal.timeout(timeoutMs) },
        );
      } catch (error) {
        logger.warn({ err: error, event }, "event not published; the backfill job will count this note");
      }
    },
  };
}
