import { createServer, type Server } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProbeOptions, probe } from "../../src/mcp/index.js";
import { marker, processesWith, SERVERS_DIR, straysAfter } from "../fixtures/servers/helpers.js";

const base: ProbeOptions = {
  cacheDir: join(tmpdir(), "mcp-census-test-cache"),
  timeoutMs: 20_000,
  installTimeoutMs: 60_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 1024,
};

/** Probes one fixture in the sandbox and asserts that none of its processes survive. */
async function zoo(
  file: string,
  opts: Partial<ProbeOptions> = {},
  extraArgs: string[] = [],
  whileRunning?: (mark: string) => void,
) {
  const mark = marker(file);
  const sampler = whileRunning ? setInterval(() => whileRunning(mark), 100) : undefined;
  const result = await probe(
    {
      kind: "command",
      command: process.execPath,
      args: [join(SERVERS_DIR, file), ...extraArgs, mark],
      cwd: SERVERS_DIR,
    },
    { ...base, ...opts },
  );
  clearInterval(sampler);
  expect(await straysAfter(mark), `stray processes of ${file}`).toEqual([]);
  return result;
}

describe("hostile stdio servers in the sandbox", () => {
  it("times out a server that never answers initialize (and ignores SIGTERM)", async () => {
    const r = await zoo("hang-initialize.mjs", { timeoutMs: 2500 });
    expect(r.outcome).toBe("timeout");
    expect(r.error).toMatch(/initialize/);
    expect(r.launch.sandbox).toBe("bwrap");
    expect(r.durationMs).toBeLessThan(8000);
  });

  it("reports a crash in the middle of a list with the stderr tail", async () => {
    const r = await zoo("crash-mid-list.mjs");
    expect(r.outcome).toBe("crashed");
    expect(r.error).toMatch(/while listing \(exit code 3\)/);
    expect(r.stderrTail).toContain("lost connection to the database");
    expect(r.tools.map((t) => t.name)).toEqual(["first", "second"]);
  });

  it("stops a server that floods stdout at the output cap", async () => {
    const r = await zoo("flood-stdout.mjs", { stdioLimits: { maxStdoutBytes: 4 * 1024 * 1024 } });
    expect(r.outcome).toBe("protocol_error");
    expect(r.error).toMatch(/more than 4194304 bytes to stdout/);
  });

  it("lists 5,000 tools over 50 pages", async () => {
    const r = await zoo("many-tools.mjs");
    expect(r.outcome).toBe("ok");
    expect(r.tools).toHaveLength(5000);
    expect(r.timings.toolPages).toBe(50);
    expect(new Set(r.tools.map((t) => t.name)).size).toBe(5000);
    expect(r.tools[4999]?.name).toBe("tool_4999");
  });

  it("gives up on a cursor that never ends, keeping what it got", async () => {
    const r = await zoo("endless-cursor.mjs");
    expect(r.outcome).toBe("protocol_error");
    expect(r.error).toMatch(/more pages after 200/);
    expect(r.tools).toHaveLength(200);
  });

  it("detects a cursor that comes back", async () => {
    const r = await zoo("endless-cursor.mjs", {}, ["repeat"]);
    expect(r.outcome).toBe("protocol_error");
    expect(r.error).toMatch(/repeated cursor/);
    expect(r.tools.length).toBeLessThanOrEqual(4);
  });

  it("calls non-JSON garbage a protocol error, not a timeout", async () => {
    const r = await zoo("garbage.mjs", { timeoutMs: 2500 });
    expect(r.outcome).toBe("protocol_error");
    expect(r.error).toMatch(/no JSON-RPC answer/);
    expect(r.error).toContain("Welcome to SuperServer");
  });

  it("skips log lines on stdout and keeps tools the SDK would reject", async () => {
    const r = await zoo("log-lines.mjs");
    expect(r.outcome).toBe("ok");
    expect(r.protocolVersion).toBe("2024-11-05");
    expect(r.serverInfo).toEqual({ name: "old-style" });
    expect(r.tools.map((t) => t.name)).toEqual(["no_type", "no_schema", "array_schema", "fine"]);
    expect(r.tools[0]?.inputSchema).toEqual({ properties: { q: { type: "string" } } });
    expect(r.warnings).toContain('tool "no_type" inputSchema type is null, not "object"');
    expect(r.warnings).toContain('tool "no_schema" has no inputSchema');
    expect(r.warnings).toContain('tool "array_schema" inputSchema is not an object');
    expect(r.warnings).toContain("tool #4 has no name; skipped");
  });

  it("truncates a 5 MB description with a warning", async () => {
    const r = await zoo("huge-description.mjs");
    expect(r.outcome).toBe("ok");
    const big = r.tools.find((t) => t.name === "big");
    expect(big?.description?.length).toBeLessThan(70 * 1024);
    expect(big?.description).toMatch(/truncated by mcp-census: 5242880 characters/);
    expect(r.warnings.some((w) => /"big" description is 5242880 characters/.test(w))).toBe(true);
    expect(r.tools.find((t) => t.name === "small")?.description).toBe("tool small");
  });

  it("keeps tool names with HTML and script verbatim", async () => {
    const r = await zoo("html-names.mjs");
    expect(r.outcome).toBe("ok");
    expect(r.tools.map((t) => t.name)).toEqual([
      "<script>alert(1)</script>",
      '<img src=x onerror="alert(2)">',
      "normal_tool",
      "a\u202eb",
    ]);
    expect(r.instructions).toBe("<b>bold</b><script>document.cookie</script>");
    expect(r.prompts[0]?.name).toBe("<svg onload=alert(4)>");
    expect(r.warnings.filter((w) => /naming rule/.test(w))).toHaveLength(3);
  });

  it("kills a server and a child that ignore SIGTERM and stdin closing", async () => {
    let alive = 0;
    const r = await zoo("sigterm-child.mjs", {}, [], (mark) => {
      alive = Math.max(alive, processesWith(mark).length);
    });
    // bwrap (outside and as pid 1 inside), prlimit/node server and its child: the check sees the sandboxed tree.
    expect(alive).toBeGreaterThanOrEqual(4);
    expect(r.outcome).toBe("ok");
    expect(r.tools.map((t) => t.name)).toEqual(["stubborn"]);
  });

  it("kills the same stubborn tree when run unsandboxed (process group kill)", async () => {
    let alive = 0;
    const r = await zoo("sigterm-child.mjs", { allowUnsandboxed: true, forceUnsandboxed: true }, [], (mark) => {
      alive = Math.max(alive, processesWith(mark).length);
    });
    expect(alive).toBe(2);
    expect(r.outcome).toBe("ok");
    expect(r.launch.sandbox).toBe("none");
  });
});

describe("network isolation", () => {
  let server: Server;
  let port = 0;
  let hostIp = "";
  beforeAll(async () => {
    hostIp =
      Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === "IPv4" && !a.internal)?.address ?? "";
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("a sandboxed server cannot reach a non-loopback address nor the host's loopback", async () => {
    expect(hostIp, "needs a non-loopback IPv4 interface").not.toBe("");
    const targets = [`${hostIp}:${port}`, `127.0.0.1:${port}`, `1.1.1.1:443`];
    const r = await zoo("network-probe.mjs", {}, targets);
    expect(r.outcome).toBe("ok");
    const seen = r.tools.map((t) => t.description);
    expect(seen).toHaveLength(3);
    for (const d of seen) expect(d).toMatch(/ error (ENETUNREACH|ECONNREFUSED|EHOSTUNREACH)$/);
    expect(seen[0]).toMatch(/ENETUNREACH/);
  });

  it("the same server outside the sandbox does reach the host (so the check above can fail)", async () => {
    const r = await zoo("network-probe.mjs", { allowUnsandboxed: true, forceUnsandboxed: true }, [`${hostIp}:${port}`]);
    expect(r.tools[0]?.description).toBe(`${hostIp}:${port} connected`);
  });
});
