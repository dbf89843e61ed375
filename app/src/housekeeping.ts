import { ConfigError, readConfig } from "./config";
import { credentialSource, createPool } from "./database";
import { createLogger } from "./logger";
import { countWords } from "./word-count";

/**
 * The nightly job (`node dist/housekeeping.mjs`, the same image, run by a schedule: `jobs.<key>`):
 *  - counts the words of notes whose event was lost (the API publishes after it answered and never
 *    fails a request for it), in batches, skipping notes changed in the last few minutes, whose event
 *    is likely still in the queue;
 *  - forgets handled events older than SQS's longest retention (14 days) and a day: no copy of them can
 *    be delivered again, so the worker's inbox stays small.
 * Exits 0 when done, 1 on failure (the stack's failed-runs alarm fires on a non-zero exit).
 */
const BATCH = 500;
const SETTLE_MINUTES = Number(process.env.HOUSEKEEPING_SETTLE_MINUTES ?? 5);

try {
  const config = readConfig();
  const logger = createLogger(config).child({ role: "housekeeping" });
  const pool = await createPool(config, credentialSource(config));
  try {
    let counted = 0;
    for (;;) {
      const { rows } = await pool.query<{ id: string; body: string }>({
        text: `SELECT id, body FROM notes WHERE word_count IS NULL AND updated_at < now() - make_interval(mins => $1) ORDER BY created_at LIMIT $2`,
        values: [SETTLE_MINUTES, BATCH],
      });
      for (const row of rows)
        await pool.query({
          text: "UPDATE notes SET word_count = $2 WHERE id = $1 AND word_count IS NULL AND body = $3",
          values: [row.id, countWords(row.body), row.body],
        });
      counted += rows.length;
      if (rows.length < BATCH) break;
    }
    const pruned = await pool.query("DELETE FROM handled_events WHERE handled_at < now() - interval '15 days'");
    logger.info({ counted, prunedEvents: pruned.rowCount }, "housekeeping done");
  } finally {
    await pool.end();
  }
} catch (error) {
  process.stderr.write(
    `notes-api housekeeping: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
