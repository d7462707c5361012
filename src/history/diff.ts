import { canonicalJson } from "../core/hash.js";
import type { Category, Classification, RawTool, Risk } from "../core/types.js";
import { type ChangeKind, compareRisk, type Severity, severityRank } from "../core/vocabulary.js";
import { indicatorLabel, isTypoFix, poisoningIndicators, takesCode, unifiedDiff } from "./text.js";

export { CHANGE_KINDS, type ChangeKind, SEVERITIES, type Severity, severityRank } from "../core/vocabulary.js";

/** One facet of a change with its own severity and reason; an event's severity is the highest of its aspects. */
export interface Aspect {
  kind: ChangeKind;
  severity: Severity;
  reason: string;
}

/** A parameter of an input schema, flattened to a dotted path. */
export interface ParamInfo {
  path: string;
  type: string;
  required: boolean;
  enum?: string;
  description?: string;
}

export interface ParamChange {
  change: "added" | "removed" | "type_changed" | "enum_changed" | "required_changed" | "description_changed";
  path: string;
  from?: string;
  to?: string;
}

export interface ClassificationBrief {
  category: Category;
  risk: Risk;
  access: string;
  destructive: boolean;
}

/** What changed, in data: stored as the change row's details and sent in webhooks. */
export interface ChangeDetails {
  aspects: Aspect[];
  description?: { editDistance?: number; newIndicators: string[]; diff: string[] };
  parameters?: ParamChange[];
  annotations?: { key: string; from: unknown; to: unknown }[];
  classification?: { from: ClassificationBrief | null; to: ClassificationBrief | null };
  /** Other top-level fields of the tool object that changed (outputSchema, _meta, icons, …). */
  otherFields?: string[];
}

/** Extra indicator source (the classifier's poisoning flags) merged into ours. */
export type FlagDetector = (text: string) => string[];

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

const typeOf = (s: Record<string, unknown>): string => {
  if (s.type !== undefined) return Array.isArray(s.type) ? s.type.map(String).join("|") : String(s.type);
  for (const k of ["anyOf", "oneOf"]) {
    const alts = s[k];
    if (Array.isArray(alts)) return alts.map((a) => (isObject(a) ? typeOf(a) : "any")).join("|");
  }
  if (s.const !== undefined) return `const ${JSON.stringify(s.const)}`;
  return "any";
};

/** Flattens an input schema's properties (nested objects and array items too) into parameters by path. */
export function flattenParams(schema: unknown, prefix = "", depth = 0, out = new Map<string, ParamInfo>()) {
  if (!isObject(schema) || depth > 6) return out;
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  for (const name of Object.keys(props).sort()) {
    const p = props[name];
    const path = prefix ? `${prefix}.${name}` : name;
    const s = isObject(p) ? p : {};
    out.set(path, {
      path,
      type: typeOf(s),
      required: required.has(name),
      enum: Array.isArray(s.enum) ? canonicalJson(s.enum) : undefined,
      description: typeof s.description === "string" ? s.description : undefined,
    });
    flattenParams(s, path, depth + 1, out);
    if (isObject(s.items)) flattenParams(s.items, `${path}[]`, depth + 1, out);
  }
  return out;
}

/** Parameter-level differences between two input schemas, sorted by path. */
export function diffParams(a: unknown, b: unknown): ParamChange[] {
  const pa = flattenParams(a);
  const pb = flattenParams(b);
  const out: ParamChange[] = [];
  for (const path of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
    const x = pa.get(path);
    const y = pb.get(path);
    if (!x && y) out.push({ change: "added", path, to: y.type });
    else if (x && !y) out.push({ change: "removed", path, from: x.type });
    else if (x && y) {
      if (x.type !== y.type) out.push({ change: "type_changed", path, from: x.type, to: y.type });
      if (x.enum !== y.enum)
        out.push({ change: "enum_changed", path, from: x.enum ?? "(none)", to: y.enum ?? "(none)" });
      if (x.required !== y.required) {
        out.push({ change: "required_changed", path, from: String(x.required), to: String(y.required) });
      }
      if (x.description !== y.description) out.push({ change: "description_changed", path });
    }
  }
  return out;
}

/** All model-visible prose of a tool: title, description and every parameter description. */
function prose(t: RawTool | null): { main: string; params: Map<string, string> } {
  const main = t ? [t.title, t.description].filter((s) => typeof s === "string").join("\n") : "";
  const params = new Map<string, string>();
  for (const [path, p] of flattenParams(t?.inputSchema)) if (p.description) params.set(path, p.description);
  return { main, params };
}

const brief = (c: Classification | null | undefined): ClassificationBrief | null =>
  c ? { category: c.category, risk: c.risk, access: c.access, destructive: c.destructive } : null;

const KNOWN_FIELDS = new Set(["name", "title", "description", "inputSchema", "annotations"]);

/**
 * Diffs two definitions of one tool (null = absent) and judges each aspect. `from`/`to` classifications are
 * compared when both are given.
 */
export function diffTool(
  from: RawTool | null,
  to: RawTool | null,
  opts: { fromClass?: Classification | null; toClass?: Classification | null; detectFlags?: FlagDetector } = {},
): ChangeDetails {
  const aspects: Aspect[] = [];
  const details: ChangeDetails = { aspects };
  const flags = (s: string) => poisoningIndicators(s, opts.detectFlags);

  if (!to) {
    aspects.push({ kind: "tool_removed", severity: "low", reason: "tool removed" });
    return details;
  }

  const a = prose(from);
  const b = prose(to);
  // Indicators anywhere in the tool's prose, so one moved from a parameter into the description is not "new".
  const before = new Set([a.main, ...a.params.values()].flatMap(flags));
  const newMain = flags(b.main).filter((f) => !before.has(f));
  const newInParams = [...b.params.entries()].flatMap(([path, d]) =>
    flags(d)
      .filter((f) => !before.has(f))
      .map((f) => ({ path, f })),
  );

  if (!from) {
    aspects.push({ kind: "tool_added", severity: "medium", reason: "new tool" });
    // A rug pull that adds a refund or delete tool is high, so the default webhooks fire for it.
    const cls = opts.toClass;
    if (cls && (cls.category === "Financial" || cls.category === "Destructive" || cls.financial || cls.destructive)) {
      const what = cls.category === "Financial" || cls.financial ? "Financial" : "Destructive";
      aspects.push({ kind: "tool_added", severity: "high", reason: `new ${what} tool (${cls.risk} risk)` });
    }
    const ind = [...new Set([...newMain, ...newInParams.map((x) => x.f)])];
    if (ind.length) {
      aspects.push({
        kind: "tool_added",
        severity: "high",
        reason: `new tool whose description contains ${ind.map(indicatorLabel).join(", ")}`,
      });
    }
    for (const p of flattenParams(to.inputSchema).values()) {
      const why = takesCode(p.path.split(".").pop() ?? p.path, p.description);
      if (why) {
        aspects.push({
          kind: "tool_added",
          severity: "high",
          reason: `new tool with parameter "${p.path}" that takes a command or code (${why})`,
        });
        break;
      }
    }
    if (b.main) details.description = { newIndicators: ind, diff: unifiedDiff("", b.main) };
    return finish(details, opts);
  }

  // Description and title.
  if (a.main !== b.main) {
    const typo = isTypoFix(a.main, b.main);
    details.description = {
      editDistance: typo.distance,
      newIndicators: newMain,
      diff: unifiedDiff(a.main, b.main),
    };
    if (newMain.length) {
      aspects.push({
        kind: "description_changed",
        severity: "high",
        reason: `description gained ${newMain.map(indicatorLabel).join(", ")}`,
      });
    } else if (typo.typo) {
      aspects.push({ kind: "description_changed", severity: "low", reason: "description typo fix" });
    } else {
      aspects.push({ kind: "description_changed", severity: "medium", reason: "description rewritten" });
    }
  }

  // Input schema.
  if (canonicalJson(from.inputSchema ?? null) !== canonicalJson(to.inputSchema ?? null)) {
    const params = diffParams(from.inputSchema, to.inputSchema);
    details.parameters = params;
    const after = flattenParams(to.inputSchema);
    for (const pc of params.filter((p) => p.change === "added")) {
      const info = after.get(pc.path);
      const why = takesCode(pc.path.split(".").pop() ?? pc.path, info?.description);
      if (why) {
        aspects.push({
          kind: "schema_changed",
          severity: "high",
          reason: `new parameter "${pc.path}" takes a command or code (${why})`,
        });
      }
    }
    for (const { path, f } of newInParams) {
      aspects.push({
        kind: "schema_changed",
        severity: "high",
        reason: `description of parameter "${path}" gained ${indicatorLabel(f)}`,
      });
    }
    const structural = params.filter((p) => p.change !== "description_changed");
    if (structural.length) {
      const counts = new Map<string, string[]>();
      for (const p of structural) counts.set(p.change, [...(counts.get(p.change) ?? []), p.path]);
      const words = [...counts].map(([c, paths]) => `${c.replace("_", " ")}: ${paths.join(", ")}`);
      aspects.push({ kind: "schema_changed", severity: "medium", reason: `parameters ${words.join("; ")}` });
    } else if (params.length) {
      aspects.push({ kind: "schema_changed", severity: "low", reason: "parameter descriptions edited" });
    } else {
      aspects.push({ kind: "schema_changed", severity: "medium", reason: "input schema changed" });
    }
  }

  // Annotations.
  const an = isObject(from.annotations) ? from.annotations : {};
  const bn = isObject(to.annotations) ? to.annotations : {};
  const annChanges: { key: string; from: unknown; to: unknown }[] = [];
  for (const key of [...new Set([...Object.keys(an), ...Object.keys(bn)])].sort()) {
    if (canonicalJson(an[key] ?? null) !== canonicalJson(bn[key] ?? null)) {
      annChanges.push({ key, from: an[key] ?? null, to: bn[key] ?? null });
    }
  }
  if (annChanges.length) {
    details.annotations = annChanges;
    for (const c of annChanges) {
      if (c.key === "readOnlyHint" && c.from === true && c.to !== true) {
        aspects.push({
          kind: "annotations_changed",
          severity: "high",
          reason: c.to === false ? "readOnlyHint flipped to false" : "readOnlyHint removed (defaults to false)",
        });
      } else if (c.key === "destructiveHint" && c.to === true && c.from !== true) {
        aspects.push({ kind: "annotations_changed", severity: "high", reason: "destructiveHint set to true" });
      } else if (c.key === "openWorldHint" && c.to === true && c.from !== true) {
        aspects.push({ kind: "annotations_changed", severity: "medium", reason: "openWorldHint set to true" });
      } else {
        aspects.push({
          kind: "annotations_changed",
          severity: "low",
          reason: `annotation ${c.key} changed`,
        });
      }
    }
  }

  // Anything else in the object (outputSchema, _meta, icons): recorded, low.
  const other = [...new Set([...Object.keys(from), ...Object.keys(to)])]
    .filter((k) => !KNOWN_FIELDS.has(k) && canonicalJson(from[k] ?? null) !== canonicalJson(to[k] ?? null))
    .sort();
  if (other.length) {
    details.otherFields = other;
    aspects.push({
      kind: other.includes("outputSchema") ? "schema_changed" : "annotations_changed",
      severity: "low",
      reason: `field${other.length > 1 ? "s" : ""} ${other.join(", ")} changed`,
    });
  }

  return finish(details, opts);
}

function finish(
  details: ChangeDetails,
  opts: { fromClass?: Classification | null; toClass?: Classification | null },
): ChangeDetails {
  const x = opts.fromClass;
  const y = opts.toClass;
  if (!y) return details;
  if (!x) {
    details.classification = { from: null, to: brief(y) };
    return details;
  }
  if (x.category === y.category && x.risk === y.risk && x.destructive === y.destructive && x.access === y.access) {
    return details;
  }
  details.classification = { from: brief(x), to: brief(y) };
  const riskUp = compareRisk(y.risk, x.risk) > 0;
  if (x.category === "Read" && y.category !== "Read") {
    details.aspects.push({
      kind: "classification_changed",
      severity: "high",
      reason: `category moved from Read to ${y.category}`,
    });
  } else if (riskUp || x.category !== y.category) {
    details.aspects.push({
      kind: "classification_changed",
      severity: "medium",
      reason:
        x.category !== y.category
          ? `category moved from ${x.category} to ${y.category}`
          : `risk rose from ${x.risk} to ${y.risk}`,
    });
  } else {
    details.aspects.push({
      kind: "classification_changed",
      severity: "low",
      reason: `classification changed (risk ${x.risk} → ${y.risk})`,
    });
  }
  return details;
}

const KIND_ORDER: ChangeKind[] = [
  "tool_added",
  "tool_removed",
  "description_changed",
  "schema_changed",
  "annotations_changed",
  "classification_changed",
];

/** An event's headline: its highest severity, the kind that carries it, and the reasons at that severity. */
export function summarize(details: ChangeDetails): { kind: ChangeKind; severity: Severity; reason: string } | null {
  if (details.aspects.length === 0) return null;
  const top = Math.max(...details.aspects.map((a) => severityRank(a.severity)));
  const atTop = details.aspects
    .filter((a) => severityRank(a.severity) === top)
    .sort((p, q) => KIND_ORDER.indexOf(p.kind) - KIND_ORDER.indexOf(q.kind));
  const first = atTop[0]!;
  return {
    kind: first.kind,
    severity: first.severity,
    reason: [...new Set(atTop.map((a) => a.reason))].join("; "),
  };
}

/** A readable, line-oriented diff of two definitions: description (unified), parameters, annotations. */
export function renderToolDiff(from: RawTool | null, to: RawTool | null): string[] {
  const out: string[] = [];
  if (!from && !to) return out;
  if (!from) out.push("tool added");
  if (!to) {
    out.push("tool removed");
    return out;
  }
  const a = prose(from).main;
  const b = prose(to).main;
  if (a !== b) {
    out.push("description:");
    for (const l of unifiedDiff(a, b)) out.push(`  ${l}`);
  }
  const pa = flattenParams(from?.inputSchema);
  const pb = flattenParams(to.inputSchema);
  const params = diffParams(from?.inputSchema, to.inputSchema);
  const describe = (p: ParamInfo) =>
    `${p.path} (${p.type}${p.required ? ", required" : ""}${p.enum ? `, enum ${p.enum}` : ""})${
      p.description
        ? `: ${JSON.stringify(p.description.length > 200 ? `${p.description.slice(0, 200)}…` : p.description)}`
        : ""
    }`;
  if (params.length) {
    out.push("parameters:");
    for (const p of params) {
      if (p.change === "added") out.push(`  + ${describe(pb.get(p.path)!)}`);
      else if (p.change === "removed") out.push(`  - ${describe(pa.get(p.path)!)}`);
      else if (p.change === "description_changed") {
        out.push(`  ~ ${p.path} description:`);
        for (const l of unifiedDiff(pa.get(p.path)?.description ?? "", pb.get(p.path)?.description ?? "")) {
          out.push(`      ${l}`);
        }
      } else out.push(`  ~ ${p.path}: ${p.change.replace("_", " ")} ${p.from} → ${p.to}`);
    }
  } else if (from && canonicalJson(from.inputSchema ?? null) !== canonicalJson(to.inputSchema ?? null)) {
    out.push("parameters: input schema changed outside its properties");
  }
  const an = isObject(from?.annotations) ? from.annotations : {};
  const bn = isObject(to.annotations) ? to.annotations : {};
  const keys = [...new Set([...Object.keys(an), ...Object.keys(bn)])]
    .sort()
    .filter((k) => canonicalJson(an[k] ?? null) !== canonicalJson(bn[k] ?? null));
  if (keys.length && from) {
    out.push("annotations:");
    for (const k of keys) out.push(`  ~ ${k}: ${JSON.stringify(an[k] ?? null)} → ${JSON.stringify(bn[k] ?? null)}`);
  }
  return out;
}
