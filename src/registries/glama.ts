import { z } from "zod";
import type { RawTool } from "../core/types.js";
import { fetchConditional, joinUrl, mapLimit } from "./conditional.js";
import { describeIssues, errorRaw, finaliseEntry, PageError } from "./sanitise.js";
import type { EntryError, FetchContext, NormalisedEntry, SourceAdapter, SourcePage } from "./types.js";

export const GLAMA_BASE_URL = "https://glama.ai";

const ListSchema = z.object({
  pageInfo: z.object({ endCursor: z.string().nullish(), hasNextPage: z.boolean() }).passthrough(),
  servers: z.array(z.unknown()),
});
const ServerSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().nullish(),
    namespace: z.string().min(1),
    slug: z.string().min(1),
    description: z.string().nullish(),
    url: z.string().nullish(),
    repository: z.object({ url: z.string() }).passthrough().nullish(),
    spdxLicense: z.object({ name: z.string() }).passthrough().nullish(),
    tools: z.array(z.object({ name: z.string() }).passthrough()).nullish(),
  })
  .passthrough();
type GlamaServer = z.infer<typeof ServerSchema>;

/** Glama: GET /api/mcp/v1/servers?first=&after= (cursor pages); the detail adds tools[], license and repository. */
export function glamaAdapter(opts: { baseUrl?: string; pageSize?: number } = {}): SourceAdapter {
  const base = opts.baseUrl ?? GLAMA_BASE_URL;
  const first = opts.pageSize ?? 100;
  return {
    id: "glama",
    async fetchPage(cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      const url = joinUrl(base, "/api/mcp/v1/servers", { first, after: cursor });
      const got = await fetchConditional(ctx, url, "json");
      if ("page" in got) return got.page;
      const list = ListSchema.safeParse(got.body);
      if (!list.success)
        throw new PageError(`GET ${url}: page shape changed: ${describeIssues(list.error.issues)}`, got.body);
      const errors: EntryError[] = [];
      const results = await mapLimit(list.data.servers, 8, async (item, i) => {
        const label = `GET ${url} entry ${i}`;
        const p = ServerSchema.safeParse(item);
        if (!p.success) {
          errors.push({ error: `${label}: ${describeIssues(p.error.issues)}`, raw: errorRaw(item), skipped: true });
          return undefined;
        }
        let s: GlamaServer = p.data;
        const durl = joinUrl(
          base,
          `/api/mcp/v1/servers/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.slug)}`,
        );
        try {
          const r = await ctx.http.getJson(durl);
          const d = r.notModified ? undefined : ServerSchema.safeParse(r.body);
          if (d && !d.success)
            errors.push({ error: `GET ${durl}: detail shape changed: ${describeIssues(d.error.issues)}` });
          else if (d) s = { ...s, ...d.data };
        } catch (err) {
          errors.push({ error: `${label}: detail not fetched, listed without tools: ${(err as Error).message}` });
        }
        const r = finaliseEntry(
          {
            name: `glama:${s.namespace}/${s.slug}`,
            title: s.name ?? undefined,
            description: s.description ?? undefined,
            websiteUrl: s.url ?? undefined,
            repository: s.repository?.url ? { url: s.repository.url } : undefined,
            license: s.spdxLicense?.name,
          },
          { sourceKey: s.id, raw: s, reportedTools: s.tools ? (s.tools as RawTool[]) : undefined },
          label,
        );
        errors.push(...r.errors);
        return r.entry;
      });
      const { hasNextPage, endCursor } = list.data.pageInfo;
      return {
        entries: results.filter((e): e is NormalisedEntry => !!e),
        errors,
        nextCursor: hasNextPage && endCursor ? endCursor : undefined,
        conditional: got.conditional,
      };
    },
  };
}
