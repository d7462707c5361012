/**
 * The one way markup is made: `html` escapes every interpolated value unless it is already `Html` (the result of
 * another `html` call or an explicit `raw()`), so untrusted text (tool names, descriptions) can only ever be text.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML element content and quoted attribute values. Every interpolated value of every page comes
 * through here: text with nothing to escape is returned as it is, and the rest is copied in slices between the
 * characters replaced — about twice as fast as a replace() with a callback per match.
 */
export function escapeHtml(s: unknown): string {
  const str = typeof s === "string" ? s : String(s ?? "");
  ESCAPABLE.lastIndex = 0;
  let m = ESCAPABLE.exec(str);
  if (!m) return str;
  let out = "";
  let last = 0;
  do {
    out += str.slice(last, m.index) + ESC[m[0]];
    last = m.index + 1;
    m = ESCAPABLE.exec(str);
  } while (m);
  return out + str.slice(last);
}
const ESCAPABLE = /[&<>"']/g;

/** Marks trusted markup (only for strings built here, never for catalog data). */
export function raw(s: string): Html {
  return new Html(s);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) {
    let out = "";
    for (const x of v) out += render(x);
    return out;
  }
  return escapeHtml(v);
}

/** Tagged template that escapes by default. Arrays are joined; null/undefined/false render as nothing. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new Html(out);
}

/** JSON that is safe inside a <script type="application/json"> element (cannot close the element or start a comment). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Escapes text for XML (sitemaps). */
export const escapeXml = escapeHtml;
