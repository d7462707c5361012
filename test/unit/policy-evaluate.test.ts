import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decidePolicy, type PolicyDecision, renderPolicy } from "../../src/policy/index.js";
import type { Catalog } from "../../src/store/db.js";
import { listServers, serverTools, type ToolRow } from "../../src/store/queries.js";
import { buildCatalog } from "../fixtures/configs/policy-test-kit.js";

// ---------------------------------------------------------------------------------------------------------------
// A small evaluator written from the documented policy.json v1 semantics (schemas/policy.schema.json description):
// default deny refuses unlisted tools; `hide` removes a tool from tools/list and refuses it; `{}` allows; each
// limit caps calls per UTC window; a deny_if entry refuses when all its conditions hold; all_tools limits apply to
// every call together.
// ---------------------------------------------------------------------------------------------------------------
interface Cond {
  path: string;
  op: string;
  value: unknown;
}
interface Limit {
  counter: string;
  window: "minute" | "hour";
  max: number;
  scope: string;
}
interface Policy {
  version: string;
  default: "deny" | "allow";
  hide: string[];
  all_tools: { limits: Limit[] };
  tools: Record<string, { limits?: Limit[]; deny_if?: { conditions: Cond[]; on_deny: string }[] }>;
}
interface Call {
  tool: string;
  approved?: boolean;
  args?: Record<string, unknown>;
  at?: number;
}

function lookup(ctx: Record<string, unknown>, path: string): unknown {
  let cur: unknown = ctx;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function holds(c: Cond, ctx: Record<string, unknown>): boolean {
  const v = lookup(ctx, c.path);
  switch (c.op) {
    case "eq":
      return v === c.value;
    case "neq":
      return v !== c.value;
    case "exists":
      return (v !== undefined) === c.value;
    case "in":
      return Array.isArray(c.value) && c.value.includes(v);
    case "not_in":
      return Array.isArray(c.value) && !c.value.includes(v);
    default:
      throw new Error(`evaluator does not know op ${c.op}`);
  }
}

class Gateway {
  private counters = new Map<string, number>();
  constructor(private readonly p: Policy) {}
  listed(tool: string, catalogTools: string[]): boolean {
    return catalogTools.includes(tool) && !this.p.hide.includes(tool) && !this.p.hide.includes("*");
  }
  call(c: Call): { ok: true } | { ok: false; why: string } {
    const p = this.p;
    if (p.hide.includes(c.tool)) return { ok: false, why: "hidden" };
    const entry = Object.hasOwn(p.tools, c.tool) ? p.tools[c.tool] : undefined;
    if (!entry) return p.default === "deny" ? { ok: false, why: "not listed" } : { ok: true };
    const ctx = { approval: { granted: c.approved === true }, args: c.args ?? {} };
    for (const d of entry.deny_if ?? [])
      if (d.conditions.every((x) => holds(x, ctx))) return { ok: false, why: d.on_deny };
    const at = c.at ?? 0;
    const keyed = [
      ...(entry.limits ?? []).map((l) => ({ l, key: `${c.tool}.${l.counter}` })),
      ...p.all_tools.limits.map((l) => ({ l, key: `_all.${l.counter}` })),
    ].map(({ l, key }) => ({ l, key: `${key}@${Math.floor(at / (l.window === "minute" ? 60_000 : 3_600_000))}` }));
    for (const { l, key } of keyed)
      if ((this.counters.get(key) ?? 0) + 1 > l.max) return { ok: false, why: "rate limit" };
    for (const { key } of keyed) this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
    return { ok: true };
  }
}

// ---------------------------------------------------------------------------------------------------------------
let built: ReturnType<typeof buildCatalog>;
let catalog: Catalog;
let servers: { decision: PolicyDecision; tools: ToolRow[]; policy: Policy }[];

beforeAll(() => {
  built = buildCatalog(undefined, { unclassified: "mystery_tool" });
  catalog = built.catalog;
  servers = listServers(catalog.sqlite).map((s) => {
    const tools = serverTools(catalog.sqlite, s.id);
    const decision = decidePolicy(s, tools);
    return { decision, tools, policy: JSON.parse(renderPolicy(decision, "policy.json")) as Policy };
  });
});
afterAll(() => catalog?.close());

describe("policy.json v1 under the documented semantics (balanced profile, realistic catalog)", () => {
  it("covers a realistic catalog", () => {
    expect(servers.length).toBe(20);
    const cats = new Set(servers.flatMap((s) => s.tools.map((t) => t.classification?.category)));
    expect(cats).toEqual(new Set(["Read", "Write", "Execute", "Destructive", "Financial", undefined]));
  });

  it("allows every Read tool; a high-risk read only once a person approved it", () => {
    let n = 0;
    for (const s of servers) {
      for (const t of s.tools.filter((x) => x.classification?.category === "Read")) {
        const gw = new Gateway(s.policy);
        expect(
          gw.listed(
            t.name,
            s.tools.map((x) => x.name),
          ),
        ).toBe(true);
        const high = t.classification!.risk === "high" || t.classification!.risk === "critical";
        const plain = gw.call({ tool: t.name });
        expect(plain.ok, `${s.decision.server}/${t.name}`).toBe(!high);
        if (high && !plain.ok) expect(plain.why).toMatch(/approval/);
        expect(gw.call({ tool: t.name, approved: true }).ok).toBe(true);
        n++;
      }
    }
    expect(n).toBeGreaterThan(250);
  });

  it("hides every Destructive tool: not listed and refused even when approved", () => {
    let n = 0;
    for (const s of servers) {
      for (const t of s.tools.filter((x) => x.classification?.category === "Destructive")) {
        const gw = new Gateway(s.policy);
        expect(
          gw.listed(
            t.name,
            s.tools.map((x) => x.name),
          ),
        ).toBe(false);
        expect(gw.call({ tool: t.name, approved: true }).ok).toBe(false);
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
  });

  it("requires approval for every Financial tool, with an explanation", () => {
    let n = 0;
    for (const s of servers) {
      for (const t of s.tools.filter((x) => x.classification?.category === "Financial")) {
        const gw = new Gateway(s.policy);
        const r = gw.call({ tool: t.name });
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.why).toMatch(/approval/);
        expect(gw.call({ tool: t.name, approved: true }).ok).toBe(true);
        n++;
      }
    }
    expect(n).toBe(6);
  });

  it("denies unknown tools and unclassified tools, saying why for the latter", () => {
    for (const s of servers) {
      const gw = new Gateway(s.policy);
      expect(gw.call({ tool: "a_tool_no_catalog_knows", approved: true }).ok).toBe(false);
    }
    const u = built.unclassified!;
    const s = servers.find((x) => x.decision.server === u.server)!;
    const r = new Gateway(s.policy).call({ tool: u.tool, approved: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toMatch(/not classified/i);
    expect(s.decision.tools.find((t) => t.tool === u.tool)).toMatchObject({ action: "deny", risk: "critical" });
  });

  it("caps all calls to a server together (120/minute)", () => {
    const s = servers.find((x) => x.tools.filter((t) => t.classification?.category === "Read").length > 60)!;
    const reads = s.tools.filter((t) => t.classification?.category === "Read" && t.classification.risk !== "high");
    const gw = new Gateway(s.policy);
    let ok = 0;
    for (let i = 0; i < 130; i++) if (gw.call({ tool: reads[i % reads.length]!.name, at: 5 }).ok) ok++;
    expect(ok).toBe(120);
  });

  it("rate-limits writes (30/minute) and execution (10/minute)", () => {
    for (const [cat, max] of [
      ["Write", 30],
      ["Execute", 10],
    ] as const) {
      const s = servers.find((x) =>
        x.tools.some((t) => t.classification?.category === cat && t.classification.risk !== "critical"),
      )!;
      const t = s.tools.find((x) => x.classification?.category === cat && x.classification.risk !== "critical")!;
      const gw = new Gateway(s.policy);
      for (let i = 0; i < max; i++) expect(gw.call({ tool: t.name, at: 1000 }).ok).toBe(true);
      expect(gw.call({ tool: t.name, at: 1000 }).ok).toBe(false);
      expect(gw.call({ tool: t.name, at: 61_000 }).ok).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A tiny JSON Schema (2020-12 subset) validator: enough for schemas/policy.schema.json, no new dependency.
// ---------------------------------------------------------------------------------------------------------------
type Schema = Record<string, unknown>;
function validate(schema: Schema, value: unknown, root: Schema, at = "$"): string[] {
  if (typeof schema.$ref === "string") {
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((o, k) => (o as Schema)[k], root);
    return validate(target as Schema, value, root, at);
  }
  const errs: string[] = [];
  const t = schema.type;
  const typeOf = (v: unknown) =>
    Array.isArray(v) ? "array" : v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v;
  if (t && !(typeOf(value) === t || (t === "number" && typeof value === "number"))) return [`${at}: not ${t}`];
  if ("const" in schema && value !== schema.const) errs.push(`${at}: not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errs.push(`${at}: not one of the enum`);
  if (typeof schema.minLength === "number" && typeof value === "string" && value.length < schema.minLength)
    errs.push(`${at}: too short`);
  if (typeof schema.minimum === "number" && typeof value === "number" && value < schema.minimum)
    errs.push(`${at}: < min`);
  if (Array.isArray(value)) {
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length)
      errs.push(`${at}: duplicate items`);
    if (schema.items) {
      value.forEach((v, i) => {
        errs.push(...validate(schema.items as Schema, v, root, `${at}[${i}]`));
      });
    }
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of (schema.required as string[]) ?? []) if (!Object.hasOwn(obj, r)) errs.push(`${at}: missing ${r}`);
    const props = (schema.properties as Record<string, Schema>) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (Object.hasOwn(props, k)) errs.push(...validate(props[k]!, v, root, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected ${k}`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object")
        errs.push(...validate(schema.additionalProperties as Schema, v, root, `${at}.${k}`));
    }
  }
  return errs;
}

describe("the published JSON Schema", () => {
  const schema = JSON.parse(
    readFileSync(new URL("../../schemas/policy.schema.json", import.meta.url), "utf8"),
  ) as Schema;

  it("validates every generated policy.json, in every profile", () => {
    for (const s of servers) {
      for (const profile of ["balanced", "strict", "permissive"] as const) {
        const d = decidePolicy({ name: s.decision.server, slug: s.decision.serverKey }, s.tools, { profile });
        const errs = validate(schema, JSON.parse(renderPolicy(d, "policy.json")), schema);
        expect(errs, `${s.decision.server} ${profile}`).toEqual([]);
      }
    }
  });

  it("rejects malformed policies (the validator is not a rubber stamp)", () => {
    const good = servers[0]!.policy;
    expect(validate(schema, { ...good, version: "2" }, schema)).not.toEqual([]);
    expect(validate(schema, { ...good, extra: 1 }, schema)).not.toEqual([]);
    expect(
      validate(
        schema,
        { ...good, all_tools: { limits: [{ counter: "c", window: "day", max: 1, scope: "grant" }] } },
        schema,
      ),
    ).not.toEqual([]);
    expect(validate(schema, { ...good, tools: { x: { deny_if: [{ conditions: [] }] } } }, schema)).not.toEqual([]);
  });
});

describe("profiles", () => {
  it("strict allows only low-risk reads", () => {
    for (const s of servers) {
      const d = decidePolicy({ name: s.decision.server, slug: s.decision.serverKey }, s.tools, { profile: "strict" });
      const policy = JSON.parse(renderPolicy(d, "policy.json")) as Policy;
      for (const t of s.tools) {
        // A fresh gateway per tool: the server-wide limit is not what this checks.
        const gw = new Gateway(policy);
        const lowRead = t.classification?.category === "Read" && t.classification.risk === "low";
        expect(gw.call({ tool: t.name, approved: true }).ok, t.name).toBe(lowRead);
      }
    }
  });

  it("permissive allows every read and write, and still gates money and destruction on approval", () => {
    for (const s of servers) {
      const d = decidePolicy({ name: s.decision.server, slug: s.decision.serverKey }, s.tools, {
        profile: "permissive",
      });
      const policy = JSON.parse(renderPolicy(d, "policy.json")) as Policy;
      for (const t of s.tools) {
        const gw = new Gateway(policy);
        const c = t.classification;
        if (!c) continue;
        if (c.category === "Read" || (c.category === "Write" && c.risk !== "critical"))
          expect(gw.call({ tool: t.name }).ok).toBe(true);
        if (c.category === "Financial" || c.category === "Destructive") {
          expect(gw.call({ tool: t.name }).ok).toBe(false);
          expect(gw.call({ tool: t.name, approved: true }).ok).toBe(true);
        }
      }
    }
  });
});
