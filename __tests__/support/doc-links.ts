/**
 * What the docs tests read out of Markdown: the pages, their headings' anchors as GitHub makes them,
 * their relative links, and the links that do not resolve (a missing file, a missing heading).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";

export const ROOT = join(__dirname, "../..");

/** Every page a reader is sent to, relative to the repository root: the README, docs/, the app's README. */
export function docPages(root = ROOT): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs, "app/README.md"];
}

/** The text with fenced code blocks and inline code blanked: links and headings inside them are examples, not links. */
export function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** A heading's anchor as GitHub writes it: lower case, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a page has, a repeated heading numbered as GitHub numbers it (`-1`, `-2`). */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  const headings = markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6} +(.+?) *#*$/gm);
  for (const [, text] of headings) {
    const base = slug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count ? `${base}-${count}` : base);
  }
  return found;
}

/** The page's links that stay in the repository (no scheme, no `//`): `[text](target)`. */
export function relativeLinks(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/\]\(([^()\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target));
}

/**
 * The links of `pages` (path → text, paths relative to the root) that do not resolve: a file that does
 * not exist, a path out of the repository, or an anchor the page it names has no heading for. Each as
 * `<page>: <target> (<why>)`.
 */
export function brokenLinks(pages: ReadonlyMap<string, string>, exists = (path: string) => existsSync(join(ROOT, path))): string[] {
  const text = (path: string) => pages.get(path) ?? readFileSync(join(ROOT, path), "utf8");
  const broken: string[] = [];
  for (const [page, markdown] of pages) {
    for (const target of relativeLinks(markdown)) {
      const [file, anchor] = target.split("#", 2);
      const path = file ? posix.normalize(posix.join(posix.dirname(page), decodeURIComponent(file))) : page;
      if (path.startsWith("..")) broken.push(`${page}: ${target} (outside the repository)`);
      else if (!pages.has(path) && !exists(path)) broken.push(`${page}: ${target} (no such file: ${path})`);
      else if (anchor !== undefined && (!path.endsWith(".md") || !anchors(text(path)).has(anchor)))
        broken.push(`${page}: ${target} (no heading #${anchor} in ${path})`);
    }
  }
  return broken;
}
