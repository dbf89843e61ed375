import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { readConfig } from "../src/config";
import { CredentialsUnavailable, iamCredentials, parseSecret, secretCredentials, secretsClient, type TokenSigner } from "../src/credentials";
import { credentialSource, databaseRegion, isUnavailable, secretOptions } from "../src/database";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf";

/** A Secrets Manager that answers from `values` in turn and counts its calls. */
function fakeClient(values: (string | Error)[]) {
  const calls: unknown[] = [];
  const client = {
    send: async (command: GetSecretValueCommand) => {
      calls.push(command.input);
      await new Promise((r) => setTimeout(r, 5));
      const next = values.length > 1 ? values.shift()! : values[0];
      if (next instanceof Error) throw next;
      return { SecretString: next };
    },
  } as unknown as SecretsManagerClient;
  return { client, calls };
}
const secret = (password: string) => JSON.stringify({ username: "app_admin", password });

describe("the database login from Secrets Manager", () => {
  it("reads the secret by its ARN once, answers from the cache until it expires, then reads again while the last value serves", async () => {
    let now = 0;
    const { client, calls } = fakeClient([secret("one"), secret("two")]);
    const source = secretCredentials(ARN, { client, cacheMs: 1000, now: () => now });
    expect(await source.current()).toEqual({ username: "app_admin", password: "one" });
    now = 999;
    expect((await source.current()).password).toBe("one");
    expect(calls).toEqual([{ SecretId: ARN }]);
    now = 1000;
    // Expired: this login still gets the last good value at once; one read replaces it.
    expect((await source.current()).password).toBe("one");
    expect(calls).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 20));
    expect((await source.current()).password).toBe("two");
    expect(calls).toHaveLength(2);
  });

  it("a failed read keeps the last good value serving logins, and the next read waits a backoff that doubles", async () => {
    let now = 0;
    const { client, calls } = fakeClient([secret("good"), new Error("connect ETIMEDOUT"), new Error("connect ETIMEDOUT"), secret("back")]);
    const source = secretCredentials(ARN, { client, cacheMs: 1000, retryBaseMs: 1000, now: () => now });
    await source.current();
    now = 5000;
    const settle = () => new Promise((r) => setTimeout(r, 20));
    expect((await source.current()).password).toBe("good");
    await settle();
    expect(calls).toHaveLength(2);
    // Within the backoff (1 s after the failure) nothing is read, and logins keep the last good value.
    now = 5999;
    expect((await source.current()).password).toBe("good");
    await settle();
    expect(calls).toHaveLength(2);
    // A refused login cannot be answered with the value just refused: it fails at once (503), no read storm.
    expect(isUnavailable(await source.refresh().catch((e: unknown) => e))).toBe(true);
    expect(calls).toHaveLength(2);
    now = 6000;
    expect((await source.current()).password).toBe("good");
    await settle();
    expect(calls).toHaveLength(3);
    // The second failure in a row doubles the wait: 2 s.
    now = 7999;
    await source.current();
    await settle();
    expect(calls).toHaveLength(3);
    now = 8000;
    expect((await source.current()).password).toBe("good");
    await settle();
    expect((await source.current()).password).toBe("back");
    expect(calls).toHaveLength(4);
  });

  it("one hung read blocks no login: while it hangs, every login gets the last good value at once, and it is aborted at timeoutMs", async () => {
    let now = 0;
    const signals: AbortSignal[] = [];
    let calls = 0;
    const client = {
      send: async (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
        calls++;
        if (calls === 1) return { SecretString: secret("good") };
        signals.push(options!.abortSignal!);
        return new Promise(() => undefined);
      },
    } as unknown as SecretsManagerClient;
    const source = secretCredentials(ARN, { client, cacheMs: 1000, timeoutMs: 100, now: () => now });
    await source.current();
    now = 2000;
    const started = Date.now();
    const logins = await Promise.all(Array.from({ length: 50 }, () => source.current()));
    expect(Date.now() - started).toBeLessThan(50);
    expect(new Set(logins.map((c) => c.password))).toEqual(new Set(["good"]));
    expect(calls).toBe(2);
    expect(signals[0].aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(signals[0].aborted).toBe(true);
  });

  it("the Secrets Manager client's calls end: a server that takes the request and never answers fails it, and its connection is closed", async () => {
    const sockets: import("node:net").Socket[] = [];
    const { createServer } = await import("node:http");
    const server = createServer((req) => sockets.push(req.socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as import("node:net").AddressInfo).port;
    try {
      const client = secretsClient("eu-west-1", 300, {
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        maxAttempts: 1,
      });
      const started = Date.now();
      const error = await client.send(new GetSecretValueCommand({ SecretId: ARN })).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "TimeoutError" });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(sockets.length).toBe(1);
      await new Promise((r) => setTimeout(r, 50));
      expect(sockets[0].destroyed).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("DB_SECRET_CACHE_MS, DB_SECRET_TIMEOUT_MS and DB_SECRET_RETRY_MS set the cache, the timeout and the least time between reads", async () => {
    const config = readConfig({
      APP_ENV: "dev",
      DB_HOST: "db.example.internal",
      DB_NAME: "app",
      DB_SECRET_ARN: ARN,
      DB_SECRET_CACHE_MS: "2000",
      DB_SECRET_TIMEOUT_MS: "700",
      DB_SECRET_RETRY_MS: "300",
    });
    expect(secretOptions(config)).toEqual({ cacheMs: 2000, timeoutMs: 700, minIntervalMs: 300, retryBaseMs: 300, retryMaxMs: 18000 });
    let now = 0;
    const { client, calls } = fakeClient([secret("one"), secret("two"), secret("three")]);
    const source = secretCredentials(ARN, { ...secretOptions(config), client, now: () => now });
    await source.current();
    // A refresh within DB_SECRET_RETRY_MS of the last read answers that value; after it, reads again.
    now = 299;
    expect((await source.refresh()).password).toBe("one");
    now = 300;
    expect((await source.refresh()).password).toBe("two");
    now = 2299;
    expect((await source.current()).password).toBe("two");
    expect(calls).toHaveLength(2);
    // DB_SECRET_CACHE_MS after the last read: the value serves while one read replaces it.
    now = 2300;
    await source.current();
    expect(calls).toHaveLength(3);
  });

  it("refresh reads again (a rotation), and a burst of refused logins shares one read", async () => {
    let now = 0;
    const { client, calls } = fakeClient([secret("old"), secret("new")]);
    const source = secretCredentials(ARN, { client, minIntervalMs: 1000, now: () => now });
    await source.current();
    now = 5000;
    const burst = await Promise.all(Array.from({ length: 20 }, () => source.refresh()));
    expect(new Set(burst.map((c) => c.password))).toEqual(new Set(["new"]));
    expect(calls).toHaveLength(2);
    // Within minIntervalMs of the last read, a refresh is the cached value: no read storm.
    await source.refresh();
    expect(calls).toHaveLength(2);
  });

  it("Secrets Manager out of reach is the database unavailable (503), not a server error", async () => {
    const { client } = fakeClient([new Error("connect ECONNREFUSED")]);
    const error = await secretCredentials(ARN, { client })
      .current()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsUnavailable);
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ["not JSON", "password=1", "not JSON"],
    ["no password", JSON.stringify({ username: "u" }), "no username and password"],
    ["an empty username", JSON.stringify({ username: "", password: "p" }), "no username and password"],
  ])("a secret that is %s is refused without echoing it", (_, text, message) => {
    expect(() => parseSecret(text)).toThrow(message);
    try {
      parseSecret(text);
    } catch (error) {
      expect(String(error)).not.toContain(text);
    }
  });
});

/** A signer that answers tokens in turn (or hangs, or fails) and counts its calls. */
function fakeSigner(answers: ("hang" | Error | string)[]) {
  let calls = 0;
  const signer: TokenSigner = {
    getAuthToken: async () => {
      calls++;
      const next = answers.length > 1 ? answers.shift()! : answers[0];
      if (next === "hang") return new Promise<string>(() => undefined);
      await new Promise((r) => setTimeout(r, 5));
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { signer, calls: () => calls };
}
const IAM = { hostname: "rest-api-dev.abc123.eu-west-1.rds.amazonaws.com", port: 5432, username: "app", region: "eu-west-1" };

describe("the database login by IAM authentication token", () => {
  it("signs a token for the app's user, kept under its 15-minute life (10 minutes), then signs a new one", async () => {
    let now = 0;
    const { signer, calls } = fakeSigner(["token-1", "token-2"]);
    const source = iamCredentials({ ...IAM, signer, now: () => now });
    expect(await source.current()).toEqual({ username: "app", password: "token-1" });
    now = 599_999;
    expect((await source.current()).password).toBe("token-1");
    expect(calls()).toBe(1);
    now = 600_000;
    expect((await source.current()).password).toBe("token-1");
    await new Promise((r) => setTimeout(r, 20));
    expect((await source.current()).password).toBe("token-2");
    expect(calls()).toBe(2);
  });

  it("a token near its 15 minutes is never served: with signing failing, the last one serves until 14 minutes, then a login fails (503)", async () => {
    let now = 0;
    const { signer, calls } = fakeSigner(["token-1", new Error("credentials endpoint unreachable")]);
    const source = iamCredentials({ ...IAM, signer, retryBaseMs: 1, now: () => now });
    await source.current();
    now = 600_000;
    expect((await source.current()).password).toBe("token-1");
    await new Promise((r) => setTimeout(r, 20));
    expect(calls()).toBe(2);
    now = 839_999;
    expect((await source.current()).password).toBe("token-1");
    await new Promise((r) => setTimeout(r, 20));
    now = 840_000;
    const error = await source.current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsUnavailable);
    expect(isUnavailable(error)).toBe(true);
  });

  it("a refused login signs again at once, and a burst of refusals shares one signing", async () => {
    let now = 0;
    const { signer, calls } = fakeSigner(["old", "new"]);
    const source = iamCredentials({ ...IAM, signer, now: () => now });
    await source.current();
    now = 5000;
    const burst = await Promise.all(Array.from({ length: 20 }, () => source.refresh()));
    expect(new Set(burst.map((c) => c.password))).toEqual(new Set(["new"]));
    expect(calls()).toBe(2);
  });

  it("a signing that hangs (credentials endpoint unanswered) fails after timeoutMs as unavailable, and the next login tries again", async () => {
    const { signer, calls } = fakeSigner(["hang", "fresh"]);
    const source = iamCredentials({ ...IAM, signer, timeoutMs: 50 });
    const error = await source.current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsUnavailable);
    expect(isUnavailable(error)).toBe(true);
    expect((await source.current()).password).toBe("fresh");
    expect(calls()).toBe(2);
  });

  it("a secret read that hangs fails the same way", async () => {
    const client = { send: () => new Promise(() => undefined) } as unknown as SecretsManagerClient;
    const error = await secretCredentials(ARN, { client, timeoutMs: 50 })
      .current()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsUnavailable);
  });

  it("DB_IAM_USER is the app's login, over TLS only, in the RDS endpoint's region", () => {
    const env = { APP_ENV: "dev", DB_HOST: IAM.hostname, DB_NAME: "app", DB_IAM_USER: "app" };
    expect(() => credentialSource(readConfig(env))).not.toThrow();
    expect(() => credentialSource(readConfig({ ...env, DB_HOST: "127.0.0.1", DB_SSL_MODE: "disable" }), {})).toThrow(
      'DB_IAM_USER: IAM authentication needs TLS, and DB_SSL_MODE is "disable"',
    );
    expect(databaseRegion(IAM.hostname, {})).toBe("eu-west-1");
    expect(databaseRegion("db.internal", { AWS_REGION: "us-east-2" })).toBe("us-east-2");
    expect(() => databaseRegion("db.internal", {})).toThrow("AWS_REGION is not set");
    expect(() => readConfig({ ...env, DB_IAM_USER: "App-User" })).toThrow('DB_IAM_USER = "App-User": not a lowercase PostgreSQL role name');
  });
});
