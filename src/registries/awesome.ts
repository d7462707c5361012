import { readFileSync } from "node:fs";
import { lexer, type Token, type Tokens } from "marked";
import { AppError } from "../core/errors.js";
import { fetchConditional } from "./conditional.js";
import { finaliseEntry } from "./sanitise.js";
import type { EntryError, FetchContext, NormalisedEntry, SourceAdapter, SourcePage } from "./types.js";

export const AWESOME_README_URL = "https://raw.githubusercontent.com/punkpeye/awesome-mcp-servers/main/README.md";

/** One list entry of an awesome list that links a repository. */
export interface AwesomeItem {
  repo: string;
  owner: string;
  name: string;
  subfolder?: string;
  title: string;
  description?: string;
  category?: string;
}

const REPO =
  /^https?:\/\/(?:www\.)?github\.com\/([\w.-]+)\/([\w.-]+?)(?:\.git)?(?:\/(?:tree|blob)\/[^/]+\/([^?#]+?))?\/?(?:[?#].*)?$/i;

/** The plain text of inline tokens (links, emphasis, code) without markup. */
function inlineText(tokens: Token[] | undefined): string {
  let s = "";
  for (const t of tokens ?? []) {
    if (t.type === "html") continue;
    const children = (t as { tokens?: Token[] }).tokens;
    s += children ? inlineText(children) : ((t as { text?: string }).text ?? "");
  }
  return s;
}

/** Parses an awesome list README (Markdown AST via marked's lexer) into the repositories its list items link. */
export function parseAwesomeReadme(markdown: string): AwesomeItem[] {
  const items: AwesomeItem[] = [];
  let category: string | undefined;
  const visitList = (list: Tokens.List) => {
    for (const li of list.items) {
      for (const child of li.tokens) {
        if (child.type === "list") visitList(child as Tokens.List);
        else if (child.type === "text" || child.type === "paragraph") visitItem(child as Tokens.Text);
      }
    }
  };
  const visitItem = (block: Tokens.Text | Tokens.Paragraph) => {
    const inline = block.tokens ?? [];
    const idx = inline.findIndex((t) => t.type === "link" && REPO.test((t as Tokens.Link).href));
    if (idx < 0) return;
    const link = inline[idx] as Tokens.Link;
    const m = REPO.exec(link.href)!;
    const [owner, name] = [m[1]!, m[2]!];
    const rest = inlineText(inline.slice(idx + 1))
      .replace(/\s+/g, " ")
      .trim();
    // Entries read "[name](url) 🐍 🏠 - description": the legend symbols before the dash are not the description.
    const dash = rest.search(/(^|\s)[-–—:]\s/);
    const description = (dash >= 0 ? rest.slice(dash).replace(/^\s*[-–—:]\s*/, "") : rest).trim();
    items.push({
      repo: `https://github.com/${owner}/${name}`,
      owner,
      name,
      subfolder: m[3]?.replace(/\/+$/, ""),
      title: inlineText(link.tokens).trim() || `${owner}/${name}`,
      description: description || undefined,
      category,
    });
  };
  for (const t of lexer(markdown)) {
    if (t.type === "heading") category = inlineText((t as Tokens.Heading).tokens).trim();
    else if (t.type === "list") visitList(t as Tokens.List);
  }
  return items;
}

/** An awesome-mcp-servers README (URL or local file): each list entry linking a GitHub repository is a server. */
export function awesomeAdapter(opts: { baseUrl?: string; path?: string } = {}): SourceAdapter {
  const url = opts.baseUrl
    ? /\.(md|markdown)$/i.test(new URL(opts.baseUrl).pathname)
      ? opts.baseUrl
      : `${opts.baseUrl.replace(/\/+$/, "")}/README.md`
    : AWESOME_README_URL;
  return {
    id: "awesome",
    async fetchPage(_cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      let text: string;
      let conditional: SourcePage["conditional"];
      if (opts.path) {
        try {
          text = readFileSync(opts.path, "utf8");
        } catch (err) {
          throw new AppError("not_found", `awesome list ${opts.path}: ${(err as Error).message}`, { cause: err });
        }
      } else {
        const got = await fetchConditional(ctx, url, "text");
        if ("page" in got) return got.page;
        text = got.body;
        conditional = got.conditional;
      }
      const entries: NormalisedEntry[] = [];
      const errors: EntryError[] = [];
      const seen = new Set<string>();
      parseAwesomeReadme(text).forEach((it, i) => {
        const key = `github.com/${it.owner}/${it.name}${it.subfolder ? `/${it.subfolder}` : ""}`.toLowerCase();
        // Lists repeat a repository under several categories: one entry, the first category.
        if (seen.has(key)) return;
        seen.add(key);
        const r = finaliseEntry(
          {
            name: `awesome:${key.replace(/^github\.com\//, "")}`,
            title: it.title,
            description: it.description,
            repository: { url: it.repo, source: "github", subfolder: it.subfolder },
          },
          { sourceKey: key, raw: it },
          `${opts.path ?? url} item ${i}`,
        );
        if (r.entry) entries.push(r.entry);
        errors.push(...r.errors);
      });
      return { entries, errors, conditional };
    },
  };
}
