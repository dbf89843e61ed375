import { describeRelease, imageReference, parseReleaseRef, Release, TAG_PATTERN, TAG_RULE } from "./release";
import * as z from "zod/mini";
import { fail, matching } from "../settings/rules";
import { check } from "../settings/validate";

const URI = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

export const ImageSettingsSchema = z
  .strictObject({
    /**
     * Tag in this stack's repository, pinned in code; a recorded release or `IMAGE_TAG` naming another image is refused. Usually unset:
     * `releases/<env>.json` decides (see Release).
     * @default none (placeholder)
     */
    tag: z.optional(matching(TAG_PATTERN, "not a valid image tag", TAG_RULE)),
    /** A full image reference from another registry; excludes `tag`. @default none */
    uri: z.optional(matching(URI, "not a full image reference with a tag or digest", '"registry/name:tag" or "registry/name@sha256:<digest>"')),
  })
  .check(
    z.superRefine((image, ctx) => {
      if (image.tag && image.uri)
        fail(
          ctx,
          [],
          image,
          "task.image.tag and task.image.uri are both set; the tag would name an image in this stack's repository and the URI another",
          "one of them",
        );
    }),
  );
/** Which image to run, as written in an environment. */
export type ImageSettings = z.output<typeof ImageSettingsSchema>;

/**
 * The app image's own health check (app/Dockerfile HEALTHCHECK): node runs a small HTTP probe of
 * /health, since the distroless runtime has no shell, curl or wget.
 */
export const APP_IMAGE_HEALTH_CHECK: readonly string[] = ["/nodejs/bin/node", "/app/dist/healthcheck.mjs"];

/** Public busybox (ECR Public: no Docker Hub rate limit): the placeholder app, until the first release. */
export const BUSYBOX_IMAGE = "public.ecr.aws/docker/library/busybox:1.37";

export type ResolvedImage =
  /** `reference` follows the repository URL: `:<tag>`, or `@sha256:<digest>` when the digest is known. */
  | { readonly kind: "repository"; readonly tag?: string; readonly digest?: string; readonly reference: string }
  | { readonly kind: "uri"; readonly uri: string }
  | { readonly kind: "placeholder"; readonly uri: string };

/**
 * Which image the task runs: the IMAGE_TAG override, then the recorded release (releases/<env>.json),
 * then `task.image.tag`, then `task.image.uri`, then the placeholder. Sources that disagree are refused
 * rather than ranked, so no deploy silently runs another image than the one recorded.
 */
export function resolveImage(settings: ImageSettings = {}, imageTagOverride?: string, release?: Release): ResolvedImage {
  check(
    !(imageTagOverride && settings.uri),
    "IMAGE_TAG",
    imageTagOverride,
    `IMAGE_TAG picks a tag in this stack's repository, but task.image.uri = "${settings.uri}" says to run another image`,
    "IMAGE_TAG unset, or task.image.uri removed",
  );
  if (release) {
    const recorded = describeRelease(release);
    check(
      !settings.uri,
      release.source,
      recorded,
      `a release from this stack's repository is recorded, but task.image.uri = "${settings.uri}" says to run another image`,
      `task.image.uri removed, or ${release.source} deleted`,
    );
    check(
      !settings.tag || settings.tag === release.tag,
      "task.image.tag",
      settings.tag,
      `${release.source} records the release ${recorded}, another image`,
      `task.image.tag removed so the recorded release decides, or \`npm run release -- <env> ${settings.tag}\``,
    );
    check(
      !imageTagOverride || imageTagOverride === release.tag,
      "IMAGE_TAG",
      imageTagOverride,
      `${release.source} records the release ${recorded}; a deploy of another one would be rolled back by the next plain deploy`,
      `IMAGE_TAG unset, or \`npm run release -- <env> ${imageTagOverride}\` to record it`,
    );
  }
  if (release && (!imageTagOverride || imageTagOverride === release.tag)) {
    // Parsed again: a Release built in code (not read from its file) gets the same checks.
    const { tag, digest } = parseReleaseRef(release.source, describeRelease(release), release.source);
    return { kind: "repository", ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), reference: imageReference({ tag, digest, source: release.source }) };
  }
  // IMAGE_TAG comes from the shell, not the settings, so the schema never saw it.
  if (imageTagOverride) check(TAG_PATTERN.test(imageTagOverride), "IMAGE_TAG", imageTagOverride, "not a valid image tag", TAG_RULE);
  const tag = imageTagOverride || settings.tag;
  if (tag) return { kind: "repository", tag, reference: `:${tag}` };
  if (settings.uri) return { kind: "uri", uri: settings.uri };
  return { kind: "placeholder", uri: BUSYBOX_IMAGE };
}

/**
 * The placeholder's command: busybox httpd serving "ok" at `/` and at the health check path, from
 * the writable scratch volume, so the read-only root filesystem and non-root user still hold. A
 * worker's placeholder serves nothing: it waits, and stops at once on SIGTERM.
 */
export function placeholderCommand(scratchPath: string, http?: { readonly port: number; readonly healthCheckPath: string }): string[] {
  if (!http) return ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 3600 & wait $!; done"];
  const root = `${scratchPath}/www`;
  const path = http.healthCheckPath;
  const health = path === "/" ? "" : ` && mkdir -p "$(dirname ${root}${path})" && echo ok > ${root}${path}`;
  return ["sh", "-c", `mkdir -p ${root} && echo ok > ${root}/index.html${health} && exec httpd -f -v -p ${http.port} -h ${root}`];
}
