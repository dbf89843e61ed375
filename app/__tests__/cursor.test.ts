import { decodeCursor, encodeCursor } from "../src/cursor";

describe("page cursors", () => {
  const cursor = { createdAt: new Date("2026-01-02T03:04:05.678Z"), id: "0b5f1f7e-4a43-4c8e-9a57-4c1f2d0e8a11" };

  it("round-trip exactly, to the millisecond the database stores", () => {
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it("are URL-safe", () => {
    expect(encodeCursor(cursor)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ["not base64 of a cursor", "hello"],
    ["a bad date", Buffer.from("2026-13-45T00:00:00.000Z|0b5f1f7e-4a43-4c8e-9a57-4c1f2d0e8a11").toString("base64url")],
    ["a date not in the issued form", Buffer.from("2026-01-02|0b5f1f7e-4a43-4c8e-9a57-4c1f2d0e8a11").toString("base64url")],
    ["a bad id", Buffer.from("2026-01-02T03:04:05.678Z|42").toString("base64url")],
    ["extra parts", Buffer.from("2026-01-02T03:04:05.678Z|0b5f1f7e-4a43-4c8e-9a57-4c1f2d0e8a11|x").toString("base64url")],
    ["empty", ""],
  ])("refuse %s", (_, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});
