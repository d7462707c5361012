/** One row of a tool's parameters table, read from its JSON Schema (untrusted: every field may be anything). */
export interface ParamRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
  enumValues: string[];
  defaultValue: string | undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)));

/** A readable type for a schema node: unions, arrays of X, enums, $ref names. */
export function typeOf(s: unknown, depth = 0): string {
  if (!isObj(s) || depth > 3) return "any";
  if (Array.isArray(s.type)) return s.type.map(String).join(" | ");
  if (typeof s.type === "string") {
    if (s.type === "array") return `array of ${typeOf(s.items, depth + 1)}`;
    return s.type;
  }
  for (const k of ["anyOf", "oneOf"]) {
    const alts = s[k];
    if (Array.isArray(alts) && alts.length) return [...new Set(alts.map((a) => typeOf(a, depth + 1)))].join(" | ");
  }
  if (Array.isArray(s.enum)) return "enum";
  if (typeof s.$ref === "string") return s.$ref.split("/").pop() ?? "ref";
  if (s.const !== undefined) return `const ${show(s.const)}`;
  return "any";
}

/** Rows for the top-level properties and one level of nested object properties (as parent.child). */
export function paramRows(schema: unknown): ParamRow[] {
  const rows: ParamRow[] = [];
  const walk = (s: unknown, prefix: string, depth: number) => {
    if (!isObj(s) || !isObj(s.properties)) return;
    const required = new Set(Array.isArray(s.required) ? s.required.filter((r) => typeof r === "string") : []);
    for (const [name, p] of Object.entries(s.properties)) {
      const node = isObj(p) ? p : {};
      const enumSrc = Array.isArray(node.enum)
        ? node.enum
        : isObj(node.items) && Array.isArray(node.items.enum)
          ? node.items.enum
          : [];
      rows.push({
        name: `${prefix}${name}`,
        type: typeOf(node),
        required: required.has(name),
        description: typeof node.description === "string" ? node.description : "",
        enumValues: enumSrc.slice(0, 50).map(show),
        // An empty-text default is said in words: a bare "Default:" reads as a rendering bug.
        defaultValue:
          node.default === undefined ? undefined : node.default === "" ? '"" (empty text)' : show(node.default),
      });
      if (depth < 1 && rows.length < 200)
        walk(node.type === "array" ? node.items : node, `${prefix}${name}.`, depth + 1);
    }
  };
  walk(schema, "", 0);
  return rows;
}
