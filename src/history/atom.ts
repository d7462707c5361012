import type { ChangeEvent } from "./events.js";

/** Removes what XML 1.0 cannot hold at all (most control characters, lone surrogates, U+FFFE/U+FFFF). */
function xmlSafe(s: string): string {
  return s.replace(
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    "\uFFFD",
  );
}

/** Escapes text for XML element content and attribute values. */
export function escapeXml(s: string): string {
  return xmlSafe(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

export interface AtomOptions {
  title: string;
  /** Absolute URL of the feed itself; also its id. */
  selfUrl: string;
  /** Page each entry links to (e.g. the tool's history page); the feed URL when omitted. */
  linkFor?: (c: ChangeEvent) => string;
  /** Page the feed as a whole describes. */
  alternateUrl?: string;
  /** When what the feed follows was first seen: the feed's `updated` while it has no entries. */
  since?: string;
}

/** Plain-text body of one entry: reason, then the readable diff lines. */
function entryText(c: ChangeEvent): string {
  const lines = [`${c.severity.toUpperCase()} ${c.kind.replace(/_/g, " ")}: ${c.reason}`];
  for (const a of c.details.aspects ?? []) {
    if (a.reason !== c.reason) lines.push(`- ${a.severity}: ${a.reason}`);
  }
  const diff = c.details.description?.diff;
  if (diff?.length) lines.push("", "description:", ...diff.slice(0, 60));
  for (const p of c.details.parameters ?? []) {
    lines.push(
      `parameter ${p.path}: ${p.change.replace("_", " ")}${p.from || p.to ? ` ${p.from ?? ""} → ${p.to ?? ""}` : ""}`,
    );
  }
  for (const a of c.details.annotations ?? []) {
    lines.push(`annotation ${a.key}: ${JSON.stringify(a.from)} → ${JSON.stringify(a.to)}`);
  }
  return lines.join("\n");
}

/**
 * An Atom 1.0 feed of change events (newest first as given). Deterministic: `updated` is the newest change's time
 * (for an empty feed, `opts.since`: when what the feed follows was first seen), ids derive from the feed URL and
 * change ids. All text is escaped.
 */
export function renderAtom(changes: ChangeEvent[], opts: AtomOptions): string {
  let updated = changes.length ? "" : (opts.since ?? "1970-01-01T00:00:00.000Z");
  for (const c of changes) if (c.at > updated) updated = c.at;
  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <title>${escapeXml(opts.title)}</title>`,
    `  <id>${escapeXml(opts.selfUrl)}</id>`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(opts.selfUrl)}"/>`,
  ];
  if (opts.alternateUrl) out.push(`  <link rel="alternate" type="text/html" href="${escapeXml(opts.alternateUrl)}"/>`);
  out.push(`  <updated>${escapeXml(updated)}</updated>`, "  <author><name>mcp-census</name></author>");
  for (const c of changes) {
    const link = opts.linkFor ? opts.linkFor(c) : opts.selfUrl;
    out.push(
      "  <entry>",
      `    <title>${escapeXml(`[${c.severity}] ${c.server} / ${c.toolName}: ${c.reason}`)}</title>`,
      `    <id>${escapeXml(`${opts.selfUrl}#change-${c.id}`)}</id>`,
      `    <link rel="alternate" href="${escapeXml(link)}"/>`,
      `    <updated>${escapeXml(c.at)}</updated>`,
      `    <category term="${escapeXml(c.severity)}" label="severity"/>`,
      `    <category term="${escapeXml(c.kind)}" label="kind"/>`,
      `    <content type="text">${escapeXml(entryText(c))}</content>`,
      "  </entry>",
    );
  }
  out.push("</feed>", "");
  return out.join("\n");
}
