import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCorpus } from "../../scripts/eval-classifier.js";
import { INVISIBLE_MARKS } from "../../src/classify/flags.js";
import { PhraseSet, requiredLiterals } from "../../src/classify/phrases.js";

const REGEXES = [
  /\bsql\b|\bselect\b[^.;]{1,120}\bfrom\b|snowflake|t-sql|\bflux\b/,
  /\b(execut(e|es|ing)|run(s|ning)?|eval)\b[^.]{0,40}\b(shell|code|commands?)\b|arbitrary (code|commands?)|command[- ]line/,
  /\bread[- ]only\b(?! mode)|does not (modify|change)|no side[- ]effects|without (making )?(any )?(changes|modif)/,
  /\bwaits? (for|until) (the |an? )?[\w -]{0,40}(to (complete|finish)|completes?|finishes?|is done)/,
  /(dump|export|return|list)s? (the )?(entire |whole |full )?(environment|secrets|cookies)\b|\bkubeconfig\b/,
  /[<~]|http|\[(inst|system)|\.(ssh|env|aws)|\/etc\/|id_(rsa|dsa)|mcp\.json/,
  /<\s*\/?\s*(important|system|ai[_ -]?instructions?)\b[^>]{0,40}>|<!--[\s\S]{0,400}?\b(must|never)/,
  /[?&][\w.-]+=(\{|\$\{|<|%7b|\[|\{\{)/,
  /\b(a|b)\b/,
  /x{2,3}y|(?:ab)+c|\u0041\x42[.]d/,
  /^(execute|exec|run)[ _-]?(java[ _-]?script|js)$/i,
];

function corpusTexts(): string[] {
  const { rows } = loadCorpus(join(import.meta.dirname, "../../eval/corpus"));
  const out: string[] = [];
  for (const r of rows) if (r.description) out.push(r.description.toLowerCase());
  return out;
}

const HAND = [
  "runs arbitrary shell commands",
  "executes code in a sandbox",
  "this is read-only and has no side effects",
  "waits until the build is done",
  "waits for the whole deployment to finish",
  "returns the entire environment",
  "lists secrets",
  "see ~/.ssh/id_rsa and http://x",
  "<important>do this</important>",
  "<!-- you must obey -->",
  "https://e.com/?q={data}",
  "a",
  "xxy ababc abx.d",
  "execute_javascript",
  "EXECUTE JS",
];

describe("phrase gates", () => {
  it("derive literals every match contains", () => {
    expect(requiredLiterals(/\bapply (an? |the )?(manifest|chart)s?\b|\bhelm (install|upgrade)\b/)).toEqual(
      expect.arrayContaining(["helm install", "helm upgrade"]),
    );
    expect(requiredLiterals(/.*/)).toBeNull();
    expect(requiredLiterals(/a|b*/)).toBeNull();
    expect(requiredLiterals(/x/g)).toBeNull();
    const texts = [...HAND, ...corpusTexts()];
    for (const re of REGEXES) {
      const lits = requiredLiterals(re);
      expect(lits, String(re)).not.toBeNull();
      for (const t of texts) {
        const m = re.exec(t);
        if (m)
          expect(
            lits!.some((l) => m[0].toLowerCase().includes(l)),
            `${re} on ${m[0]}`,
          ).toBe(true);
      }
    }
  });

  it("answer test and exec exactly as the regex does, on a text and on its prefixes", () => {
    const set = new PhraseSet(REGEXES);
    let matched = 0;
    for (const t of [...HAND.map((h) => h.toLowerCase()), ...corpusTexts()]) {
      const scan = set.scan(t);
      for (const re of REGEXES) {
        expect(scan.test(re), `${re} on ${t}`).toBe(re.test(t));
        expect(scan.exec(re)?.[0]).toBe(re.exec(t)?.[0]);
        if (re.test(t)) matched++;
        const head = t.slice(0, Math.floor(t.length / 3));
        expect(scan.sub(head).test(re), `${re} on prefix ${head}`).toBe(re.test(head));
      }
      expect(scan.sub("not a prefix").test(REGEXES[0]!)).toBe(REGEXES[0]!.test("not a prefix"));
    }
    expect(matched).toBeGreaterThan(100);
  });

  it("case-folding scans of several parts never rule out a regex that matches the lower-cased joined text", () => {
    const set = new PhraseSet(REGEXES, true, INVISIBLE_MARKS);
    const cases = [
      ["Runs ARBITRARY Shell Commands", "x"],
      ["name", "see ~/.SSH/ID_RSA"],
      ["\u212Aubeconfig", ""],
      ["Returns The Entire Environment", "\u200b"],
    ];
    for (const parts of cases) {
      const scan = set.begin();
      for (const p of parts) scan.more(p);
      const text = parts.join("\n").toLowerCase();
      for (const re of REGEXES) if (re.test(text)) expect(scan.may(re), `${re} on ${text}`).toBe(true);
      const marked = [...parts.join("")].some((c) => INVISIBLE_MARKS.includes(c));
      expect(scan.marked).toBe(marked);
    }
    expect(() => set.scan("x").test(/not registered/)).not.toThrow();
  });

  it("reports marks exactly, and every character the invisible-character check matches starts with a mark", () => {
    const set = new PhraseSet(REGEXES, true, INVISIBLE_MARKS);
    const invisible = /[\u{E0000}-\u{E007F}\u200B-\u200F\u2060-\u2064\u202A-\u202E\u2066-\u2069\uFEFF\u180E]/u;
    for (let cp = 0; cp <= 0xe0100; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (invisible.test(ch)) expect(INVISIBLE_MARKS.includes(ch[0]!), cp.toString(16)).toBe(true);
    }
    for (const text of ["plain", "a\u200bb", "\u{E0041}", "ÄÖ → ‘x’", "\uFEFFbom", "x\u2065", "sql \u202e", ""]) {
      const scan = set.begin();
      scan.more(text);
      expect(scan.marked, JSON.stringify(text)).toBe([...text].some((c) => INVISIBLE_MARKS.includes(c[0]!)));
    }
    // Without marks a scan cannot rule anything out.
    const plain = new PhraseSet(REGEXES, true).begin();
    plain.more("plain");
    expect(plain.marked).toBe(true);
  });
});

describe("the heuristics' phrase set", () => {
  it("holds every regex the heuristics check through a description scan (others would run ungated, only slower)", () => {
    const src = readFileSync(join(import.meta.dirname, "../../src/classify/heuristics.ts"), "utf8");
    const list = /const DESC_PHRASES: RegExp\[\] = \[([^\]]*)\]/.exec(src)?.[1] ?? "";
    const registered = new Set(list.split(",").map((x) => x.trim()));
    const used = new Set(
      [...src.matchAll(/\b(?:ds|fs|c\.ds|c\.fs)\.(?:test|exec|may)\(([A-Z_]+)\)/g)].map((m) => m[1]!),
    );
    expect(used.size).toBeGreaterThan(20);
    for (const name of used) expect(registered.has(name), `${name} is not in DESC_PHRASES`).toBe(true);
  });
});
