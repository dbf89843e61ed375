import type pg from "pg";
import type { Handler } from "./consumer";
import { isAuthenticationFailure } from "./database";
import type { CredentialSource } from "./credentials";
import { NoteEventSchema, type NoteEvent } from "./events";

const words = new Intl.Segmenter(undefined, { granularity: "word" });

/** Words as a reader counts them, in any script: Unicode word segments that hold a letter or digit. */
export function countWords(text: string): number {
  let count = 0;
  for (const segment of words.segment(text)) if (segment.isWordLike) count++;
  return count;
}

/** A message that is not a note event: retrying cannot help, so it ends in the dead-letter queue. */
export class PoisonMessage extends Error {
  override readonly name = "PoisonMessage";
}

export function parseEvent(body: string | undefined): NoteEvent {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    throw new PoisonMessage("the message body is not JSON");
  }
  const parsed = NoteEventSchema.safeParse(json);
  if (!parsed.success) throw new PoisonMessage(`not a note event: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/**
 * Counts the note's words and stores the count, once per event: the event's id goes into
 * `handled_events` in the same transaction as the count, so a delivery of an event already handled
 * (SQS's at-least-once, a worker stopped between its commit and the delete, a publisher's retry)
 * commits nothing and the message is simply deleted. A note deleted meanwhile has nothing to count.
 *
 * The transaction runs on a connection of its own, closed if the handler is aborted (its budget, or
 * the task stopping), which rolls it back.
 */
export function wordCountHandler(pool: pg.Pool, credentials: CredentialSource): Handler {
  return async (message, { signal, logger }) => {
    const event = parseEvent(message.Body);
    const log = logger.child({ eventId: event.id, type: event.type, noteId: event.noteId });
    const client = await connect(pool, credentials);
    // Aborting closes the connection under the query: the query fails, and the client's own error is expected.
    const expected = () => undefined;
    client.on("error", expected);
    const kill = () => (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    signal.addEventListener("abort", kill, { once: true });
    let broken = false;
    try {
      signal.throwIfAborted();
      await client.query("BEGIN");
      const fresh = await client.query({
        text: "INSERT INTO handled_events (event_id, type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        values: [event.id, event.type],
      });
      if (fresh.rowCount === 0) {
        await client.query("COMMIT");
        log.info("event already handled; acknowledged without acting again");
        return;
      }
      const { rows } = await client.query<{ body: string }>({ text: "SELECT body FROM notes WHERE id = $1 FOR UPDATE", values: [event.noteId] });
      if (rows[0]) {
        const count = countWords(rows[0].body);
        await client.query({ text: "UPDATE notes SET word_count = $2 WHERE id = $1", values: [event.noteId, count] });
        log.info({ wordCount: count }, "word count stored");
      } else log.info("the note no longer exists; nothing to count");
      signal.throwIfAborted();
      await client.query("COMMIT");
    } catch (error) {
      broken = true;
      await client.query("ROLLBACK").catch(() => undefined);
      throw signal.aborted ? signal.reason : error;
    } finally {
      signal.removeEventListener("abort", kill);
      client.release(broken || signal.aborted);
      client.off("error", expected);
    }
  };
}

/** A pooled connection, reading the secret again once if the password was refused (a rotation). */
async function connect(pool: pg.Pool, credentials: CredentialSource): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    if (!isAuthenticationFailure(error)) throw error;
    await credentials.refresh();
    return pool.connect();
  }
}
