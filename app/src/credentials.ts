import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** A database login. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Where the database login comes from. `current()` may answer from a short cache; `refresh()` reads
 * the source again (after PostgreSQL refused the cached password, for example once RDS rotated it).
 */
export interface CredentialSource {
  current(): Promise<Credentials>;
  refresh(): Promise<Credentials>;
}

/** Fixed credentials: `DB_USERNAME` and `DB_PASSWORD`, for running the API against a local database. */
export function fixedCredentials(credentials: Credentials): CredentialSource {
  return { current: async () => credentials, refresh: async () => credentials };
}

export interface SecretOptions {
  /** How long a read stays good. RDS rotates the master secret every 7 days; a refused password re-reads at once. @default 300000 */
  readonly cacheMs?: number;
  /** Reads closer together than this share one call, so a burst of refused logins costs one read. @default 1000 */
  readonly minIntervalMs?: number;
  /** @default a client for the secret's region; the endpoint follows AWS_ENDPOINT_URL(_SECRETS_MANAGER) as every AWS SDK does */
  readonly client?: SecretsManagerClient;
  readonly now?: () => number;
}

/**
 * The RDS-managed master secret (`{"username": ..., "password": ...}`), read with the task role's
 * credentials when a connection is made, not once at start: ECS resolves a task definition's `secrets`
 * only when a task starts, so a task reading `DB_PASSWORD` then would fail every new connection after
 * the first rotation until it is replaced.
 */
export function secretCredentials(secretArn: string, options: SecretOptions = {}): CredentialSource {
  const region = secretArn.split(":")[3];
  const client = options.client ?? new SecretsManagerClient({ region, maxAttempts: 3 });
  const cacheMs = options.cacheMs ?? 300_000;
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const now = options.now ?? Date.now;
  let cached: { credentials: Credentials; at: number } | undefined;
  let pending: Promise<Credentials> | undefined;

  const read = (): Promise<Credentials> => {
    pending ??= (async () => {
      try {
        const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
        const credentials = parseSecret(SecretString);
        cached = { credentials, at: now() };
        return credentials;
      } catch (error) {
        // Secrets Manager out of reach is the database out of reach to a caller: 503, try again.
        throw new CredentialsUnavailable(error);
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };

  return {
    current: async () => (cached && now() - cached.at < cacheMs ? cached.credentials : read()),
    refresh: async () => (cached && now() - cached.at < minIntervalMs ? cached.credentials : read()),
  };
}

/** The login could not be read; `code` marks it as the database being unavailable (see isUnavailable). */
export class CredentialsUnavailable extends Error {
  override readonly name = "CredentialsUnavailable";
  readonly code = "ECREDENTIALS";
  constructor(cause: unknown) {
    super(`the database credentials could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The secret's JSON, checked: a clear error rather than a login with `undefined`. Never echoes the value. */
export function parseSecret(text: string | undefined): Credentials {
  let value: unknown;
  try {
    value = JSON.parse(text ?? "");
  } catch {
    throw new Error("the database secret is not JSON with username and password");
  }
  const { username, password } = (value ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || !username || typeof password !== "string" || !password)
    throw new Error("the database secret has no username and password strings");
  return { username, password };
}
