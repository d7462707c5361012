import { fetchConditional, joinUrl } from "./conditional.js";
import { describeIssues, PageError } from "./sanitise.js";
import { normaliseOfficialList, OfficialPageSchema } from "./server-json.js";
import type { FetchContext, SourceAdapter, SourcePage } from "./types.js";

export const OFFICIAL_BASE_URL = "https://registry.modelcontextprotocol.io";

/** The official MCP Registry: GET /v0.1/servers?limit=100&cursor=…[&updated_since=…]. */
export function officialAdapter(opts: { baseUrl?: string; pageSize?: number } = {}): SourceAdapter {
  const base = opts.baseUrl ?? OFFICIAL_BASE_URL;
  const limit = opts.pageSize ?? 100;
  return {
    id: "official",
    supportsIncremental: true,
    async fetchPage(cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      const url = joinUrl(base, "/v0.1/servers", { limit, cursor, updated_since: ctx.updatedSince });
      const got = await fetchConditional(ctx, url, "json");
      if ("page" in got) return got.page;
      const parsed = OfficialPageSchema.safeParse(got.body);
      if (!parsed.success) {
        throw new PageError(`GET ${url}: page shape changed: ${describeIssues(parsed.error.issues)}`, got.body);
      }
      const page = parsed.data;
      const r = normaliseOfficialList(page.servers, `GET ${url}`);
      const next = page.metadata?.nextCursor ?? page.metadata?.next_cursor ?? undefined;
      return {
        entries: r.entries,
        errors: r.errors,
        olderVersions: r.olderVersions,
        nextCursor: next && page.servers.length > 0 ? next : undefined,
        conditional: got.conditional,
      };
    },
  };
}
