// `policy --all` on a real SQLite catalog: a server whose tools could not be listed (never probed, or its probe
// failed) gets the deny-all policy that says why in every format, as `policy <server>` gives it.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { POLICY_FORMATS, policyPath, writeAllPolicies } from "../../src/policy/index.js";
import { ingestProbe, upsertSourceEntry } from "../../src/store/catalog.js";
import { buildFixtureCatalog, entry, probeOk } from "./site-fixture.js";

const fx = buildFixtureCatalog();
afterAll(() => {
  fx.cat.close();
  rmSync(fx.dir, { recursive: true, force: true });
});

describe("writeAllPolicies", () => {
  it("denies servers that could not be listed, with the reason, and keeps listed servers' policies", () => {
    const now = "2026-03-02T09:00:00.000Z";
    const add = (name: string) =>
      upsertSourceEntry(fx.cat.sqlite, { sourceId: "official", sourceKey: name, entry: entry(name), raw: {} }, now);
    const never = add("io.github.acme/never-probed");
    const failed = add("io.github.acme/server-broken");
    ingestProbe(
      fx.cat.sqlite,
      failed.serverId,
      { ...probeOk([]), outcome: "timeout", error: "probe: timed out after 30 s", tools: [] },
      now,
    );
    const out = join(fx.dir, "out");
    const r = writeAllPolicies(fx.cat.sqlite, out, {});
    expect(r.files).toBe(r.servers * POLICY_FORMATS.length);
    const read = (format: (typeof POLICY_FORMATS)[number], slug: string) =>
      readFileSync(join(out, "policies", policyPath(format, slug)), "utf8");
    const slug = (id: number) =>
      (fx.cat.sqlite.prepare("SELECT slug FROM servers WHERE id = ?").get(id) as { slug: string }).slug;
    const broken = JSON.parse(read("claude-code", slug(failed.serverId)));
    expect(broken.permissions.deny).toEqual(["mcp__broken"]);
    expect(read("policy.json", slug(failed.serverId))).toMatch(/could not be listed \(the last probe .* ended timeout/);
    expect(read("codex", slug(failed.serverId))).toMatch(/^enabled_tools = \[\]$/m);
    expect(read("policy.json", slug(never.serverId))).toMatch(/could not be listed \(it has not been probed yet\)/);
    // A listed server is unchanged: its tools are decided one by one.
    const files = JSON.parse(read("claude-code", slug(fx.files)));
    expect(files.permissions.allow.length).toBeGreaterThan(0);
  });
});
