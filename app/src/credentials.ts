import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import { Signer } from "@aws-sdk/rds-signer";

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
  /**
   * How long past `cacheMs` the last good value still serves logins while reads fail or have not answered
   * (a Secrets Manager outage is not a database outage). @default no limit
   */
  readonly staleMs?: number;
  /** Reads closer together than this share one call, so a burst of refused logins costs one read. @default 1000 */
  readonly minIntervalMs?: number;
  /** A read that has not answered by then fails and is aborted (the database is unavailable: 503), so one hung call never holds every login. @default 5000 */
  readonly timeoutMs?: number;
  /**
   * After a failed read, none is tried for this long, doubling with each failure in a row up to `retryMaxMs`, as AWS's
   * Secrets Manager caching clients do (exception_retry_delay_base 1 s, growth factor 2). @default 1000
   */
  readonly retryBaseMs?: number;
  /** @default 60000 */
  readonly retryMaxMs?: number;
  /** @default a client for the secret's region; the endpoint follows AWS_ENDPOINT_URL(_SECRETS_MANAGER) as every AWS SDK does */
  readonly client?: SecretsManagerClient;
  readonly now?: () => number;
}

/**
 * The RDS-managed master secret (`{"username": ..., "password": ...}`), read with the task role's
 * credentials when a connection is made, not once at start: ECS resolves a task definition's `secrets`
 * only when a task starts, so a task reading `DB_PASSWORD` then would fail every new connection after
 * the first rotation until it is replaced. The stack no longer gives it to the app (it logs in with IAM,
 * iamCredentials); it stays for a database whose login is a secret the task role reads.
 */
export function secretCredentials(secretArn: string, options: SecretOptions = {}): CredentialSource {
  const region = secretArn.split(":")[3];
  const client = options.client ?? secretsClient(region, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return cachedSource(async (abortSignal) => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }), { abortSignal });
    return parseSecret(SecretString);
  }, options);
}

/**
 * A Secrets Manager client whose calls end: a connection not made within a second, or an answer not
 * complete within `timeoutMs`, fails the attempt (the SDK's requestTimeout only warns unless
 * throwOnRequestTimeout is set); its retries are bounded by the caller's abort at `timeoutMs` too.
 */
export function secretsClient(region: string, timeoutMs: number, config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: Math.min(1000, timeoutMs), requestTimeout: timeoutMs, throwOnRequestTimeout: true },
    ...config,
  });
}

const DEFAULT_TIMEOUT_MS = 5000;

/** What makes an IAM authentication token: @aws-sdk/rds-signer's Signer, or a fake in the tests. */
export interface TokenSigner {
  getAuthToken(): Promise<string>;
}

export interface IamOptions extends Omit<SecretOptions, "client"> {
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly region: string;
  /** @default @aws-sdk/rds-signer's Signer with the task role's credentials (the SDK's default chain) */
  readonly signer?: TokenSigner;
}

/**
 * IAM database authentication: the password is a token signed with the task role's credentials for
 * `rds-db:connect` as this user. A token admits new logins for 15 minutes ("Connecting to your DB instance
 * using IAM authentication", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html) (sessions already open outlive it), so one is kept 10
 * minutes and made again at once when PostgreSQL refuses it. Signing is local, but the role's
 * credentials may need a call to the container's credentials endpoint: it is bounded by `timeoutMs`.
 */
export function iamCredentials(options: IamOptions): CredentialSource {
  const { hostname, port, username, region } = options;
  const signer = options.signer ?? new Signer({ hostname, port, username, region });
  // A token older than its 15 minutes is refused, so the last good one serves no longer than that (a minute's margin).
  return cachedSource(async () => ({ username, password: await signer.getAuthToken() }), { cacheMs: 600_000, staleMs: 240_000, ...options });
}

/**
 * A login read from `read`, kept `cacheMs`. Past that, the last good value keeps serving logins at once
 * while one read replaces it in the background (for `staleMs` at most): a Secrets Manager outage or a hung
 * call is not a database outage, and no login waits on another's read. `refresh` (PostgreSQL refused the
 * value) reads again and waits, no more than once per `minIntervalMs`; concurrent reads share one call,
 * which fails and is aborted after `timeoutMs`. After a failure no read is tried for a backoff
 * (`retryBaseMs`, doubling to `retryMaxMs`): a refresh then fails at once (503), a login keeps the last value.
 * The Secrets Manager Agent does the same: "It can serve an expired value when Secrets Manager has a transient
 * error" (https://docs.aws.amazon.com/systems-manager/latest/userguide/cloud-extensions-ext-secrets-manager-refresh-now.html),
 * and its caching clients back off after a failed read
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_cache-ref-secretcacheconfig.html).
 */
function cachedSource(read: (abortSignal: AbortSignal) => Promise<Credentials>, options: SecretOptions): CredentialSource {
  const cacheMs = options.cacheMs ?? 300_000;
  const staleMs = options.staleMs ?? Infinity;
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const retryMaxMs = options.retryMaxMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: { credentials: Credentials; at: number } | undefined;
  let pending: Promise<Credentials> | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: unknown;

  const load = (): Promise<Credentials> => {
    pending ??= (async () => {
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new Error(`no answer within ${timeoutMs} ms`);
            abort.abort(error);
            reject(error);
          }, timeoutMs);
        });
        const credentials = await Promise.race([read(abort.signal), timeout]);
        cached = { credentials, at: now() };
        failures = 0;
        retryAt = 0;
        return credentials;
      } catch (error) {
        failures++;
        retryAt = now() + Math.min(retryMaxMs, retryBaseMs * 2 ** (failures - 1));
        lastError = error;
        // The login's source out of reach is the database out of reach to a caller: 503, try again.
        throw new CredentialsUnavailable(error);
      } finally {
        clearTimeout(timer);
        pending = undefined;
      }
    })();
    return pending;
  };
  const backingOff = () => now() < retryAt;

  return {
    current: async () => {
      if (cached && now() - cached.at < cacheMs) return cached.credentials;
      if (cached && now() - cached.at < cacheMs + staleMs) {
        if (!pending && !backingOff()) load().catch(() => undefined);
        return cached.credentials;
      }
      return load();
    },
    refresh: async () => {
      if (cached && now() - cached.at < minIntervalMs) return cached.credentials;
      if (!pending && backingOff()) throw new CredentialsUnavailable(lastError);
      return load();
    },
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
