import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerEntry } from "../../src/core/types.js";
import { upsertSourceEntry } from "../../src/store/catalog.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";
import { packageName, resolveServer } from "../../src/store/resolve.js";
import { tempDir } from "../fixtures/configs/policy-test-kit.js";

let catalog: Catalog;

function add(entry: Record<string, unknown> & { name: string }, sourceId = "official", sourceKey = entry.name) {
  return upsertSourceEntry(catalog.sqlite, {
    sourceId,
    sourceKey,
    entry: { packages: [], remotes: [], ...entry } as unknown as ServerEntry,
    raw: {},
  }).serverId;
}

const MONO = "https://github.com/modelcontextprotocol/servers";

beforeAll(() => {
  catalog = openCatalog(join(tempDir("resolve-"), "catalog.db"));
  add({
    name: "io.github.modelcontextprotocol/server-filesystem",
    packages: [{ registryType: "npm", identifier: "@modelcontextprotocol/server-filesystem", version: "1.0.0" }],
    repository: { url: MONO, subfolder: "src/filesystem" },
  });
  add({
    name: "io.github.modelcontextprotocol/server-git",
    packages: [{ registryType: "pypi", identifier: "mcp_server_git", version: "0.6.2" }],
    repository: { url: MONO, subfolder: "src/git" },
  });
  add({
    name: "io.github.acme/fetcher",
    packages: [{ registryType: "npm", identifier: "acme-fetch-mcp" }],
    repository: { url: "git+https://github.com/Acme/fetcher.git" },
  });
  add({
    name: "io.github.other/fetcher",
    packages: [{ registryType: "npm", identifier: "other-fetcher" }],
  });
  add({ name: "SQLite-Explorer" }, "docker", "sqlite");
});
afterAll(() => catalog?.close());

const found = (ref: string) => {
  const r = resolveServer(catalog.sqlite, ref);
  return r.kind === "found" ? `${r.matchedBy}:${r.server.name}` : r.kind;
};

describe("packageName", () => {
  it("drops versions and launchers", () => {
    expect(packageName("@modelcontextprotocol/server-filesystem@2025.8.21")).toBe(
      "@modelcontextprotocol/server-filesystem",
    );
    expect(packageName("npx -y @Scope/Pkg@latest")).toBe("@scope/pkg");
    expect(packageName("uvx mcp-server-git==0.6.2")).toBe("mcp-server-git");
    expect(packageName("mcp-server-git[extra]>=1")).toBe("mcp-server-git");
    expect(packageName("ghcr.io/acme/img:1.2")).toBe("ghcr.io/acme/img");
  });
});

describe("resolveServer", () => {
  it("finds a server by every identifier users have", () => {
    const fs = "io.github.modelcontextprotocol/server-filesystem";
    expect(found(fs)).toBe(`name:${fs}`);
    expect(found(fs.toUpperCase())).toBe(`name:${fs}`);
    expect(found("@modelcontextprotocol/server-filesystem")).toBe(`package:${fs}`);
    expect(found("@ModelContextProtocol/server-filesystem@2025.8.21")).toBe(`package:${fs}`);
    expect(found("npx -y @modelcontextprotocol/server-filesystem")).toBe(`package:${fs}`);
    expect(found("server-filesystem")).toBe(`suffix:${fs}`);
    expect(found("filesystem")).toBe(`suffix:${fs}`);
    expect(found(`${MONO}/tree/main/src/filesystem`)).toBe(`repository:${fs}`);
    // PyPI names compare as PEP 503 normalises them.
    expect(found("mcp-server-git")).toBe("package:io.github.modelcontextprotocol/server-git");
    expect(found("MCP.Server_Git==0.6")).toBe("package:io.github.modelcontextprotocol/server-git");
    expect(found("github.com/acme/fetcher")).toBe("repository:io.github.acme/fetcher");
    expect(found("git@github.com:Acme/fetcher.git")).toBe("repository:io.github.acme/fetcher");
    expect(found("acme-fetch-mcp@1.0.0")).toBe("package:io.github.acme/fetcher");
    // The key another registry lists it under.
    expect(found("SQLITE")).toBe("registry-key:SQLite-Explorer");
    const id = resolveServer(catalog.sqlite, "filesystem");
    if (id.kind !== "found") throw new Error("expected found");
    expect(found(String(id.server.id))).toBe(`id:${fs}`);
  });

  it("reports a shared suffix or a monorepo as ambiguous, with the candidates", () => {
    const r = resolveServer(catalog.sqlite, "fetcher");
    expect(r.kind).toBe("ambiguous");
    if (r.kind === "ambiguous")
      expect(r.candidates.map((c) => c.name).sort()).toEqual(["io.github.acme/fetcher", "io.github.other/fetcher"]);
    const m = resolveServer(catalog.sqlite, MONO);
    expect(m).toMatchObject({ kind: "ambiguous", matchedBy: "repository" });
    if (m.kind === "ambiguous") expect(m.candidates).toHaveLength(2);
  });

  it("suggests close names for an unknown one", () => {
    const r = resolveServer(catalog.sqlite, "filesytem");
    expect(r.kind).toBe("not_found");
    if (r.kind === "not_found") expect(r.suggestions[0]?.name).toBe("io.github.modelcontextprotocol/server-filesystem");
    const none = resolveServer(catalog.sqlite, "zzzzzzzzzzzz");
    expect(none).toEqual({ kind: "not_found", suggestions: [] });
    // LIKE wildcards in the query are literal.
    expect(resolveServer(catalog.sqlite, "%").kind).toBe("not_found");
  });
});
