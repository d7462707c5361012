/**
 * A small YAML emitter for policy documents (plain objects, arrays, strings, numbers, booleans). Every string is
 * written as a JSON string, which YAML 1.2 reads as the same scalar, so hostile tool names cannot break out; the
 * `yaml` library did the same job several times slower and rendered once per tool page.
 */
export function toYaml(value: unknown): string {
  const out: string[] = [];
  emit(value, 0, out);
  return `${out.join("\n")}\n`;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Words YAML 1.1 or 1.2 read as null or a boolean (in any case): as bare keys they would not be strings. */
const RESERVED = /^(?:null|true|false|yes|no|on|off|y|n)$/i;
const key = (k: string) => (PLAIN_KEY.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k));

function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v) && v.length === 0) return "[]";
  if (typeof v === "object" && Object.keys(v as object).length === 0) return "{}";
  return undefined;
}

function emit(value: unknown, depth: number, out: string[]): void {
  const pad = "  ".repeat(depth);
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = scalar(item);
      if (s !== undefined) {
        out.push(`${pad}- ${s}`);
        continue;
      }
      // A mapping inside a sequence: its first key goes on the dash line, the rest align under it.
      const start = out.length;
      emit(item, depth + 1, out);
      out[start] = `${pad}- ${(out[start] ?? "").slice(pad.length + 2)}`;
    }
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const s = scalar(v);
    if (s !== undefined) out.push(`${pad}${key(k)}: ${s}`);
    else {
      out.push(`${pad}${key(k)}:`);
      emit(v, depth + 1, out);
    }
  }
}
