import net from "node:net";
import { BODY_LIMIT_BYTES } from "../src/limits";
import { BODY_MAX, TITLE_MAX } from "../src/notes";
import { MAX_ERRORS } from "../src/problem";
import { RunningApi, databaseEnv } from "../harness/api";
import { BACKENDS, type TestDatabase } from "../harness/database";

jest.setTimeout(60_000);

interface Note {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}
interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance: string;
  errors?: { pointer: string; detail: string }[];
}

const NOTE_FIELDS = ["body", "createdAt", "id", "title", "updatedAt", "wordCount"];

describe.each(BACKENDS)("notes API on $name", (backend) => {
  let db: TestDatabase;
  let api: RunningApi;

  beforeAll(async () => {
    db = await backend.create();
    api = await RunningApi.start(databaseEnv(db));
  });
  afterAll(async () => {
    await api?.stop();
    await db?.drop();
  });

  const create = async (note: { title: string; body?: string }) => {
    const res = await api.json("POST", "/notes", note);
    expect(res.status).toBe(201);
    return (await res.json()) as Note;
  };
  const problemOf = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as ProblemBody;
    expect(body).toMatchObject({ type: "about:blank", status });
    return body;
  };

  describe("create, read, update, delete", () => {
    it("POST /notes answers 201 with the note and its Location", async () => {
      const res = await api.json("POST", "/notes", { title: "Groceries", body: "milk" });
      expect(res.status).toBe(201);
      const note = (await res.json()) as Note;
      expect(Object.keys(note).sort()).toEqual(NOTE_FIELDS);
      expect(note).toMatchObject({ title: "Groceries", body: "milk" });
      expect(note.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(note.createdAt).toBe(note.updatedAt);
      expect(res.headers.get("location")).toBe(`/notes/${note.id}`);
    });

    it("POST /notes without a body stores an empty body", async () => {
      expect((await create({ title: "Title only" })).body).toBe("");
    });

    it("GET /notes/:id answers the stored note", async () => {
      const note = await create({ title: "Read me", body: "text" });
      const res = await api.fetch(`/notes/${note.id}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(note);
    });

    it("PATCH /notes/:id changes only the fields given and moves updatedAt", async () => {
      const note = await create({ title: "Before", body: "kept" });
      await new Promise((r) => setTimeout(r, 5));
      const res = await api.json("PATCH", `/notes/${note.id}`, { title: "After" });
      expect(res.status).toBe(200);
      const updated = (await res.json()) as Note;
      expect(updated).toMatchObject({ id: note.id, title: "After", body: "kept", createdAt: note.createdAt });
      expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(note.updatedAt));
      expect(await (await api.fetch(`/notes/${note.id}`)).json()).toEqual(updated);
    });

    it("DELETE /notes/:id answers 204, and the note is gone", async () => {
      const note = await create({ title: "Delete me" });
      const res = await api.fetch(`/notes/${note.id}`, { method: "DELETE" });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
      await problemOf(await api.fetch(`/notes/${note.id}`), 404);
    });

    it("keeps the longest allowed title and body intact", async () => {
      const note = await create({ title: "t".repeat(TITLE_MAX), body: "x".repeat(BODY_MAX) });
      expect(await (await api.fetch(`/notes/${note.id}`)).json()).toMatchObject({ title: "t".repeat(TITLE_MAX), body: "x".repeat(BODY_MAX) });
    });

    it("keeps text beyond ASCII intact, paired surrogates (emoji) included", async () => {
      const text = "é 日本 🙂 \u2028";
      const note = await create({ title: text, body: text.repeat(50) });
      expect(await (await api.fetch(`/notes/${note.id}`)).json()).toMatchObject({ title: text, body: text.repeat(50) });
    });
  });

  describe("404s", () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    it.each([
      ["GET", `/notes/${missing}`, undefined],
      ["PATCH", `/notes/${missing}`, { title: "x" }],
      ["DELETE", `/notes/${missing}`, undefined],
    ])("%s of a note that does not exist answers a 404 problem", async (method, path, body) => {
      const problem = await problemOf(await api.json(method, path, body), 404);
      expect(problem).toMatchObject({ title: "Not Found", instance: path });
    });

    it("an unknown route answers a 404 problem naming it", async () => {
      const problem = await problemOf(await api.fetch("/nope?x=1"), 404);
      expect(problem.detail).toBe("No route for GET /nope");
      expect(problem.instance).toBe("/nope");
    });
  });

  describe("paging: newest first, keyset cursors", () => {
    let ids: string[];
    beforeAll(async () => {
      await db.query("DELETE FROM notes");
      // 45 notes, 15 of them created in the same millisecond: the id breaks the tie, so none is
      // skipped or repeated at a page boundary.
      await db.query(`INSERT INTO notes (title, created_at) SELECT 'same ms ' || i, '2026-01-01T00:00:00.000Z' FROM generate_series(1, 15) i`);
      await db.query(
        `INSERT INTO notes (title, created_at) SELECT 'note ' || i, '2026-01-01T00:00:00.000Z'::timestamptz + i * interval '1 second' FROM generate_series(1, 30) i`,
      );
      const { rows } = await db.query<{ id: string }>("SELECT id FROM notes ORDER BY created_at DESC, id DESC");
      ids = rows.map((r) => r.id);
    });

    const pageThrough = async (limit?: number) => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ ...(limit ? { limit: String(limit) } : {}), ...(cursor ? { cursor } : {}) });
        const res = await api.fetch(`/notes?${query}`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: Note[]; nextCursor: string | null };
        seen.push(...page.items.map((n) => n.id));
        sizes.push(page.items.length);
        cursor = page.nextCursor;
      } while (cursor);
      return { seen, sizes };
    };

    it("returns every note exactly once, newest first, 20 per page by default", async () => {
      const { seen, sizes } = await pageThrough();
      expect(seen).toEqual(ids);
      expect(sizes).toEqual([20, 20, 5]);
    });

    it.each([1, 7, 15, 44, 45, 100])("limit=%i pages through all 45 notes exactly once", async (limit) => {
      const { seen, sizes } = await pageThrough(limit);
      expect(seen).toEqual(ids);
      expect(sizes.every((n) => n <= limit)).toBe(true);
      expect(sizes.length).toBe(Math.ceil(45 / limit));
    });

    it("a note created while paging does not shift later pages", async () => {
      const first = (await (await api.fetch("/notes?limit=10")).json()) as { items: Note[]; nextCursor: string };
      await create({ title: "newer than every page" });
      const second = (await (await api.fetch(`/notes?limit=10&cursor=${first.nextCursor}`)).json()) as { items: Note[] };
      expect(second.items.map((n) => n.id)).toEqual(ids.slice(10, 20));
    });
  });

  describe("bad input: 400 problem details naming the field", () => {
    const existing = () => create({ title: "target" });
    it.each<[string, string, (id: string) => string, unknown, string[]]>([
      ["title missing", "POST", () => "/notes", { body: "x" }, ["/body/title"]],
      ["title empty", "POST", () => "/notes", { title: "" }, ["/body/title"]],
      ["title over 200 characters", "POST", () => "/notes", { title: "x".repeat(201) }, ["/body/title"]],
      ["title not a string", "POST", () => "/notes", { title: 42 }, ["/body/title"]],
      ["body over BODY_MAX characters", "POST", () => "/notes", { title: "t", body: "x".repeat(BODY_MAX + 1) }, ["/body/body"]],
      ["a NUL character in the title (PostgreSQL cannot store it)", "POST", () => "/notes", '{"title":"a\\u0000b"}', ["/body/title"]],
      ["an unpaired surrogate in the body (not text)", "POST", () => "/notes", '{"title":"t","body":"a\\ud800b"}', ["/body/body"]],
      ["an unpaired low surrogate in the title", "POST", () => "/notes", '{"title":"\\udc00"}', ["/body/title"]],
      ["deeply nested arrays instead of a body", "POST", () => "/notes", `{"title":"t","body":${"[".repeat(2000)}${"]".repeat(2000)}}`, ["/body/body"]],
      ["body not a string", "POST", () => "/notes", { title: "t", body: ["a"] }, ["/body/body"]],
      ["an unknown field", "POST", () => "/notes", { title: "t", colour: "red" }, ["/body/colour"]],
      ["several bad fields at once", "POST", () => "/notes", { title: "", body: 1 }, ["/body/title", "/body/body"]],
      ["a JSON array instead of an object", "POST", () => "/notes", [], ["/body"]],
      ["malformed JSON", "POST", () => "/notes", "{not json", ["/body"]],
      ["PATCH with no field", "PATCH", (id) => `/notes/${id}`, {}, ["/body"]],
      ["PATCH with an empty title", "PATCH", (id) => `/notes/${id}`, { title: "" }, ["/body/title"]],
      ["PATCH with a body over BODY_MAX characters", "PATCH", (id) => `/notes/${id}`, { body: "x".repeat(BODY_MAX + 1) }, ["/body/body"]],
      ["PATCH with a NUL character in the body", "PATCH", (id) => `/notes/${id}`, '{"body":"\\u0000"}', ["/body/body"]],
      ["PATCH with an unknown field", "PATCH", (id) => `/notes/${id}`, { id: "00000000-0000-4000-8000-000000000000" }, ["/body/id"]],
      ["an id that is not a UUID (GET)", "GET", () => "/notes/42", undefined, ["/params/id"]],
      ["an id that is not a UUID (PATCH)", "PATCH", () => "/notes/abc", { title: "x" }, ["/params/id"]],
      ["an id that is not a UUID (DELETE)", "DELETE", () => "/notes/abc", undefined, ["/params/id"]],
      ["limit 0", "GET", () => "/notes?limit=0", undefined, ["/query/limit"]],
      ["limit 101", "GET", () => "/notes?limit=101", undefined, ["/query/limit"]],
      ["limit not a number", "GET", () => "/notes?limit=ten", undefined, ["/query/limit"]],
      ["limit not whole", "GET", () => "/notes?limit=2.5", undefined, ["/query/limit"]],
      ["a cursor this API never issued", "GET", () => "/notes?cursor=bm90LWEtY3Vyc29y", undefined, ["/query/cursor"]],
      ["an unknown query parameter", "GET", () => "/notes?sort=title", undefined, ["/query/sort"]],
    ])("%s", async (_, method, path, body, pointers) => {
      const id = method === "PATCH" ? (await existing()).id : "";
      const problem = await problemOf(await api.json(method, path(id), body), 400);
      expect(problem.title).toBe("Bad Request");
      expect(problem.errors?.map((e) => e.pointer).sort()).toEqual([...pointers].sort());
      for (const pointer of pointers) expect(problem.detail).toContain(pointer.split("/").slice(2).join(".") || "body");
    });

    it("nothing is stored when a create is refused", async () => {
      const before = await db.query("SELECT count(*)::int AS n FROM notes");
      await api.json("POST", "/notes", { title: "" });
      expect((await db.query("SELECT count(*)::int AS n FROM notes")).rows[0].n).toBe(before.rows[0].n);
    });

    it("a body over BODY_LIMIT_BYTES answers a 413 problem, before it is read", async () => {
      const problem = await problemOf(await api.json("POST", "/notes", { title: "big", body: "x".repeat(BODY_LIMIT_BYTES) }), 413);
      expect(problem.title).toBe("Content Too Large");
      expect(problem.detail).toContain(String(BODY_LIMIT_BYTES));
    });

    it("a body within BODY_MAX characters but over BODY_LIMIT_BYTES (text beyond ASCII) answers 413, as the web ACL would refuse it", async () => {
      const body = "日".repeat(BODY_MAX);
      expect(Buffer.byteLength(JSON.stringify({ title: "t", body }))).toBeGreaterThan(BODY_LIMIT_BYTES);
      await problemOf(await api.json("POST", "/notes", { title: "t", body }), 413);
    });

    it(`thousands of unknown fields answer a short problem: at most ${MAX_ERRORS} errors, and how many more`, async () => {
      const fields: Record<string, number> = {};
      for (let i = 0; JSON.stringify(fields).length < BODY_LIMIT_BYTES - 100; i++) fields[`k${i}`] = 0;
      const count = Object.keys(fields).length;
      const res = await api.json("POST", "/notes", { title: "t", ...fields });
      const problem = await problemOf(res, 400);
      expect(problem.errors).toHaveLength(MAX_ERRORS);
      expect(problem.detail).toContain(`and ${count - MAX_ERRORS} more`);
      expect(JSON.stringify(problem).length).toBeLessThan(4096);
    });

    it("a body that is not JSON answers a 415 problem", async () => {
      await problemOf(await api.fetch("/notes", { method: "POST", headers: { "content-type": "text/plain" }, body: "title" }), 415);
    });
  });

  describe("errors the HTTP layer makes itself: problems with a request id", () => {
    /** Sends raw bytes, as a client that does not speak HTTP well would, and reads the whole answer. */
    const raw = (request: string) =>
      new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
        const socket = net.connect(api.port, "127.0.0.1", () => socket.write(request));
        let text = "";
        socket.on("data", (chunk) => (text += chunk.toString()));
        socket.on("error", reject);
        socket.on("close", () => {
          const [head, ...rest] = text.split("\r\n\r\n");
          resolve({ status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: rest.join("\r\n\r\n") });
        });
      });

    it.each([
      ["a URL and headers over 16 KB: 431", `GET /notes?x=${"a".repeat(20_000)} HTTP/1.1\r\nHost: t\r\n\r\n`, 431],
      ["a malformed header: 400", "GET /notes HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400],
      ["not HTTP at all: 400", "HELLO\r\n\r\n", 400],
    ])("%s", async (_, request, status) => {
      const answer = await raw(request);
      expect(answer.status).toBe(status);
      expect(answer.headers).toContain("content-type: application/problem+json");
      expect(answer.headers).toMatch(/x-request-id: [0-9a-f-]{36}/);
      expect(JSON.parse(answer.body)).toMatchObject({ type: "about:blank", status });
    });

    it("a path parameter over the router's length: a 414 problem with the request id", async () => {
      const res = await api.fetch(`/notes/${"a".repeat(500)}`);
      const problem = await problemOf(res, 414);
      expect(problem.title).toBe("URI Too Long");
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe("request ids", () => {
    it("echoes the caller's X-Request-Id and logs the request with it", async () => {
      const res = await api.fetch("/notes?limit=1", { headers: { "x-request-id": "trace-abc.123" } });
      expect(res.headers.get("x-request-id")).toBe("trace-abc.123");
      const line = await api.waitForLog((l) => l.requestId === "trace-abc.123" && l.msg === "request completed");
      expect(line).toMatchObject({ res: { statusCode: 200 }, env: "test", service: "notes-api" });
    });

    it("gives a request without one a new id, on error answers too", async () => {
      const res = await api.fetch("/nope");
      const id = res.headers.get("x-request-id");
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await api.waitForLog((l) => l.requestId === id && l.msg === "request completed");
    });

    it("replaces a caller's id that is not a plain token, so logs cannot be forged", async () => {
      const res = await api.fetch("/health", { headers: { "x-request-id": "x".repeat(200) } });
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
