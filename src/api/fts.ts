import { ApiError } from "./errors.js";

/** Longest `q` accepted; longer queries are refused with a 400 before they reach SQLite. */
export const MAX_QUERY_LENGTH = 200;
/** Words kept from a query (the rest are dropped). */
const MAX_TERMS = 12;
/** Prefix terms (`word*`) a query may hold: each one merges the index entries of every word it starts. */
export const MAX_PREFIX_TERMS = 3;
/** Shortest prefix: `a*` reads the entries of a large part of the vocabulary (seconds at 500,000 tools). */
export const MIN_PREFIX_LENGTH = 3;

/**
 * Turns user text into a safe FTS5 MATCH expression. Only word characters survive and each word is quoted, so FTS5
 * operators (NEAR, NOT, `^`, column filters, stray quotes) are plain words. Words are all required; `OR` in capitals
 * between words separates alternatives (`delete OR remove file`: (delete) or (remove and file)). Matching is on
 * stems (the index uses the porter tokenizer, migration 0007): `delete files` finds `delete_file`. A word written
 * with a trailing `*` (`repo*`) matches as a prefix: at most {@link MAX_PREFIX_TERMS} of them, each at least
 * {@link MIN_PREFIX_LENGTH} characters, or the query is refused with a 400 naming `q`.
 * Returns undefined for an empty or blank `q` (no filter) and null when text was given but nothing searchable is left.
 */
export function ftsQuery(q: string | undefined): string | null | undefined {
  if (q === undefined || q.trim() === "") return undefined;
  const groups: string[][] = [[]];
  let terms = 0;
  let prefixes = 0;
  for (const m of q.normalize("NFKC").matchAll(/([\p{L}\p{N}]+)(\*)?/gu)) {
    const word = m[1] as string;
    if (word === "OR" && !m[2]) {
      if ((groups[groups.length - 1] as string[]).length > 0) groups.push([]);
      continue;
    }
    if (terms >= MAX_TERMS) break;
    if (m[2]) {
      if ([...word].length < MIN_PREFIX_LENGTH) {
        throw new ApiError("bad_input", `q: a prefix (${word}*) needs at least ${MIN_PREFIX_LENGTH} characters`, "q");
      }
      if (++prefixes > MAX_PREFIX_TERMS) {
        throw new ApiError("bad_input", `q: at most ${MAX_PREFIX_TERMS} prefix terms (word*) per query`, "q");
      }
    }
    (groups[groups.length - 1] as string[]).push(`"${word}"${m[2] ? "*" : ""}`);
    terms++;
  }
  const kept = groups.filter((g) => g.length > 0);
  if (kept.length === 0) return null;
  if (kept.length === 1) return (kept[0] as string[]).join(" ");
  return kept.map((g) => `(${g.join(" ")})`).join(" OR ");
}
