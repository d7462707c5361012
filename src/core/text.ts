/**
 * Normalising untrusted text before it is stored or compared. A lone UTF-16 surrogate cannot be encoded as UTF-8:
 * SQLite stores U+FFFD instead, so the stored name no longer equals the one in memory and the next ingest collided
 * with it (UNIQUE tools.server_id, tools.name) — every later crawl failed. NFC makes canonically equal names equal.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string with lone surrogates replaced by U+FFFD, in Unicode normal form C. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, "\ufffd").normalize("NFC");
}

/**
 * A deep copy of a JSON-like value with every string (keys too) made well-formed. Own keys are copied with
 * defineProperty-like semantics (Object.fromEntries), so a key named "__proto__" stays a key.
 */
export function wellFormedDeep<T>(value: T): T {
  return deep(value) as T;
}

function deep(value: unknown): unknown {
  if (typeof value === "string") return wellFormed(value);
  if (Array.isArray(value)) return value.map(deep);
  if (value && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value; // Dates, buffers: not untrusted JSON text
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), deep(v)]));
  }
  return value;
}

/** "1 tool", "2 tools", "1,234 tools": a count with its noun, for the site and the terminal alike. */
export const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
