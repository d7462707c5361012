export { mapLimit } from "../core/concurrency.js";

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

/** Joins a base URL and a path, keeping any path prefix on the base. */
export function joinUrl(base: string, path: string, query: Record<string, string | number | undefined> = {}): string {
  const u = new URL(base.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
  return u.toString();
}
