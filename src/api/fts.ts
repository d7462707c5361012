/** Longest `q` accepted; longer queries are refused with a 400 before they reach SQLite. */
export const MAX_QUERY_LENGTH = 200;
const MAX_TERMS = 12;

/**
 * Turns user text into a safe FTS5 MATCH expression: only word characters survive, each term is quoted (so FTS5
 * operators such as NEAR, OR, `*`, `"` or column filters are plain words) and the last term matches as a prefix.
 * Returns null when nothing searchable is left.
 */
export function ftsQuery(q: string): string | null {
  const terms = (q.normalize("NFKC").match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_TERMS);
  if (terms.length === 0) return null;
  return terms.map((t, i) => (i === terms.length - 1 ? `"${t}"*` : `"${t}"`)).join(" ");
}
