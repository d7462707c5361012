import { ApiError } from "./errors.js";

/** The sort key of the last row of a page (its last element is always the row id, so the order is total). */
export type CursorKey = (string | number)[];

/** Encodes the sort key of the last row of a page: base64url JSON, opaque to clients. */
export function encodeCursor(sort: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify([sort, ...key]), "utf8").toString("base64url");
}

/** Decodes a cursor issued for `sort` with `size` key parts; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string, sort: string, size: number): CursorKey {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new ApiError("bad_input", "cursor: not a cursor this API issued", "cursor");
  }
  const ok =
    Array.isArray(v) &&
    v.length === size + 1 &&
    v[0] === sort &&
    v.slice(1).every((x) => typeof x === "string" || (typeof x === "number" && Number.isFinite(x)));
  if (!ok) throw new ApiError("bad_input", `cursor: not a cursor this API issued for sort=${sort}`, "cursor");
  return (v as CursorKey).slice(1);
}
