import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CredentialsUnavailable, parseSecret, secretCredentials } from "../src/credentials";
import { isUnavailable } from "../src/database";

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
  it("reads the secret by its ARN once, then answers from the cache until it expires", async () => {
    let now = 0;
    const { client, calls } = fakeClient([secret("one"), secret("two")]);
    const source = secretCredentials(ARN, { client, cacheMs: 1000, now: () => now });
    expect(await source.current()).toEqual({ username: "app_admin", password: "one" });
    now = 999;
    expect((await source.current()).password).toBe("one");
    expect(calls).toEqual([{ SecretId: ARN }]);
    now = 1000;
    expect((await source.current()).password).toBe("two");
    expect(calls).toHaveLength(2);
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
