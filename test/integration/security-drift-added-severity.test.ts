/**
 * Drift severity (issue 17): a tool added with a Financial or Destructive category — a rug pull that adds a refund
 * tool — is a high change, so the default webhooks (min severity high) fire for it. A harmless added tool stays
 * medium. Real sandboxed probes of a real child process, real SQLite catalog, the real classifier.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { classifyHeuristic } from "../../src/classify/heuristics.js";
import type { ProbeResult } from "../../src/core/types.js";
import { recordChanges } from "../../src/history/index.js";
import { ingestProbe, saveClassification, upsertSourceEntry } from "../../src/store/catalog.js";
import { openCatalog } from "../../src/store/db.js";
import { serverTools } from "../../src/store/queries.js";
import { probeFixtureServer } from "../helpers/probe-fixture.js";
import { tempDir } from "../helpers/tmp.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/servers/rug-pull-add.mjs", import.meta.url));

function probeFixture(variant: string): Promise<ProbeResult> {
  return probeFixtureServer(FIXTURE, { RUG_VARIANT: variant }, "mcp-census-rug-cache");
}

describe("added Financial/Destructive tools are high changes", () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it("refund and delete tools added: high; a read tool added: medium", async () => {
    const cat = openCatalog(join(t.dir, "c.db"));
    try {
      const { serverId } = upsertSourceEntry(cat.sqlite, {
        sourceId: "seed",
        sourceKey: "io.github.example/payments",
        entry: { name: "io.github.example/payments", packages: [], remotes: [] },
        raw: {},
      });
      const step = (r: ProbeResult) => {
        expect(r.outcome, r.error).toBe("ok");
        const ingest = ingestProbe(cat.sqlite, serverId, r);
        // Classifications stored before the changes are recorded (the pipeline records them before classifying, when
        // the heuristics decide: security-crash-changes checks that refund_payment is high that way too).
        for (const tl of serverTools(cat.sqlite, serverId)) {
          if (!tl.classification)
            saveClassification(cat.sqlite, tl.hash, classifyHeuristic({ ...tl.raw, server: "p" }));
        }
        return recordChanges(cat.sqlite, serverId, ingest);
      };
      expect(step(await probeFixture("v1"))).toEqual([]);
      const events = step(await probeFixture("v2"));
      const by = Object.fromEntries(events.map((e) => [e.toolName, e]));
      expect(Object.keys(by).sort()).toEqual(["delete_repository", "list_labels", "refund_payment"]);
      expect(by.refund_payment).toMatchObject({ kind: "tool_added", severity: "high" });
      expect(by.refund_payment!.reason).toMatch(/Financial/);
      expect(by.delete_repository).toMatchObject({ kind: "tool_added", severity: "high" });
      expect(by.delete_repository!.reason).toMatch(/Destructive/);
      expect(by.list_labels).toMatchObject({ kind: "tool_added", severity: "medium" });
    } finally {
      cat.close();
    }
  }, 120_000);
});
