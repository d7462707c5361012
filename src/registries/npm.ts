import { z } from "zod";
import { fetchConditional, joinUrl, mapLimit } from "./conditional.js";
import { cleanName, describeIssues, errorRaw, finaliseEntry, PageError } from "./sanitise.js";
import type { EntryError, FetchContext, NormalisedEntry, SourceAdapter, SourcePage } from "./types.js";

export const NPM_BASE_URL = "https://registry.npmjs.org";

/** Keywords that mark a package as an MCP server (the search finds "mcp"; the packument confirms). */
export const MCP_KEYWORDS = ["mcp", "mcp-server", "modelcontextprotocol", "model-context-protocol", "mcp server"];

const SearchSchema = z.object({
  objects: z.array(z.unknown()),
  total: z.number(),
});
const HitSchema = z
  .object({
    package: z
      .object({
        name: z.string().min(1),
        version: z.string().nullish(),
        description: z.string().nullish(),
        keywords: z.array(z.string()).nullish(),
        links: z.object({ homepage: z.string().nullish(), repository: z.string().nullish() }).passthrough().nullish(),
        date: z.string().nullish(),
      })
      .passthrough(),
    downloads: z.object({ monthly: z.number().nullish() }).passthrough().nullish(),
    score: z
      .object({ detail: z.object({ popularity: z.number().nullish() }).passthrough().nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
const PackumentSchema = z
  .object({
    name: z.string(),
    "dist-tags": z.record(z.string(), z.string()).nullish(),
    versions: z.record(z.string(), z.object({}).passthrough()).nullish(),
    time: z.record(z.string(), z.string()).nullish(),
  })
  .passthrough();
const VersionSchema = z
  .object({
    description: z.string().nullish(),
    keywords: z.union([z.array(z.string()), z.string()]).nullish(),
    mcpName: z.string().nullish(),
    homepage: z.string().nullish(),
    repository: z
      .union([z.string(), z.object({ url: z.string().nullish(), directory: z.string().nullish() }).passthrough()])
      .nullish(),
  })
  .passthrough();

const isMcpKeyword = (k: string) => MCP_KEYWORDS.includes(k.trim().toLowerCase());

function repoUrl(repo: z.infer<typeof VersionSchema>["repository"]): { url: string; subfolder?: string } | undefined {
  if (!repo) return undefined;
  if (typeof repo === "string") {
    // npm shorthand "owner/repo" or "github:owner/repo".
    const m = /^(?:github:)?([\w.-]+\/[\w.-]+)$/.exec(repo);
    return { url: m ? `https://github.com/${m[1]}` : repo };
  }
  return repo.url ? { url: repo.url, subfolder: repo.directory ?? undefined } : undefined;
}

/**
 * npm packages marked as MCP servers: the search endpoint (/-/v1/search?text=keywords:mcp) lists candidates, the
 * packument of each confirms (an `mcpName`, or an MCP keyword on the latest version) and gives the official name.
 */
export function npmAdapter(opts: { baseUrl?: string; pageSize?: number; query?: string } = {}): SourceAdapter {
  const base = opts.baseUrl ?? NPM_BASE_URL;
  const size = opts.pageSize ?? 250;
  const text = opts.query ?? "keywords:mcp";
  return {
    id: "npm",
    async fetchPage(cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      const from = cursor ? Number(cursor) : 0;
      const url = joinUrl(base, "/-/v1/search", { text, size, from });
      const got = await fetchConditional(ctx, url, "json");
      if ("page" in got) return got.page;
      const search = SearchSchema.safeParse(got.body);
      if (!search.success) {
        throw new PageError(`GET ${url}: page shape changed: ${describeIssues(search.error.issues)}`, got.body);
      }
      const errors: EntryError[] = [];
      const results = await mapLimit(search.data.objects, 8, async (item, i) => {
        const label = `GET ${url} entry ${i}`;
        const h = HitSchema.safeParse(item);
        if (!h.success) {
          errors.push({ error: `${label}: ${describeIssues(h.error.issues)}`, raw: errorRaw(item), skipped: true });
          return undefined;
        }
        const pkg = h.data.package;
        let latest: z.infer<typeof VersionSchema> = { description: pkg.description, keywords: pkg.keywords };
        let version = pkg.version ?? undefined;
        let updated = pkg.date ?? undefined;
        const purl = joinUrl(base, `/${pkg.name.replace("/", "%2F")}`);
        try {
          const r = await ctx.http.getJson(purl);
          const p = r.notModified ? undefined : PackumentSchema.safeParse(r.body);
          if (p && !p.success)
            errors.push({ error: `GET ${purl}: packument shape changed: ${describeIssues(p.error.issues)}` });
          else if (p?.data) {
            const tag = p.data["dist-tags"]?.latest;
            const v = tag ? VersionSchema.safeParse(p.data.versions?.[tag]) : undefined;
            if (v?.success) {
              latest = v.data;
              version = tag;
              updated = (tag && p.data.time?.[tag]) ?? p.data.time?.modified ?? updated;
            }
          }
        } catch (err) {
          errors.push({ error: `${label}: packument not fetched, using the search result: ${(err as Error).message}` });
        }
        const keywords =
          typeof latest.keywords === "string" ? latest.keywords.split(/[,\s]+/) : (latest.keywords ?? []);
        const mcpName = latest.mcpName ? cleanName(latest.mcpName).name : undefined;
        // A search hit without an MCP keyword or mcpName is a library that mentions MCP, not a server.
        if (!mcpName && !keywords.some(isMcpKeyword)) return undefined;
        const repository =
          repoUrl(latest.repository) ?? (pkg.links?.repository ? { url: pkg.links.repository } : undefined);
        const r = finaliseEntry(
          {
            // Not named by mcpName: npm does not check that claim; the official registry does, and its entry lists
            // this package, so the package key merges the two without trusting the claim.
            name: `npm:${pkg.name}`,
            mcpName,
            description: latest.description ?? pkg.description ?? undefined,
            version,
            websiteUrl: latest.homepage ?? pkg.links?.homepage ?? undefined,
            repository,
            packages: [{ registryType: "npm", identifier: pkg.name, version, transport: { type: "stdio" } }],
          },
          {
            sourceKey: pkg.name,
            raw: { search: item, latest: { ...latest, readme: undefined } },
            upstreamUpdatedAt: updated,
            popularity: h.data.downloads?.monthly ?? h.data.score?.detail?.popularity ?? undefined,
          },
          label,
        );
        errors.push(...r.errors);
        return r.entry;
      });
      const n = search.data.objects.length;
      return {
        entries: results.filter((e): e is NormalisedEntry => !!e),
        errors,
        nextCursor: n > 0 && from + n < search.data.total ? String(from + n) : undefined,
        conditional: got.conditional,
      };
    },
  };
}
