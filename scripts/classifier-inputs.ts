/**
 * Tool definitions for measuring the heuristic classifier: the real definitions on this machine (labelled corpus,
 * the Docker catalog's tools.json fixtures, the unlabelled npm listings) and a deterministic generator that recombines
 * their names, descriptions and schemas. Shared by scripts/bench-classifier.ts (speed) and
 * scripts/classifier-diff.ts (are two classifier trees' answers identical).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ToolInput } from "../src/core/types.js";
import { loadCorpus, toToolInput } from "./eval-classifier.js";

export interface Source {
  names: string[];
  descriptions: string[];
  schemas: Array<Record<string, unknown>>;
  annotations: Array<Record<string, unknown> | null>;
}

/** Names, descriptions, schemas and annotations to recombine: the dev set and the Docker catalog fixtures. */
export function loadSources(shared: string): Source {
  const src: Source = { names: [], descriptions: [], schemas: [], annotations: [] };
  const dev = join(shared, "dev-set/tools.jsonl");
  for (const line of readFileSync(dev, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { tool: string; description: string | null; params: string[]; annotations: null };
    src.names.push(r.tool);
    if (r.description) src.descriptions.push(r.description);
    const properties: Record<string, unknown> = {};
    for (const p of r.params) properties[p] = { type: "string" };
    src.schemas.push({ type: "object", properties });
    src.annotations.push(r.annotations);
  }
  for (const t of dockerTools(shared)) {
    if (typeof t.name === "string") src.names.push(t.name);
    if (typeof t.description === "string") src.descriptions.push(t.description);
    if (t.inputSchema && typeof t.inputSchema === "object") src.schemas.push(t.inputSchema as Record<string, unknown>);
    src.annotations.push((t.annotations as Record<string, unknown>) ?? null);
  }
  return src;
}

function dockerTools(shared: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const dir = join(shared, "fixtures/registries/docker-mcp-registry/servers");
  if (!existsSync(dir)) return out;
  for (const s of readdirSync(dir).sort()) {
    const f = join(dir, s, "tools.json");
    if (!existsSync(f)) continue;
    for (const t of JSON.parse(readFileSync(f, "utf8")) as Array<Record<string, unknown>>)
      out.push({ ...t, server: s });
  }
  return out;
}

/**
 * Every real definition on this machine, as the classifier receives it: the labelled corpus with annotations as given
 * and with them removed, the Docker catalog's tools and the npm listings in ../shared/corpus/listings.
 */
export function realTools(repo: string, shared: string): ToolInput[] {
  const out: ToolInput[] = [];
  const { rows } = loadCorpus(join(repo, "eval/corpus"));
  for (const r of rows) out.push(toToolInput(r, true), toToolInput(r, false));
  for (const t of dockerTools(shared)) out.push(t as unknown as ToolInput);
  const listings = join(shared, "corpus/listings");
  if (existsSync(listings))
    for (const f of readdirSync(listings).sort()) {
      if (!f.endsWith(".json")) continue;
      const l = JSON.parse(readFileSync(join(listings, f), "utf8")) as { tools?: Array<Record<string, unknown>> };
      for (const t of l.tools ?? []) out.push({ ...t, server: f } as unknown as ToolInput);
    }
  return out;
}

/** Deterministic PRNG so runs are comparable. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with n recombined tools: one tool's name with another's description and a third's schema. */
export function generate(src: Source, n: number, rand: () => number, out: ToolInput[]): void {
  out.length = 0;
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
  for (let i = 0; i < n; i++) {
    // Sometimes a new prefix or suffix, so the classifier cannot lean on cached strings.
    const name = rand() < 0.3 ? `${pick(src.names)}_${Math.floor(rand() * 1000)}` : pick(src.names);
    out.push({
      server: `bench/server-${i % 997}`,
      name,
      description: rand() < 0.05 ? undefined : pick(src.descriptions),
      inputSchema: pick(src.schemas),
      annotations: rand() < 0.5 ? pick(src.annotations) : null,
    });
  }
}
