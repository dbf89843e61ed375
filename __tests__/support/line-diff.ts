/**
 * The lines that differ between what a generated part of a document should be and what it is: `+` for
 * a line it lacks, `-` for one it should not have. A failing docs test shows these, not the whole file.
 */
export function lineDiff(expected: string, actual: string): string[] {
  const want = expected.split("\n");
  const have = actual.split("\n");
  const inHave = new Set(have);
  const inWant = new Set(want);
  return [...want.filter((line) => !inHave.has(line)).map((line) => `+ ${line}`), ...have.filter((line) => !inWant.has(line)).map((line) => `- ${line}`)];
}
