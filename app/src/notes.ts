import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";
import { decodeCursor, encodeCursor } from "./cursor";
import { noEvents, type EventPublisher } from "./events";
import { problem, sendProblem, TEXT_PATTERN, UUID_PATTERN } from "./problem";

export const TITLE_MAX = 200;
/** Characters; the request must also stay within BODY_LIMIT_BYTES (8 KB), which text beyond ASCII reaches sooner. */
export const BODY_MAX = 7000;
export const PAGE_DEFAULT = 20;
export const PAGE_MAX = 100;

interface NoteRow {
  id: string;
  title: string;
  body: string;
  created_at: Date;
  updated_at: Date;
  word_count: number | null;
}

const COLUMNS = "id, title, body, created_at, updated_at, word_count";
// Queries are not named (server-side prepared): named statements break behind a transaction-mode
// pooler such as RDS Proxy or PgBouncer, and in the embedded test server, where connections share one
// session.

const toNote = (row: NoteRow) => ({
  id: row.id,
  title: row.title,
  body: row.body,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  wordCount: row.word_count,
});

const noteSchema = {
  type: "object",
  required: ["id", "title", "body", "createdAt", "updatedAt", "wordCount"],
  properties: {
    id: { type: "string" },
    title: { type: "string" },
    body: { type: "string" },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
    // Counted by the worker after the answer (a note.created or note.updated event): null until then.
    wordCount: { type: ["integer", "null"] },
  },
} as const;

const title = { type: "string", minLength: 1, maxLength: TITLE_MAX, pattern: TEXT_PATTERN } as const;
const body = { type: "string", maxLength: BODY_MAX, pattern: TEXT_PATTERN } as const;
const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: UUID_PATTERN } } } as const;

/**
 * The notes resource: create, read, partial update, delete, and newest-first keyset pages. A created
 * note, and an update of a body, publish an event once stored, for the worker to count its words.
 */
export function notesRoutes(app: FastifyInstance, pool: pg.Pool, events: EventPublisher = noEvents): void {
  app.post<{ Body: { title: string; body?: string } }>(
    "/notes",
    {
      schema: {
        body: { type: "object", required: ["title"], additionalProperties: false, properties: { title, body } },
        response: { 201: noteSchema },
      },
    },
    async (request, reply) => {
      const { rows } = await pool.query<NoteRow>({
        text: `INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        values: [request.body.title, request.body.body ?? ""],
      });
      const note = toNote(rows[0]);
      await events.publish("note.created", note.id);
      return reply.code(201).header("location", `/notes/${note.id}`).send(note);
    },
  );

  app.get<{ Params: { id: string } }>("/notes/:id", { schema: { params: idParams, response: { 200: noteSchema } } }, async (request, reply) => {
    const { rows } = await pool.query<NoteRow>({ text: `SELECT ${COLUMNS} FROM notes WHERE id = $1`, values: [request.params.id] });
    return rows[0] ? toNote(rows[0]) : notFound(request, reply);
  });

  app.patch<{ Params: { id: string }; Body: { title?: string; body?: string } }>(
    "/notes/:id",
    {
      schema: {
        params: idParams,
        body: { type: "object", minProperties: 1, additionalProperties: false, properties: { title, body } },
        response: { 200: noteSchema },
      },
    },
    async (request, reply) => {
      // A new body's word count is unknown until the worker counts it again.
      const { rows } = await pool.query<NoteRow>({
        text: `UPDATE notes SET title = COALESCE($2, title), body = COALESCE($3, body), updated_at = now(),
                 word_count = CASE WHEN $3::text IS NULL THEN word_count ELSE NULL END
               WHERE id = $1 RETURNING ${COLUMNS}`,
        values: [request.params.id, request.body.title ?? null, request.body.body ?? null],
      });
      if (!rows[0]) return notFound(request, reply);
      if (request.body.body !== undefined) await events.publish("note.updated", rows[0].id);
      return toNote(rows[0]);
    },
  );

  app.delete<{ Params: { id: string } }>("/notes/:id", { schema: { params: idParams } }, async (request, reply) => {
    const { rowCount } = await pool.query({ text: "DELETE FROM notes WHERE id = $1", values: [request.params.id] });
    return rowCount ? reply.code(204).send() : notFound(request, reply);
  });

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    "/notes",
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { limit: { type: "integer", minimum: 1, maximum: PAGE_MAX }, cursor: { type: "string", minLength: 1, maxLength: 200 } },
        },
        response: {
          200: {
            type: "object",
            required: ["items", "nextCursor"],
            properties: { items: { type: "array", items: noteSchema }, nextCursor: { type: ["string", "null"] } },
          },
        },
      },
    },
    async (request, reply) => {
      const limit = request.query.limit ?? PAGE_DEFAULT;
      const cursor = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      if (request.query.cursor !== undefined && !cursor) {
        return sendProblem(
          request,
          reply,
          problem(400, "Invalid cursor: not a cursor from a previous page", [{ pointer: "/query/cursor", detail: "is not a cursor this API issued" }]),
        );
      }
      // One row more than the page tells whether another page exists, without a count.
      const { rows } = cursor
        ? await pool.query<NoteRow>({
            text: `SELECT ${COLUMNS} FROM notes WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT $3`,
            values: [cursor.createdAt, cursor.id, limit + 1],
          })
        : await pool.query<NoteRow>({ text: `SELECT ${COLUMNS} FROM notes ORDER BY created_at DESC, id DESC LIMIT $1`, values: [limit + 1] });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(toNote), nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null };
    },
  );
}

function notFound(request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(request, reply, problem(404, "No note has this id"));
}
