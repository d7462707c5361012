import { AppError } from "../core/errors.js";
import { JsonTextError, parseUntrustedJson } from "../core/json.js";
import { isRegistryVersionSpec } from "../core/npm-spec.js";
import { type ServerEntry, ServerEntrySchema } from "../core/types.js";
import type { EntryError, NormalisedEntry } from "./types.js";

/** Longest description kept: the store caps text at the same size, and a registry may send megabytes. */
export const MAX_DESCRIPTION = 64 * 1024;
/** Longest string kept inside a stored raw payload. */
export const MAX_RAW_STRING = 8 * 1024;
/** Longest raw payload stored beside an error. */
export const MAX_ERROR_RAW = 16 * 1024;

// C0/C1 controls plus zero-width and bidi overrides: they hide or reorder what a reader sees in a name.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const MARKUP = /[<>]|javascript:|&#?\w+;/i;

/** Cleans a server name: invisible characters are removed (noted); markup or an empty result rejects it. */
export function cleanName(name: unknown): { name?: string; note?: string; reject?: string } {
  if (typeof name !== "string") return { reject: "name is missing or not a string" };
  const stripped = name.replace(INVISIBLE, "");
  const cleaned = stripped.replace(/\s+/g, " ").trim();
  if (!cleaned) return { reject: "name is empty" };
  if (MARKUP.test(cleaned)) return { reject: `name contains markup: ${JSON.stringify(cleaned.slice(0, 80))}` };
  if (cleaned.length > 300) return { reject: `name is ${cleaned.length} characters long (at most 300)` };
  const note = stripped !== name ? `control characters removed from name ${JSON.stringify(cleaned)}` : undefined;
  return { name: cleaned, note };
}

/** Removes invisible characters from a short display string (titles). */
export function cleanText(s: unknown): string | undefined {
  if (typeof s !== "string") return undefined;
  const t = s.replace(INVISIBLE, " ").replace(/\s+/g, " ").trim();
  return t || undefined;
}

/** A copy of a payload with long strings cut, so a hostile entry cannot bloat the catalog. */
export function capRaw(value: unknown, maxString = MAX_RAW_STRING, depth = 0): unknown {
  if (typeof value === "string") {
    return value.length > maxString ? `${value.slice(0, maxString)}…[truncated ${value.length} chars]` : value;
  }
  if (depth > 32 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => capRaw(v, maxString, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = capRaw(v, maxString, depth + 1);
  return out;
}

/** The raw payload stored beside an error: capped JSON. */
export function errorRaw(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let s: string;
  try {
    s = typeof value === "string" ? value : JSON.stringify(capRaw(value, 2048));
  } catch {
    s = String(value);
  }
  return s.length > MAX_ERROR_RAW ? `${s.slice(0, MAX_ERROR_RAW)}…[truncated]` : s;
}

/**
 * JSON.parse with a nesting limit and a one-line error that says where: "<label>: invalid JSON at line N, column M:
 * <reason>" — never quoting the text (it may be any file a seed path or symlink points at).
 */
export function parseJsonText(text: string, label: string): unknown {
  try {
    return parseUntrustedJson(text);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new AppError("bad_input", `${label}: invalid JSON at line ${err.line}, column ${err.column}: ${err.reason}`, {
      cause: err,
    });
  }
}

/** A readable one-line summary of zod issues. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/**
 * Turns a candidate server.json into an entry: name cleaned, title cleaned, description capped, zod-validated.
 * Anything wrong becomes an error item (the entry is skipped when it cannot be used).
 */
export function finaliseEntry(
  candidate: Record<string, unknown>,
  meta: Omit<NormalisedEntry, "entry">,
  label: string,
): { entry?: NormalisedEntry; errors: EntryError[] } {
  const errors: EntryError[] = [];
  const named = cleanName(candidate.name);
  if (named.reject) return { errors: [{ error: `${label}: ${named.reject}`, raw: errorRaw(meta.raw), skipped: true }] };
  if (named.note) errors.push({ error: `${label}: ${named.note}` });
  const c: Record<string, unknown> = { ...candidate, name: named.name };
  if (c.title !== undefined) c.title = cleanText(c.title);
  if (typeof c.description === "string" && c.description.length > MAX_DESCRIPTION) {
    errors.push({ error: `${label}: description of ${c.description.length} characters capped to ${MAX_DESCRIPTION}` });
    c.description = `${c.description.slice(0, MAX_DESCRIPTION)}…[truncated]`;
  }
  for (const k of Object.keys(c)) if (c[k] === undefined || c[k] === null) delete c[k];
  const parsed = ServerEntrySchema.safeParse(c);
  if (!parsed.success) {
    errors.push({
      error: `${label}: invalid entry: ${describeIssues(parsed.error.issues)}`,
      raw: errorRaw(meta.raw),
      skipped: true,
    });
    return { errors };
  }
  // npm would fetch a URL, git or file "version" from wherever it points: only registry specs are launched.
  for (const p of parsed.data.packages ?? []) {
    if (p.registryType === "npm" && p.version && !isRegistryVersionSpec(p.version)) {
      errors.push({
        error: `${label}: npm package ${p.identifier} has version ${JSON.stringify(p.version.slice(0, 100))}, not a registry version spec (a version, range or dist-tag)`,
        raw: errorRaw(meta.raw),
        skipped: true,
      });
      return { errors };
    }
  }
  return { entry: { ...meta, raw: capRaw(meta.raw), entry: parsed.data as ServerEntry }, errors };
}

/** A short label for an entry in error messages. */
export function entryLabel(where: string, index: number, name?: unknown): string {
  const n = typeof name === "string" ? ` (${JSON.stringify(name.replace(INVISIBLE, "").slice(0, 80))})` : "";
  return `${where} entry ${index}${n}`;
}

/** A page the crawl cannot use (shape changed, HTML, bad JSON): carries the capped payload for source_errors. */
export class PageError extends AppError {
  readonly raw?: string;
  constructor(message: string, raw?: unknown) {
    super("bad_input", message);
    this.raw = errorRaw(raw);
  }
}
