import { check } from "../settings/validate";

/**
 * A release: the image an environment runs, from its own repository. Recorded per environment in
 * `releases/<env>.json` (see lib/settings/environment/releases.ts) so that every deploy, CI's or a person's, runs the
 * recorded release unless it is given a new one.
 */
export interface Release {
  /** Tag in the environment's repository: the pipeline uses the commit SHA. */
  readonly tag?: string;
  /** `sha256:<64 hex>`, the exact image; a promotion copies it to the next repository unchanged. */
  readonly digest?: string;
  /** Where it comes from, for messages: `releases/dev.json`, or `IMAGE_TAG`. */
  readonly source: string;
}

/** Docker's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** TAG_PATTERN in words, for messages. */
export const TAG_RULE = "1-128 letters, digits, _ . -, not starting with . or -";
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
export const RELEASE_REF_FORMS = '"<tag>", "sha256:<64 hex digits>" or "<tag>@sha256:<64 hex digits>"';

/** Parses what a person or the pipeline names a release by: a tag, a digest, or both. */
export function parseReleaseRef(setting: string, value: string, source: string): Release {
  const at = value.indexOf("@");
  const [tag, digest] = value.startsWith("sha256:") ? [undefined, value] : at >= 0 ? [value.slice(0, at), value.slice(at + 1)] : [value, undefined];
  check(
    (tag === undefined || TAG_PATTERN.test(tag)) && (digest === undefined || DIGEST_PATTERN.test(digest)),
    setting,
    value,
    "not an image tag or digest",
    `${RELEASE_REF_FORMS}; a tag is ${TAG_RULE}`,
  );
  return { ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), source };
}

/** The image reference after the repository URL: `@sha256:…` when the digest is known (exact), else `:tag`. */
export function imageReference(release: Release): string {
  return release.digest ? `@${release.digest}` : `:${release.tag}`;
}

/** `tag@digest`, `tag` or `digest`: how a release is named back to people. */
export function describeRelease(release: Pick<Release, "tag" | "digest">): string {
  return [release.tag, release.digest].filter(Boolean).join("@");
}

/** Validates a release file's parsed JSON; `source` names the file in messages. */
export function releaseFromJson(json: unknown, source: string): Release {
  const record = json as Record<string, unknown>;
  check(
    typeof json === "object" && json !== null && !Array.isArray(json) && Object.keys(record).every((k) => k === "tag" || k === "digest"),
    source,
    json,
    "not a release record",
    '{ "tag": "<tag>", "digest": "sha256:<64 hex digits>" } with at least one of the two; write it with `npm run release -- <env> <tag-or-digest>`',
  );
  check(record.tag !== undefined || record.digest !== undefined, source, json, "names neither a tag nor a digest", 'a "tag", a "digest", or both');
  check(
    record.tag === undefined || (typeof record.tag === "string" && TAG_PATTERN.test(record.tag)),
    `${source} tag`,
    record.tag,
    "not a valid image tag",
    TAG_RULE,
  );
  check(
    record.digest === undefined || (typeof record.digest === "string" && DIGEST_PATTERN.test(record.digest)),
    `${source} digest`,
    record.digest,
    "not an image digest",
    '"sha256:" and 64 lowercase hex digits',
  );
  return {
    ...(record.tag !== undefined ? { tag: record.tag as string } : {}),
    ...(record.digest !== undefined ? { digest: record.digest as string } : {}),
    source,
  };
}

/** The file's content: stable key order and a final newline, so a release is a one-line diff in review. */
export function releaseToJson(release: Release): string {
  return `${JSON.stringify({ ...(release.tag ? { tag: release.tag } : {}), ...(release.digest ? { digest: release.digest } : {}) }, null, 2)}\n`;
}
