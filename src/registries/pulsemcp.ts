import { z } from "zod";
import { fetchConditional, joinUrl } from "./conditional.js";
import { describeIssues, errorRaw, finaliseEntry, PageError } from "./sanitise.js";
import type { EntryError, FetchContext, NormalisedEntry, SourceAdapter, SourcePage } from "./types.js";

export const PULSEMCP_BASE_URL = "https://api.pulsemcp.com";

const ListSchema = z.object({
  servers: z.array(z.unknown()),
  next: z.string().nullish(),
  total_count: z.number().nullish(),
});
const ServerSchema = z
  .object({
    name: z.string().min(1),
    url: z.string().nullish(),
    external_url: z.string().nullish(),
    short_description: z.string().nullish(),
    source_code_url: z.string().nullish(),
    github_stars: z.number().nullish(),
    package_registry: z.string().nullish(),
    package_name: z.string().nullish(),
    package_download_count: z.number().nullish(),
    remotes: z
      .array(z.object({ url_direct: z.string().nullish(), transport: z.string().nullish() }).passthrough())
      .nullish(),
  })
  .passthrough();

const TRANSPORTS: Record<string, string> = { sse: "sse", streamable_http: "streamable-http", http: "streamable-http" };

/** PulseMCP v0beta: GET /v0beta/servers?count_per_page=&offset= with popularity fields (stars, downloads). */
export function pulsemcpAdapter(opts: { baseUrl?: string; pageSize?: number } = {}): SourceAdapter {
  const base = opts.baseUrl ?? PULSEMCP_BASE_URL;
  const count = opts.pageSize ?? 100;
  return {
    id: "pulsemcp",
    async fetchPage(cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      const offset = cursor ? Number(cursor) : 0;
      const url = joinUrl(base, "/v0beta/servers", { count_per_page: count, offset });
      const got = await fetchConditional(ctx, url, "json");
      if ("page" in got) return got.page;
      const list = ListSchema.safeParse(got.body);
      if (!list.success)
        throw new PageError(`GET ${url}: page shape changed: ${describeIssues(list.error.issues)}`, got.body);
      const errors: EntryError[] = [];
      const entries: NormalisedEntry[] = [];
      list.data.servers.forEach((item, i) => {
        const label = `GET ${url} entry ${i}`;
        const p = ServerSchema.safeParse(item);
        if (!p.success) {
          errors.push({ error: `${label}: ${describeIssues(p.error.issues)}`, raw: errorRaw(item), skipped: true });
          return;
        }
        const s = p.data;
        // The PulseMCP page URL is the only stable id it gives.
        const slug = s.url
          ? (new URL(s.url, "https://www.pulsemcp.com").pathname.split("/").filter(Boolean).pop() ?? "")
          : "";
        const key = slug || s.name;
        const registry = s.package_registry?.toLowerCase();
        const packages =
          registry && s.package_name
            ? [{ registryType: registry === "docker" ? "oci" : registry, identifier: s.package_name }]
            : [];
        const remotes = (s.remotes ?? []).flatMap((r) =>
          r.url_direct
            ? [{ type: TRANSPORTS[r.transport ?? ""] ?? r.transport ?? "streamable-http", url: r.url_direct }]
            : [],
        );
        const r = finaliseEntry(
          {
            name: `pulsemcp:${key}`,
            title: s.name,
            description: s.short_description ?? undefined,
            websiteUrl: s.external_url ?? s.url ?? undefined,
            repository: s.source_code_url ? { url: s.source_code_url } : undefined,
            packages,
            remotes,
          },
          { sourceKey: key, raw: s, popularity: s.github_stars ?? s.package_download_count ?? undefined },
          label,
        );
        errors.push(...r.errors);
        if (r.entry) entries.push(r.entry);
      });
      let nextCursor: string | undefined;
      const n = list.data.servers.length;
      if (list.data.next) {
        const o = new URL(list.data.next, base).searchParams.get("offset");
        nextCursor = o ?? String(offset + n);
      } else if (list.data.next === undefined && list.data.total_count && offset + n < list.data.total_count && n > 0) {
        nextCursor = String(offset + n);
      }
      return { entries, errors, nextCursor, conditional: got.conditional };
    },
  };
}
