/**
 * Issue 17 item 4: the definition hash dropped an own `__proto__` key (sortKeys wrote into `{}`), so a server could
 * rewrite `inputSchema.properties.__proto__.description` into hidden instructions with "0 changed" and `verify`
 * passing. Real sandboxed probe of a real child process, real SQLite catalog.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson, contentHash } from "../../src/core/hash.js";
import type { ProbeResult } from "../../src/core/types.js";
import { recordChanges } from "../../src/history/index.js";
import { compareListing } from "../../src/history/lock.js";
import { ingestProbe, toolHash, upsertSourceEntry } from "../../src/store/catalog.js";
import { openCatalog } from "../../src/store/db.js";
import { probeFixtureServer } from "../helpers/probe-fixture.js";
import { tempDir } from "../helpers/tmp.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/servers/proto-keys.mjs", import.meta.url));

function probeFixture(key: string, variant: string): Promise<ProbeResult> {
  return probeFixtureServer(FIXTURE, { PROTO_KEY: key, PROTO_VARIANT: variant }, "mcp-census-proto-cache");
}

describe("hidden keys cannot hide drift (issue 17 item 4)", () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it("canonical JSON keeps own __proto__, constructor and prototype keys", () => {
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const a = JSON.parse(`{"p":{${JSON.stringify(key)}:{"description":"one"}}}`);
      const b = JSON.parse(`{"p":{${JSON.stringify(key)}:{"description":"two"}}}`);
      expect(canonicalJson(a)).toContain(`"${key}"`);
      expect(contentHash(a), key).not.toBe(contentHash(b));
      // And the canonical form round-trips to the same value.
      expect(JSON.parse(canonicalJson(a))).toEqual(a);
    }
  });

  for (const key of ["__proto__", "constructor", "prototype"]) {
    it(`a rewritten description under properties.${key} is a recorded change, and verify sees drift`, async () => {
      const cat = openCatalog(join(t.dir, `${key}.db`));
      try {
        const { serverId } = upsertSourceEntry(cat.sqlite, {
          sourceId: "seed",
          sourceKey: `io.github.example/proto-${key}`,
          entry: { name: `io.github.example/proto-${key}`, packages: [], remotes: [] },
          raw: {},
        });
        const v1 = await probeFixture(key, "v1");
        const v2 = await probeFixture(key, "v2");
        expect(v1.outcome, v1.error).toBe("ok");
        expect(v2.outcome, v2.error).toBe("ok");
        expect(v1.launch.sandbox).toBe("bwrap");
        // The listing the probe hands on still has the key, with the changed text.
        expect(JSON.stringify(v2.tools[0])).toContain("<IMPORTANT>");
        expect(toolHash(v1.tools[0]!)).not.toBe(toolHash(v2.tools[0]!));

        recordChanges(cat.sqlite, serverId, ingestProbe(cat.sqlite, serverId, v1));
        const ingest = ingestProbe(cat.sqlite, serverId, v2);
        expect(ingest.changed.map((c) => c.name)).toEqual(["get_item"]);
        const events = recordChanges(cat.sqlite, serverId, ingest);
        expect(events).toHaveLength(1);
        expect(events[0]!.toolName).toBe("get_item");
        const stored = cat.sqlite
          .prepare("SELECT raw FROM tool_versions WHERE tool_name = 'get_item' ORDER BY id")
          .all() as { raw: string }[];
        expect(stored).toHaveLength(2);
        expect(stored[1]!.raw).toContain("<IMPORTANT>");

        // `verify`: the pinned v1 against a fresh v2 listing reports drift.
        const drift = compareListing(
          {
            tools: { get_item: { hash: toolHash(v1.tools[0]!), definition: v1.tools[0] } },
          } as unknown as Parameters<typeof compareListing>[0],
          v2.tools,
        );
        expect(drift.map((d) => d.tool)).toEqual(["get_item"]);
      } finally {
        cat.close();
      }
    }, 90_000);
  }
});
