import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCorpus, toToolInput } from "../../scripts/eval-classifier.js";
import { classifyHeuristic, extractFeatures } from "../../src/classify/heuristics.js";

/**
 * Every verdict the heuristics give on the labelled corpus (eval/corpus: dev set + new labels), with annotations as
 * given and removed: access, destructive, financial, risk, confidence, flags, and a digest of the signals and features
 * (ids, order, texts, weights). Work on the engine's speed must leave this file unchanged. A rule change that is meant
 * to change verdicts updates it (`npx vitest run test/unit/classify-corpus-verdicts.test.ts -u`) and the diff of the
 * file shows which tools moved. scripts/classifier-diff.ts compares two trees on more inputs, in full.
 */
describe("heuristic verdicts on the labelled corpus", () => {
  it("are exactly the recorded ones", async () => {
    const { rows } = loadCorpus(join(import.meta.dirname, "../../eval/corpus"));
    expect(rows.length).toBeGreaterThan(1000);
    const lines: string[] = [];
    for (const r of rows) {
      for (const ann of [true, false]) {
        if (!ann && !r.annotations) continue;
        const t = toToolInput(r, ann);
        const c = classifyHeuristic(t);
        const digest = createHash("sha1")
          .update(JSON.stringify([c.signals, extractFeatures(t)]))
          .digest("hex")
          .slice(0, 12);
        const verdict = `${c.access} d=${+c.destructive} f=${+c.financial} ${c.risk} ${c.confidence}`;
        lines.push(`${r.server}\t${r.tool}\t${ann ? "ann" : "no-ann"}\t${verdict}\t${c.flags.join(",")}\t${digest}`);
      }
    }
    await expect(`${lines.join("\n")}\n`).toMatchFileSnapshot("./__snapshots__/classify-corpus-verdicts.tsv");
  });
});
