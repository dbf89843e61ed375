/** The position after the last note of a page: its creation time and id, opaque to clients. */
export interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`, "utf8").toString("base64url");
}

/** Undefined when the text is not a cursor this API issued. */
export function decodeCursor(text: string): Cursor | undefined {
  const [iso, id, ...rest] = Buffer.from(text, "base64url").toString("utf8").split("|");
  if (rest.length || !iso || !id || !UUID.test(id)) return undefined;
  const createdAt = new Date(iso);
  return Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== iso ? undefined : { createdAt, id };
}
