import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeResult } from "../../src/core/types.js";
import { probe } from "../../src/mcp/index.js";

/**
 * Probes a fixture MCP server script (test/fixtures/servers/*.mjs) sandboxed, with no network and no install
 * scripts — the settings every security test that launches its own fixture uses. `env` picks the fixture's variant.
 */
export function probeFixtureServer(
  fixture: string,
  env: Record<string, string>,
  cacheName: string,
): Promise<ProbeResult> {
  return probe(
    { kind: "command", command: process.execPath, args: [fixture], env },
    {
      cacheDir: join(tmpdir(), cacheName),
      timeoutMs: 30_000,
      installTimeoutMs: 30_000,
      allowInstallScripts: false,
      allowUnsandboxed: false,
      allowPrivateNetwork: false,
      memoryLimitMb: 2048,
    },
  );
}
