import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { crawlSource, createAdapter } from "../../src/registries/index.js";
import {
  count,
  FIXTURES,
  fixture,
  loopback,
  officialHandler,
  officialSeed,
  quickHttp,
  SHARED,
  sendJson,
  tempCatalog,
  wrapOfficial,
} from "./registries-helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Replay {
  pages: Record<string, unknown>;
  details?: Record<string, unknown>;
}

/** Replays a constructed fixture: the page is chosen by one query parameter, details by a path suffix. */
async function replay(
  file: string,
  route: { list: string; param: string; first: string; detail?: string; auth?: string },
) {
  const f = fixture<Replay>(file);
  const srv = await loopback((url, req, res) => {
    if (route.auth && req.headers.authorization !== `Bearer ${route.auth}`)
      return sendJson(res, { error: "auth" }, 401);
    if (url.pathname === route.list) {
      const page = f.pages[url.searchParams.get(route.param) ?? route.first];
      return page ? sendJson(res, page) : sendJson(res, { error: "no such page" }, 404);
    }
    if (route.detail && url.pathname.startsWith(route.detail)) {
      const key = decodeURIComponent(url.pathname.slice(route.detail.length));
      const d = f.details?.[key];
      return d ? sendJson(res, d) : sendJson(res, { error: "not found" }, 404);
    }
    sendJson(res, { error: "not found" }, 404);
  });
  cleanups.push(srv.close);
  return srv;
}

const smitheryRoute = { list: "/servers", param: "page", first: "1", detail: "/servers/", auth: "test-key" };
const glamaRoute = { list: "/api/mcp/v1/servers", param: "after", first: "", detail: "/api/mcp/v1/servers/" };
const pulseRoute = { list: "/v0beta/servers", param: "offset", first: "0" };
const npmRoute = { list: "/-/v1/search", param: "from", first: "0", detail: "/" };

function catalog() {
  const cat = tempCatalog();
  cleanups.push(cat.dispose);
  return cat;
}

const sourcesOf = (cat: ReturnType<typeof tempCatalog>, name: string) =>
  (
    cat.sqlite
      .prepare(
        "SELECT src.source_id AS id FROM sources src JOIN servers s ON s.id = src.server_id WHERE s.name = ? ORDER BY 1",
      )
      .all(name) as { id: string }[]
  ).map((r) => r.id);

const reported = (cat: ReturnType<typeof tempCatalog>, sourceId: string, name: string) =>
  (
    cat.sqlite
      .prepare(
        `SELECT t.name FROM reported_tools t JOIN sources src ON src.server_id = t.server_id AND src.source_id = t.source_id
         WHERE t.source_id = ? AND src.source_key = ? ORDER BY 1`,
      )
      .all(sourceId, name) as { name: string }[]
  ).map((r) => r.name);

describe("one adapter per source, each on a loopback replay", () => {
  it("smithery: pages with the bearer key; deployed servers' detail gives remotes and reported tools", async () => {
    const srv = await replay("smithery.json", smitheryRoute);
    const cat = catalog();
    const adapter = createAdapter("smithery", { baseUrl: srv.base, apiKey: "test-key" });
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, pages: 2, entries: 3, errors: 0 });
    expect(srv.requests.every((r) => r.headers.authorization === "Bearer test-key")).toBe(true);
    // Only deployed servers are asked for their detail.
    expect(srv.requests.map((r) => r.url.pathname).filter((p) => p !== "/servers")).toEqual([
      "/servers/@21st-dev/magic-mcp",
      "/servers/exa",
    ]);
    expect(reported(cat, "smithery", "@21st-dev/magic-mcp")).toEqual(["21st_magic_component_builder", "logo_search"]);
    const exa = cat.sqlite.prepare("SELECT remotes FROM servers WHERE name = 'smithery:exa'").get() as {
      remotes: string;
    };
    expect(JSON.parse(exa.remotes)[0]).toMatchObject({ url: "https://server.smithery.ai/exa" });
    const pop = cat.sqlite.prepare("SELECT popularity FROM sources WHERE source_key = 'exa'").get() as {
      popularity: number;
    };
    expect(pop.popularity).toBe(230000);
    expect(() => createAdapter("smithery", { baseUrl: srv.base })).toThrow(/needs an API key/);
  });

  it("glama: first/after cursor pages; detail adds tools, license and repository", async () => {
    const srv = await replay("glama.json", glamaRoute);
    const cat = catalog();
    const stats = await crawlSource(cat.sqlite, createAdapter("glama", { baseUrl: srv.base }), { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, pages: 2, entries: 3, errors: 0 });
    expect(srv.requests[0]!.url.searchParams.get("first")).toBe("100");
    expect(srv.requests.some((r) => r.url.searchParams.get("after") === "Y3Vyc29yOjI=")).toBe(true);
    expect(reported(cat, "glama", "f6g7h8i9j0")).toEqual(["call-actor", "search-actors"]);
    const raw = cat.sqlite.prepare("SELECT raw FROM sources WHERE source_key = 'f6g7h8i9j0'").get() as { raw: string };
    expect(JSON.parse(raw.raw).spdxLicense.name).toBe("MIT License");
  });

  it("pulsemcp: count_per_page/offset pages with popularity, packages and remotes", async () => {
    const srv = await replay("pulsemcp.json", pulseRoute);
    const cat = catalog();
    const stats = await crawlSource(cat.sqlite, createAdapter("pulsemcp", { baseUrl: srv.base }), {
      http: quickHttp(),
    });
    expect(stats).toMatchObject({ complete: true, pages: 2, entries: 3, errors: 0 });
    expect(srv.requests.map((r) => r.url.searchParams.get("offset"))).toEqual(["0", "2"]);
    const rows = cat.sqlite.prepare("SELECT source_key, popularity FROM sources ORDER BY source_key").all();
    expect(rows).toEqual([
      { source_key: "bankless-onchain", popularity: 45 },
      { source_key: "circleci", popularity: 78 },
      { source_key: "linear", popularity: null },
    ]);
    const linear = cat.sqlite.prepare("SELECT remotes FROM servers WHERE name = 'pulsemcp:linear'").get() as {
      remotes: string;
    };
    expect(JSON.parse(linear.remotes)).toEqual([{ type: "sse", url: "https://mcp.linear.app/sse" }]);
  });

  it("npm: search hits confirmed as MCP servers by their packument (keywords, mcpName)", async () => {
    const srv = await replay("npm.json", npmRoute);
    const cat = catalog();
    const stats = await crawlSource(cat.sqlite, createAdapter("npm", { baseUrl: srv.base }), { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, pages: 2, entries: 3, errors: 0 });
    expect(srv.requests[0]!.url.searchParams.get("text")).toBe("keywords:mcp");
    const keys = (
      cat.sqlite.prepare("SELECT source_key FROM sources ORDER BY 1").all() as { source_key: string }[]
    ).map((r) => r.source_key);
    // mcp-typings-helper dropped its MCP keywords in its latest version: a library, not a server.
    expect(keys).toEqual(["@21st-dev/magic", "@acme/weather-mcp", "agentql-mcp"]);
    const w = cat.sqlite
      .prepare("SELECT s.repository_url AS repo, s.version FROM servers s WHERE name = 'npm:@acme/weather-mcp'")
      .get();
    expect(w).toEqual({ repo: "git+https://github.com/acme/weather-mcp.git", version: "0.3.1" });
  });

  it("docker: the shared catalog checkout, with the tools Docker reports", async () => {
    const cat = catalog();
    const adapter = createAdapter("docker", { path: join(SHARED, "docker-mcp-registry") });
    const stats = await crawlSource(cat.sqlite, adapter);
    expect(stats).toMatchObject({ complete: true, pages: 1, entries: 328, skipped: 0, errors: 0 });
    expect(reported(cat, "docker", "alfresco")).toContain("search_nodes");
    // tools.json arguments[] become a JSON Schema; the original fields are kept in raw.
    const astro = cat.sqlite
      .prepare(
        "SELECT t.raw FROM reported_tools t JOIN sources s ON s.server_id = t.server_id WHERE s.source_key = 'astro-docs'",
      )
      .get() as { raw: string };
    expect(JSON.parse(astro.raw).inputSchema).toEqual({
      type: "object",
      properties: { query: { type: "string", description: "Search query" } },
      required: ["query"],
    });
    expect(reported(cat, "docker", "curl")).toEqual(["curl"]);
    expect(count(cat, "SELECT count(*) n FROM reported_tools WHERE source_id = 'docker'")).toBeGreaterThan(700);
    const remote = cat.sqlite.prepare("SELECT remotes FROM servers WHERE name = 'docker:asana'").get() as {
      remotes: string;
    };
    expect(JSON.parse(remote.remotes)[0]).toMatchObject({ type: "sse", url: "https://mcp.asana.com/sse" });
  });

  it("docker: a .tar.gz of the repository, from a file and over HTTP with a conditional re-fetch", async () => {
    const cat = catalog();
    const src = join(SHARED, "docker-mcp-registry");
    const archive = join(cat.dir, "mcp-registry.tar.gz");
    execFileSync("tar", [
      "czf",
      archive,
      "-C",
      src,
      "--transform",
      "s,^,mcp-registry-main/,",
      "servers/alfresco",
      "servers/asana",
      "servers/curl",
    ]);
    const fromFile = await crawlSource(cat.sqlite, createAdapter("docker", { path: archive }));
    expect(fromFile).toMatchObject({ complete: true, entries: 3 });
    expect(reported(cat, "docker", "alfresco")).toContain("search_nodes");

    const bytes = readFileSync(archive);
    const srv = await loopback((_url, req, res) => {
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        return res.end();
      }
      res.writeHead(200, { "content-type": "application/gzip", etag: '"v1"' });
      return res.end(bytes);
    });
    cleanups.push(srv.close);
    const cat2 = catalog();
    const adapter = createAdapter("docker", { baseUrl: `${srv.base}/archive.tar.gz` });
    expect(await crawlSource(cat2.sqlite, adapter)).toMatchObject({ complete: true, entries: 3 });
    const again = await crawlSource(cat2.sqlite, adapter);
    expect(again).toMatchObject({ complete: true, notModifiedPages: 1, markedRemoved: 0 });
    expect(count(cat2, "SELECT count(*) n FROM sources WHERE status = 'active'")).toBe(3);
  });

  it("awesome: README list items parsed from the Markdown AST into repositories", async () => {
    const cat = catalog();
    const readme = readFileSync(join(FIXTURES, "awesome-README.md"), "utf8");
    const srv = await loopback((_url, _req, res) => {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end(readme);
    });
    cleanups.push(srv.close);
    const stats = await crawlSource(cat.sqlite, createAdapter("awesome", { baseUrl: srv.base }));
    expect(srv.requests[0]!.url.pathname).toBe("/README.md");
    expect(stats).toMatchObject({ complete: true, entries: 7, errors: 0 });
    const keys = (
      cat.sqlite.prepare("SELECT source_key FROM sources ORDER BY 1").all() as { source_key: string }[]
    ).map((r) => r.source_key);
    expect(keys).toEqual([
      "github.com/21st-dev/magic-mcp",
      "github.com/apify/actors-mcp-server",
      "github.com/datastax/astra-db-mcp",
      "github.com/evil/evil-mcp",
      "github.com/modelcontextprotocol/servers/src/postgres",
      "github.com/modelcontextprotocol/servers/src/sqlite",
      "github.com/tinyfish-io/agentql-mcp",
    ]);
    const evil = cat.sqlite.prepare("SELECT title FROM servers WHERE name = 'awesome:evil/evil-mcp'").get() as {
      title: string;
    };
    expect(evil.title).toBe("evil");
  });
});

describe("merge across sources", () => {
  it("servers listed by several sources become one server each, with every source attached", async () => {
    const cat = catalog();
    const official = await loopback(officialHandler(officialSeed().map((s) => wrapOfficial(s))));
    cleanups.push(official.close);
    const readmePath = join(cat.dir, "README.md");
    writeFileSync(readmePath, readFileSync(join(FIXTURES, "awesome-README.md")));
    const smithery = await replay("smithery.json", smitheryRoute);
    const glama = await replay("glama.json", glamaRoute);
    const pulse = await replay("pulsemcp.json", pulseRoute);
    const npm = await replay("npm.json", npmRoute);
    const http = quickHttp();
    const run = (id: string, o: Parameters<typeof createAdapter>[1]) =>
      crawlSource(cat.sqlite, createAdapter(id, o), { http });

    await run("official", { baseUrl: official.base });
    const before = count(cat, "SELECT count(*) n FROM servers");
    await run("glama", { baseUrl: glama.base });
    await run("npm", { baseUrl: npm.base });
    await run("pulsemcp", { baseUrl: pulse.base });
    await run("smithery", { baseUrl: smithery.base, apiKey: "test-key" });
    await run("awesome", { path: readmePath });

    expect(sourcesOf(cat, "io.github.21st-dev/magic-mcp")).toEqual(["awesome", "glama", "npm", "official", "smithery"]);
    expect(sourcesOf(cat, "io.github.apify/actors-mcp-server")).toEqual(["awesome", "glama", "official"]);
    expect(sourcesOf(cat, "io.github.datastax/astra-db-mcp")).toEqual(["awesome", "glama", "official"]);
    expect(sourcesOf(cat, "io.github.tinyfish-io/agentql-mcp")).toEqual(["awesome", "npm", "official", "smithery"]);
    expect(sourcesOf(cat, "io.github.circleci-public/mcp-server-circleci")).toEqual(["official", "pulsemcp"]);
    expect(sourcesOf(cat, "io.github.bankless/onchain-mcp")).toEqual(["official", "pulsemcp"]);
    // Only servers no other source knows are new: exa, Linear, the weather package, two monorepo folders, evil.
    expect(count(cat, "SELECT count(*) n FROM servers") - before).toBe(6);
    // Both sources' reported tools sit beside each other on the one server.
    const tools = cat.sqlite
      .prepare(
        "SELECT t.source_id AS s, t.name FROM reported_tools t JOIN servers v ON v.id = t.server_id WHERE v.name = ? ORDER BY 1, 2",
      )
      .all("io.github.21st-dev/magic-mcp");
    expect(tools).toEqual([
      { s: "glama", name: "21st_magic_component_builder" },
      { s: "smithery", name: "21st_magic_component_builder" },
      { s: "smithery", name: "logo_search" },
    ]);
    // The official description stands; other sources only fill gaps.
    const magic = officialSeed().find((s) => s.name === "io.github.21st-dev/magic-mcp")!;
    const row = cat.sqlite.prepare("SELECT description FROM servers WHERE name = ?").get(magic.name) as {
      description: string;
    };
    expect(row.description).toBe(magic.description);
  });
});
