/** Longest `q` accepted; longer queries are refused with a 400 before they reach SQLite. */
export const MAX_QUERY_LENGTH = 200;
const MAX_TERMS = 12;

/**
 * Turns user text into a safe FTS5 MATCH expression: only word characters survive and each word is quoted, so FTS5
 * operators (NEAR, OR, NOT, `^`, column filters, stray quotes) are plain words. Words match whole tokens; a word
 * written with a trailing `*` (e.g. `repo*`) matches as a prefix: prefix scans cost O(matches) without a prefix
 * index, so they are opt-in. Returns null when nothing searchable is left.
 */
export function ftsQuery(q: string): string | null {
  const terms = [...q.normalize("NFKC").matchAll(/([\p{L}\p{N}]+)(\*)?/gu)].slice(0, MAX_TERMS);
  if (terms.length === 0) return null;
  return terms.map((m) => `"${m[1]}"${m[2] ? "*" : ""}`).join(" ");
}
