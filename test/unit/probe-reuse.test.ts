import { describe, expect, it } from "vitest";
import type { ServerEntry } from "../../src/core/types.js";
import { type LastProbe, probeKey, reusableListing } from "../../src/pipeline/stages.js";

const opts = {
  cacheDir: "/tmp/x",
  timeoutMs: 1000,
  installTimeoutMs: 1000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 512,
};
const entry = (version?: string, extra: Partial<ServerEntry> = {}): ServerEntry => ({
  name: "io.example/s",
  packages: [{ registryType: "npm", identifier: "s-mcp", ...(version ? { version } : {}) }],
  remotes: [],
  ...extra,
});
const now = Date.parse("2026-12-02T12:00:00Z");
const last = (e: ServerEntry, over: Partial<LastProbe> = {}): LastProbe => ({
  outcome: "ok",
  transport: "stdio",
  startedAt: "2026-12-02T11:00:00Z",
  launch: { probeKey: probeKey(e, opts) },
  ...over,
});
const DAY = 86_400_000;

describe("reusing the last listing instead of relaunching", () => {
  it("reuses a recent successful stdio listing of a pinned package made with the same key", () => {
    const e = entry("1.2.3");
    expect(reusableListing(last(e), e, probeKey(e, opts), DAY, now)).toMatch(/unchanged since its listing 60 min ago/);
  });

  it("relaunches when anything the listing depends on differs", () => {
    const e = entry("1.2.3");
    const key = probeKey(e, opts);
    expect(reusableListing(undefined, e, key, DAY, now)).toBeUndefined();
    expect(reusableListing(last(e, { outcome: "crashed" }), e, key, DAY, now)).toBeUndefined();
    expect(reusableListing(last(e, { transport: "streamable-http" }), e, key, DAY, now)).toBeUndefined();
    expect(reusableListing(last(e, { startedAt: "2026-11-30T12:00:00Z" }), e, key, DAY, now)).toBeUndefined();
    expect(reusableListing(last(e), e, key, 0, now)).toBeUndefined();
    // A listing from before the key existed, or from another launch spec or setting.
    expect(reusableListing(last(e, { launch: {} }), e, key, DAY, now)).toBeUndefined();
    const moved = entry("1.2.4");
    expect(reusableListing(last(e), moved, probeKey(moved, opts), DAY, now)).toBeUndefined();
    expect(probeKey(e, { ...opts, allowInstallScripts: true })).not.toBe(key);
    const withEnv = entry("1.2.3");
    withEnv.packages[0]!.environmentVariables = [{ name: "API_KEY" }];
    expect(probeKey(withEnv, opts)).not.toBe(key);
  });

  it("never reuses a listing of an unpinned package: a tag or range may name new code", () => {
    for (const v of [undefined, "latest", "^1.2.3", "1.x"]) {
      const e = entry(v);
      expect(reusableListing(last(e), e, probeKey(e, opts), DAY, now), String(v)).toBeUndefined();
    }
    const py: ServerEntry = {
      name: "p",
      packages: [{ registryType: "pypi", identifier: "p", version: "0.3.1" }],
      remotes: [],
    };
    expect(reusableListing(last(py), py, probeKey(py, opts), DAY, now)).toBeDefined();
  });
});
