import type { FetchContext, SourcePage } from "./types.js";

type Kind = "json" | "text" | "bytes";
type BodyOf<K extends Kind> = K extends "json" ? unknown : K extends "text" ? string : Buffer;

/** A page fetch that sends the validators kept from the last crawl; a 304 comes back as a notModified page. */
export async function fetchConditional<K extends Kind>(
  ctx: FetchContext,
  url: string,
  kind: K,
  headers?: Record<string, string>,
): Promise<{ page: SourcePage } | { body: BodyOf<K>; conditional: NonNullable<SourcePage["conditional"]> }> {
  const v = ctx.validators.get(url);
  const opts = { headers, etag: v?.etag, lastModified: v?.lastModified };
  const r =
    kind === "json"
      ? await ctx.http.getJson(url, opts)
      : kind === "text"
        ? await ctx.http.getText(url, opts)
        : await ctx.http.getBytes(url, opts);
  if (r.notModified) {
    return { page: { entries: [], errors: [], notModified: true, conditional: { url }, nextCursor: v?.nextCursor } };
  }
  return { body: r.body as BodyOf<K>, conditional: { url, etag: r.etag, lastModified: r.lastModified } };
}

/** Runs fn over items with at most `limit` in flight (detail fetches; the HTTP client still limits per host). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Joins a base URL and a path, keeping any path prefix on the base. */
export function joinUrl(base: string, path: string, query: Record<string, string | number | undefined> = {}): string {
  const u = new URL(base.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
  return u.toString();
}
