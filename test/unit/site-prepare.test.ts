import { describe, expect, it } from "vitest";
import { prepareServer } from "../../src/site/prepare.js";
import type { ServerMeta, SiteFile } from "../../src/site/server-pages.js";

const meta: ServerMeta = {
  id: 1,
  slug: "s",
  name: "s",
  title: null,
  d: "",
  toolCount: 0,
  modify: 0,
  byCategory: {},
  byRisk: {},
  sources: [],
  outcome: "ok",
  tokens: 0,
};

/** Each file's bytes as prepareServer laid them out. */
function split(p: { ends: number[]; buf: Uint8Array }): string[] {
  const out: string[] = [];
  let start = 0;
  for (const end of p.ends) {
    out.push(Buffer.from(p.buf.subarray(start, end)).toString("utf8"));
    start = end;
  }
  return out;
}

describe("prepareServer encodes every page exactly", () => {
  // Pages of one byte a character, then pages of two, three and four bytes a character (surrogate pairs), some
  // larger than the buffers it starts with (a worker's is sized for one byte a character; the scratch is 1 MB).
  const pages: string[] = [
    "<p>plain ascii</p>",
    "é".repeat(5000),
    "€ and 漢字 ".repeat(20_000),
    "😀".repeat(300_000),
    "",
    "x".repeat(3_000_000),
    "tail ü",
  ];
  const files: SiteFile[] = pages.map((content, i) => ({ path: `/p${i}/index.html`, content }));

  for (const index of [false, true]) {
    it(index ? "on the main thread (scratch buffer, copied out)" : "in a render worker (its own buffer)", () => {
      const p = prepareServer(1, files, meta, [], index);
      expect(p.paths).toEqual(files.map((f) => f.path));
      expect(split(p)).toEqual(pages);
      expect(p.ends.at(-1)).toBe(pages.reduce((n, s) => n + Buffer.byteLength(s), 0));
      expect(p.buf.byteOffset).toBe(0);
      // The main thread hashes what it prepares; a worker leaves that to the main thread.
      expect(p.hashes.length).toBe(index ? pages.length : 0);
    });
  }
});
