import { z } from "zod";
import { AppError } from "../core/errors.js";
import type { RawTool } from "../core/types.js";
import { fetchConditional, joinUrl, mapLimit } from "./conditional.js";
import { describeIssues, errorRaw, finaliseEntry, PageError } from "./sanitise.js";
import type { EntryError, FetchContext, NormalisedEntry, SourceAdapter, SourcePage } from "./types.js";

export const SMITHERY_BASE_URL = "https://registry.smithery.ai";

const ListSchema = z.object({
  servers: z.array(z.unknown()),
  pagination: z.object({ currentPage: z.number(), totalPages: z.number() }).passthrough(),
});
const ItemSchema = z
  .object({
    qualifiedName: z.string().min(1),
    displayName: z.string().nullish(),
    description: z.string().nullish(),
    homepage: z.string().nullish(),
    useCount: z.number().nullish(),
    isDeployed: z.boolean().nullish(),
    remote: z.boolean().nullish(),
    createdAt: z.string().nullish(),
  })
  .passthrough();
const DetailSchema = z
  .object({
    qualifiedName: z.string(),
    deploymentUrl: z.string().nullish(),
    connections: z.array(z.object({ type: z.string(), url: z.string().nullish() }).passthrough()).nullish(),
    tools: z.array(z.object({ name: z.string() }).passthrough()).nullish(),
  })
  .passthrough();

/** Smithery's registry: GET /servers?page=&pageSize= with a bearer key; the detail of deployed servers lists tools. */
export function smitheryAdapter(opts: { baseUrl?: string; apiKey?: string; pageSize?: number }): SourceAdapter {
  if (!opts.apiKey) throw new AppError("config_invalid", "the smithery source needs an API key (bearer token)");
  const base = opts.baseUrl ?? SMITHERY_BASE_URL;
  const headers = { authorization: `Bearer ${opts.apiKey}` };
  const pageSize = opts.pageSize ?? 100;
  return {
    id: "smithery",
    async fetchPage(cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      const pageNo = cursor ? Number(cursor) : 1;
      const url = joinUrl(base, "/servers", { page: pageNo, pageSize });
      const got = await fetchConditional(ctx, url, "json", headers);
      if ("page" in got) return got.page;
      const list = ListSchema.safeParse(got.body);
      if (!list.success)
        throw new PageError(`GET ${url}: page shape changed: ${describeIssues(list.error.issues)}`, got.body);
      const errors: EntryError[] = [];
      const results = await mapLimit(list.data.servers, 8, async (item, i) => {
        const label = `GET ${url} entry ${i}`;
        const p = ItemSchema.safeParse(item);
        if (!p.success) {
          errors.push({ error: `${label}: ${describeIssues(p.error.issues)}`, raw: errorRaw(item), skipped: true });
          return undefined;
        }
        const s = p.data;
        let detail: z.infer<typeof DetailSchema> | undefined;
        if (s.isDeployed || s.remote) {
          // Smithery paths keep the "@" and "/" of qualified names (/servers/@owner/name).
          const durl = joinUrl(
            base,
            `/servers/${encodeURIComponent(s.qualifiedName).replace(/%40/g, "@").replace(/%2F/gi, "/")}`,
          );
          try {
            const r = await ctx.http.getJson(durl, { headers });
            const d = r.notModified ? undefined : DetailSchema.safeParse(r.body);
            if (d && !d.success)
              errors.push({ error: `GET ${durl}: detail shape changed: ${describeIssues(d.error.issues)}` });
            else detail = d?.data;
          } catch (err) {
            errors.push({ error: `${label}: detail not fetched, listed without tools: ${(err as Error).message}` });
          }
        }
        const remotes: { type: string; url: string }[] = [];
        if (detail?.deploymentUrl) remotes.push({ type: "streamable-http", url: detail.deploymentUrl });
        for (const c of detail?.connections ?? []) {
          if (c.type === "http" && c.url && !remotes.some((r) => r.url === c.url)) {
            remotes.push({ type: "streamable-http", url: c.url });
          }
        }
        const repo = s.homepage && /^https?:\/\/(www\.)?github\.com\//i.test(s.homepage) ? s.homepage : undefined;
        const r = finaliseEntry(
          {
            name: `smithery:${s.qualifiedName}`,
            title: s.displayName ?? undefined,
            description: s.description ?? undefined,
            websiteUrl: s.homepage ?? undefined,
            repository: repo ? { url: repo, source: "github" } : undefined,
            remotes,
          },
          {
            sourceKey: s.qualifiedName,
            raw: detail ? { ...s, detail } : s,
            popularity: s.useCount ?? undefined,
            upstreamUpdatedAt: s.createdAt ?? undefined,
            reportedTools: detail?.tools ? (detail.tools as RawTool[]) : undefined,
          },
          label,
        );
        errors.push(...r.errors);
        return r.entry;
      });
      const { currentPage, totalPages } = list.data.pagination;
      return {
        entries: results.filter((e): e is NormalisedEntry => !!e),
        errors,
        nextCursor: currentPage < totalPages && list.data.servers.length > 0 ? String(currentPage + 1) : undefined,
        conditional: got.conditional,
      };
    },
  };
}
