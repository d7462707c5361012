type Json = Record<string, unknown>;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const schemaText = (s: unknown): string => {
  const j = (s ?? {}) as Json;
  if (typeof j.$ref === "string") return j.$ref.split("/").pop() ?? "";
  if (Array.isArray(j.enum)) return j.enum.map(String).join(" | ");
  const parts = [String(j.type ?? "any")];
  if (j.minimum !== undefined || j.maximum !== undefined) parts.push(`${j.minimum ?? ""}–${j.maximum ?? ""}`);
  if (j.maxLength !== undefined) parts.push(`≤ ${j.maxLength} chars`);
  if (j.default !== undefined) parts.push(`default ${JSON.stringify(j.default)}`);
  return parts.join(", ");
};

/** A self-contained HTML reference page generated from an OpenAPI document (no scripts, no CDN). */
export function renderDocsPage(doc: Json): string {
  const info = (doc.info ?? {}) as Json;
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  const h = (s: unknown) => escapeHtml(String(s ?? ""));
  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const id = h(op.operationId ?? path);
      toc.push(`<li><a href="#${id}"><code>${h(method.toUpperCase())} ${h(path)}</code></a> ${h(op.summary)}</li>`);
      const params = (op.parameters ?? []) as Json[];
      const rows = params
        .map(
          (p) =>
            `<tr><td><code>${h(p.name)}</code></td><td>${h(p.in)}</td><td>${p.required ? "yes" : ""}</td>` +
            `<td><code>${h(schemaText(p.schema))}</code></td><td>${h(p.description)}</td></tr>`,
        )
        .join("");
      const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
        .map(([code, r]) => {
          const content = (r.content ?? {}) as Record<string, Json>;
          const types = Object.entries(content)
            .map(([t, c]) => `${t}${c.schema ? ` (${schemaText(c.schema)})` : ""}`)
            .join(", ");
          return `<li><strong>${h(code)}</strong> ${h(r.description)}${types ? ` — <code>${h(types)}</code>` : ""}</li>`;
        })
        .join("");
      ops.push(
        `<section id="${id}"><h3><code>${h(method.toUpperCase())} ${h(path)}</code></h3><p>${h(op.summary)}</p>` +
          (op.description ? `<p>${h(op.description)}</p>` : "") +
          (rows
            ? `<table><thead><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>`
            : "<p>No parameters.</p>") +
          `<ul>${responses}</ul></section>`,
      );
    }
  }
  const comps = Object.entries(schemas)
    .map(
      ([name, s]) =>
        `<section id="schema-${h(name)}"><h3>${h(name)}</h3><pre>${h(JSON.stringify(s, null, 2))}</pre></section>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(info.title)} reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
pre{background:#f5f5f5;padding:.75rem;overflow:auto}section{margin-bottom:2rem}code{font-size:.92em}</style></head>
<body><h1>${h(info.title)} <small>${h(info.version)}</small></h1><p>${h(info.description)}</p>
<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI ${h(doc.openapi)}).</p>
<h2>Endpoints</h2><ul>${toc.join("")}</ul>${ops.join("")}<h2>Schemas</h2>${comps}</body></html>
`;
}
