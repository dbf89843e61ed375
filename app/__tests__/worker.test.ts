import { randomUUID } from "node:crypto";
import { RunningApi, databaseEnv } from "../harness/api";
import { BACKENDS, type TestDatabase } from "../harness/database";
import { AWS_ENV, eventually, PausableProxy, RunningWorker, Sqs, SqsGate } from "./support/worker";

/**
 * The worker against the emulator's SQS (moto) and each database: the API publishes, the worker counts
 * words once per event, whatever stops it and wherever; a message it cannot handle ends in the
 * dead-letter queue; SIGTERM lets the message in flight finish, or returns it to the queue.
 */
jest.setTimeout(120_000);

// The emulator (moto) is docs/emulator.md's requirement for the emulator tests; SKIP_EMULATOR_TESTS=1 skips these with them.
const skip = ["1", "true"].includes(process.env.SKIP_EMULATOR_TESTS ?? "");

const VISIBILITY = 3;
const MAX_RECEIVES = 3;

let sqs: Sqs;
beforeAll(async () => {
  if (!skip) sqs = await Sqs.start();
});
afterAll(async () => {
  await sqs?.stop();
});

const event = (noteId: string, type = "note.created") => JSON.stringify({ id: randomUUID(), type, noteId, occurredAt: new Date().toISOString() });

(skip ? describe.skip : describe).each(BACKENDS)("the worker on $name", (backend) => {
  let db: TestDatabase;
  let api: RunningApi;
  let queueUrl: string;
  const workers: RunningWorker[] = [];

  /** A queue of the test's own, as the stack makes it. */
  const newQueue = () => sqs.queue(`notes-${randomUUID().slice(0, 8)}`, { visibilityTimeoutSeconds: VISIBILITY, maxReceiveCount: MAX_RECEIVES });
  const startWorker = async (queue: string, env: Record<string, string> = {}, database = databaseEnv(db)) => {
    const worker = await RunningWorker.start({
      ...database,
      QUEUE_URL: queue,
      QUEUE_WAIT_SECONDS: "1",
      MESSAGE_TIMEOUT_MS: "2500",
      RETRY_DELAY_SECONDS: "0",
      SHUTDOWN_TIMEOUT_MS: "1000",
      ...env,
    });
    workers.push(worker);
    return worker;
  };
  const note = async (body: string) => {
    const res = await api.json("POST", "/notes", { title: "a note", body });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; wordCount: number | null };
  };
  const row = async (id: string) =>
    (await db.query<{ word_count: number | null; xmin: string }>("SELECT word_count, xmin::text FROM notes WHERE id = $1", [id])).rows[0];
  const handled = async (eventId: string) => Number((await db.query("SELECT count(*) FROM handled_events WHERE event_id = $1", [eventId])).rows[0].count);
  const idOf = (body: string) => JSON.parse(body).id as string;

  beforeAll(async () => {
    db = await backend.create();
    ({ url: queueUrl } = await newQueue());
    // The API migrates the schema (the worker does not) and publishes to the queue.
    api = await RunningApi.start({ ...databaseEnv(db), ...AWS_ENV, WORKER_QUEUE_URL: queueUrl });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
  });
  afterAll(async () => {
    await api?.stop();
    await db?.drop();
  });

  it("counts the words of a note the API created, and again once its body changes", async () => {
    await startWorker(queueUrl);
    const created = await note("one two three, four");
    expect(created.wordCount).toBeNull(); // the API answers before the worker counts
    const counted = await eventually(
      async () => ((await (await api.fetch(`/notes/${created.id}`)).json()) as { wordCount: number | null }).wordCount ?? undefined,
    );
    expect(counted).toBe(4);
    const patched = await api.json("PATCH", `/notes/${created.id}`, { body: "Grüße aus 東京 und Köln" });
    expect(((await patched.json()) as { wordCount: number | null }).wordCount).toBeNull();
    expect(await eventually(async () => (await row(created.id)).word_count ?? undefined)).toBe(5);
    // The worker deletes a message after its transaction commits: the count can be seen a moment before the delete.
    await eventually(
      async () => {
        const depth = await sqs.depth(queueUrl);
        return depth.visible === 0 && depth.inFlight === 0 ? depth : undefined;
      },
      20_000,
      "an empty queue",
    );
  });

  it("without a queue (WORKER_QUEUE_URL unset) the API serves the same and publishes nothing", async () => {
    const plain = await RunningApi.start(databaseEnv(db));
    try {
      const res = await plain.json("POST", "/notes", { title: "no queue", body: "still stored" });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { wordCount: null }).wordCount).toBeNull();
    } finally {
      await plain.stop();
    }
  });

  it("a message whose worker was killed after its commit and before its delete comes back, and is acknowledged without acting again", async () => {
    const { url } = await newQueue();
    const gate = await SqsGate.start(sqs.url);
    try {
      const target = await note("the quick brown fox");
      const body = event(target.id);
      // given: a worker whose DeleteMessage never reaches SQS
      gate.holdDeletes = true;
      const first = await startWorker(gate.via(url));
      await sqs.send(url, body);
      await eventually(async () => (gate.held > 0 ? true : undefined), 20_000, "the first worker's delete");
      // the effect is committed: the count and the event in the inbox
      const after = await row(target.id);
      expect([after.word_count, await handled(idOf(body))]).toEqual([4, 1]);
      // when: the worker dies there, and the message comes back after the visibility timeout
      await first.kill("SIGKILL");
      const second = await startWorker(url);
      const line = await second.waitForLog((l) => l.msg === "event already handled; acknowledged without acting again");
      // then: acknowledged on its second delivery, with no second write to the note or the inbox
      expect(line).toMatchObject({ eventId: idOf(body), receiveCount: 2 });
      await eventually(async () => ((await sqs.depth(url)).visible + (await sqs.depth(url)).inFlight === 0 ? true : undefined));
      expect(await row(target.id)).toEqual(after); // same xmin: the row was not written again
      expect(await handled(idOf(body))).toBe(1);
    } finally {
      await gate.stop();
    }
  });

  (backend.separateSessions ? it : it.skip)("a message whose worker was killed inside its transaction comes back and is handled once", async () => {
    const { url } = await newQueue();
    const target = await note("alpha beta");
    const body = event(target.id);
    // given: the note's row locked, so the worker's transaction waits inside, its event already in the (uncommitted) inbox
    const holder = await db.client();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM notes WHERE id = $1 FOR UPDATE", [target.id]);
      const first = await startWorker(url, { MESSAGE_TIMEOUT_MS: "30000" });
      await sqs.send(url, body);
      await eventually(async () => ((await sqs.depth(url)).inFlight === 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      // when: killed mid-transaction; its session ends and PostgreSQL rolls it back
      await first.kill("SIGKILL");
    } finally {
      await holder.query("COMMIT");
      await holder.end();
    }
    expect(await handled(idOf(body))).toBe(0);
    // then: the message comes back, and a new worker acts on it once
    await startWorker(url);
    expect(await eventually(async () => (await row(target.id)).word_count ?? undefined)).toBe(2);
    await eventually(async () => ((await sqs.depth(url)).visible + (await sqs.depth(url)).inFlight === 0 ? true : undefined));
    expect(await handled(idOf(body))).toBe(1);
  });

  it(`a poison message is received ${MAX_RECEIVES} times, then ends in the dead-letter queue; the worker keeps going`, async () => {
    const { url, deadLetterUrl } = await newQueue();
    const worker = await startWorker(url);
    await sqs.send(url, "{not json");
    await sqs.send(url, JSON.stringify({ id: randomUUID(), type: "note.deleted", noteId: randomUUID() }));
    const dead = await eventually(
      async () => ((await sqs.depth(deadLetterUrl)).visible === 2 ? sqs.take(deadLetterUrl) : undefined),
      60_000,
      "two dead letters",
    );
    expect(dead.sort()).toEqual(expect.arrayContaining(["{not json"]));
    expect(await sqs.depth(url)).toEqual({ visible: 0, inFlight: 0 });
    const failures = worker.logs.filter((l) => l.msg === "message failed; it comes back after the retry delay, or goes to the dead-letter queue");
    expect(failures.map((l) => l.receiveCount).sort()).toEqual([1, 1, 2, 2, 3, 3]);
    expect(failures[0]).toMatchObject({ err: { type: "PoisonMessage" } });
    // still serving: a good event after the poison is handled
    const target = await note("still counting");
    await sqs.send(url, event(target.id));
    expect(await eventually(async () => (await row(target.id)).word_count ?? undefined)).toBe(2);
  });

  describe("on SIGTERM with a message in flight", () => {
    let proxy: PausableProxy;
    beforeEach(async () => {
      proxy = await PausableProxy.start({ host: db.host, port: db.port });
    });
    afterEach(async () => {
      await proxy.stop();
    });

    /** A worker whose next database round trip waits in the proxy: its handler is in flight until resumed. */
    const workerInFlight = async (url: string) => {
      const worker = await startWorker(url, {}, databaseEnv(db, proxy.port));
      // A first message opens the pooled connection, so the held one waits on a query, not on connecting.
      await sqs.send(url, event(randomUUID()));
      await worker.waitForLog((l) => l.msg === "message handled");
      proxy.pause();
      const target = await note("held in flight");
      const body = event(target.id);
      await sqs.send(url, body);
      await eventually(async () => ((await sqs.depth(url)).inFlight === 1 ? true : undefined));
      return { worker, target, body };
    };

    it("stops polling, lets it finish within SHUTDOWN_TIMEOUT_MS, deletes it and exits 0", async () => {
      const { url } = await newQueue();
      const { worker, target } = await workerInFlight(url);
      worker.process.kill("SIGTERM");
      await worker.waitForLog((l) => l.msg === "stopping: no new messages, finishing the one in flight");
      setTimeout(() => proxy.resume(), 300);
      expect({ code: await worker.exitCode(), stderr: worker.stderr }).toEqual({ code: 0, stderr: [] });
      expect(worker.logs.find((l) => String(l.msg).startsWith("stopped"))).toMatchObject({ finished: true, returned: false });
      expect((await row(target.id)).word_count).toBe(3);
      expect(await sqs.depth(url)).toEqual({ visible: 0, inFlight: 0 });
    });

    it("past SHUTDOWN_TIMEOUT_MS aborts it (nothing committed) and returns it to the queue at once, for another task", async () => {
      const { url } = await newQueue();
      const { worker, target, body } = await workerInFlight(url);
      const started = Date.now();
      worker.process.kill("SIGTERM");
      expect({ code: await worker.exitCode(), stderr: worker.stderr }).toEqual({ code: 0, stderr: [] });
      expect(Date.now() - started).toBeLessThan(VISIBILITY * 1000);
      expect(worker.logs.find((l) => String(l.msg).startsWith("stopped"))).toMatchObject({ finished: false, returned: true });
      // visible again before its visibility timeout would have let it go
      expect((await sqs.depth(url)).visible).toBe(1);
      proxy.resume();
      expect(await handled(idOf(body))).toBe(0);
      await startWorker(url);
      expect(await eventually(async () => (await row(target.id)).word_count ?? undefined)).toBe(3);
      expect(await handled(idOf(body))).toBe(1);
    });
  });
});
