import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { escapeHtml, renderDocsPage } from "../../src/api/docs-page.js";
import { openApiDocument } from "../../src/api/openapi.js";

type Json = Record<string, unknown>;

const doc = openApiDocument();
const schemas = (doc.components as Json).schemas as Record<string, Json>;

/** Every $ref anywhere in a value. */
function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refs(x, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string") out.push(x);
      else refs(x, out);
    }
  }
  return out;
}

describe("OpenAPI document", () => {
  it("is structurally valid OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
    const info = doc.info as Json;
    expect(typeof info.title).toBe("string");
    expect(typeof info.version).toBe("string");
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      expect(path.startsWith("/")).toBe(true);
      const placeholders = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(["get", "post", "put", "delete", "patch", "head", "options"]).toContain(method);
        expect(typeof op.operationId).toBe("string");
        expect(ids.has(op.operationId as string), `duplicate ${op.operationId}`).toBe(false);
        ids.add(op.operationId as string);
        const params = op.parameters as Json[];
        // Every path placeholder has a required path parameter, and no path parameter is invented.
        const pathParams = params.filter((p) => p.in === "path").map((p) => p.name);
        expect(pathParams.sort(), path).toEqual([...placeholders].sort());
        for (const p of params) {
          expect(["query", "path", "header", "cookie"]).toContain(p.in);
          if (p.in === "path") expect(p.required).toBe(true);
          expect(typeof p.name).toBe("string");
          expect(typeof p.description, `${path} ${p.name}`).toBe("string");
          expect(p.schema, `${path} ${p.name}`).toBeTypeOf("object");
        }
        const names = params.map((p) => `${p.in}:${p.name}`);
        expect(new Set(names).size).toBe(names.length);
        const responses = op.responses as Record<string, Json>;
        expect(Object.keys(responses).length).toBeGreaterThan(0);
        expect(responses["200"], path).toBeDefined();
        for (const [code, r] of Object.entries(responses)) {
          expect(code).toMatch(/^[1-5]\d\d$/);
          expect(typeof r.description).toBe("string");
        }
      }
    }
    for (const r of refs(doc)) {
      expect(r.startsWith("#/components/schemas/")).toBe(true);
      expect(schemas[r.split("/").pop()!], r).toBeDefined();
    }
    for (const [name, s] of Object.entries(schemas)) {
      if (Array.isArray(s.required)) {
        for (const k of s.required as string[]) expect((s.properties as Json)[k], `${name}.${k}`).toBeDefined();
      }
    }
  });

  it("documents exactly the routes the app serves", () => {
    const app = createApp({ sqlite: new Database(":memory:") });
    const served = new Set(
      app.routes
        // Each path has one handler for all methods (it answers 405 + Allow for the ones it does not serve).
        .filter((r) => (r.method === "GET" || r.method === "ALL") && r.path !== "/*" && r.path !== "/mcp")
        .map((r) => r.path.replace(/:(\w+)/g, "{$1}")),
    );
    expect([...served].sort()).toEqual(Object.keys(doc.paths as Json).sort());
  });

  it("documents every query parameter the app accepts (unknown ones get a 400)", async () => {
    const app = createApp({ sqlite: new Database(":memory:") });
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      if (path.includes("{")) continue;
      const params = ((item.get as Json).parameters as Json[]).filter((p) => p.in === "query").map((p) => p.name);
      const res = await app.request(`${path}?undocumented_param=1`);
      if (path.startsWith("/v1/")) {
        expect(res.status, path).toBe(400);
        expect(((await res.json()) as { error: { parameter: string } }).error.parameter).toBe("undocumented_param");
      }
      expect(params).not.toContain("undocumented_param");
    }
  });

  it("readiness fails on a database without the catalog's migrations", async () => {
    const app = createApp({ sqlite: new Database(":memory:") });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/^0 of \d+ migrations applied$/);
  });
});

describe("docs page", () => {
  it("escapes text from the document", () => {
    const html = renderDocsPage({
      openapi: "3.1.0",
      info: { title: "<script>alert(1)</script>", version: "1", description: '"quoted" & <b>' },
      paths: {
        "/x": { get: { operationId: "x", summary: "<img src=x onerror=alert(1)>", parameters: [], responses: {} } },
      },
    });
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img");
    expect(html).toContain(escapeHtml("<img src=x onerror=alert(1)>"));
  });
});
