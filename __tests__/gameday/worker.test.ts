/**
 * The game day's worker (scripts/gameday/worker.ts): what it reads of the synthesized workers' stack (the
 * worker service's container, its queue and redrive policy, the API's publisher variable, the scheduled job's
 * target), and the worker's own durations scaled with the rest. The worker itself runs in `npm run gameday`.
 */
import { scaleWorkerEnvironment, synthesizeWorkers } from "../../scripts/gameday/worker";
import { examples } from "../support/variants";
import { parseSettings } from "../../lib/settings/environment/schema";

describe("the game day's worker, read from the synthesized dev-workers stack", () => {
  const spec = synthesizeWorkers();
  const settings = parseSettings(examples.find((e) => e.name === "dev-workers")!);

  test("the worker's container, as its task definition has it", () => {
    expect(spec.worker.command).toEqual(settings.services.worker.task.command);
    expect(spec.worker.environment.QUEUE_URL).toBe(spec.queue.urlRef);
    expect(spec.worker.environment.DB_IAM_USER).toBe(settings.database.appUsername);
    expect(spec.worker.stopTimeoutSeconds).toBe(settings.services.worker.task.stopTimeoutSeconds);
  });

  test("its queue: visibility timeout and the dead-letter queue after maxReceiveCount, as the stack declares them", () => {
    expect(spec.queue).toMatchObject({ name: expect.stringMatching(/-worker$/), deadLetterName: expect.stringMatching(/-worker-dlq$/) });
    expect(spec.queue.maxReceiveCount).toBeGreaterThan(1);
    expect(spec.queue.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(spec.worker.stopTimeoutSeconds);
    expect(spec.publisherVariable).toBe("WORKER_QUEUE_URL");
  });

  test("the scheduled job: its schedule and the command of its target's task definition", () => {
    const job = settings.jobs.nightly;
    expect(spec.job.schedule).toBe(job.schedule);
    expect(spec.job.task.command).toEqual(job.task.command);
  });
});

describe("the worker's durations, scaled", () => {
  test("as the task sets them, else the worker's defaults, at least 1 of their unit", () => {
    expect(scaleWorkerEnvironment({ MESSAGE_TIMEOUT_MS: "30000", APP_ENV: "x" }, 0.2)).toEqual({
      MESSAGE_TIMEOUT_MS: "6000",
      RETRY_DELAY_SECONDS: "1",
      QUEUE_WAIT_SECONDS: "4",
      APP_ENV: "x",
    });
    expect(scaleWorkerEnvironment({}, 0.01).RETRY_DELAY_SECONDS).toBe("1");
  });
});
