import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "../../src/api/app.js";
import { openApiDocument } from "../../src/api/openapi.js";
import { buildTestCatalog, type TestCatalog } from "./api-fixture.js";

/*
 * The OpenAPI document's response schemas checked against the API's real answers over a real catalog: every field an
 * answer has is documented (objects are closed for the check), every documented required field is there, and every
 * value has the documented type and, for the vocabulary, the documented words. The document's components are made
 * from zod schemas over core/vocabulary's types (api/openapi.ts); this keeps them true to what the API sends.
 */

type Json = Record<string, unknown>;
const doc = openApiDocument();
const components = (doc.components as Json).schemas as Record<string, Json>;

/** A component with its $refs inlined and every object with properties closed to undocumented fields. */
function closed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(closed);
  if (!v || typeof v !== "object") return v;
  const o = v as Json;
  if (typeof o.$ref === "string") return closed(components[o.$ref.split("/").pop()!]);
  const out: Json = Object.fromEntries(Object.entries(o).map(([k, x]) => [k, closed(x)]));
  if (o.type === "object" && o.properties && o.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const schemaOf = (name: string) => z.fromJSONSchema(closed(components[name]) as never);

let t: TestCatalog;
let app: ReturnType<typeof createApp>;
beforeAll(() => {
  t = buildTestCatalog();
  // A change event on a real tool, so the feed and that tool's detail carry one.
  const tool = t.catalog.sqlite.prepare("SELECT server_id, name FROM tools ORDER BY id LIMIT 1").get() as {
    server_id: number;
    name: string;
  };
  t.catalog.sqlite
    .prepare(
      `INSERT INTO changes (server_id, at, tool_name, kind, severity, reason, from_hash, to_hash, details, dedupe_key)
       VALUES (?, '2026-03-01T00:00:00Z', ?, 'description_changed', 'medium', 'test row', 'a', 'b', '{"x":1}', 'openapi-1')`,
    )
    .run(tool.server_id, tool.name);
  app = createApp({ sqlite: t.catalog.sqlite });
});
afterAll(() => t.close());

async function answer(path: string): Promise<unknown> {
  const res = await app.request(path);
  expect(res.status, path).toBe(200);
  return res.json();
}

function expectValid(component: string, body: unknown, what: string): void {
  const r = schemaOf(component).safeParse(body);
  expect(r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`), what).toEqual([]);
}

describe("the API's answers match the OpenAPI document", () => {
  it("refuses an answer that differs from the document (the check can fail)", async () => {
    const page = (await answer("/v1/servers?limit=1")) as { items: Json[] };
    const [first] = page.items;
    expect(schemaOf("ServerPage").safeParse({ ...page, items: [{ ...first, undocumented: 1 }] }).success).toBe(false);
    const { toolCount: _, ...missing } = first!;
    expect(schemaOf("ServerPage").safeParse({ ...page, items: [missing] }).success).toBe(false);
    expect(schemaOf("Stats").safeParse({ ...((await answer("/v1/stats")) as Json), tools: "many" }).success).toBe(
      false,
    );
  });

  it("server list and every server's detail", async () => {
    let cursor: string | null = null;
    const slugs: string[] = [];
    do {
      const page = (await answer(`/v1/servers?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)) as {
        items: { slug: string }[];
        nextCursor: string | null;
      };
      expectValid("ServerPage", page, "/v1/servers");
      slugs.push(...page.items.map((s) => s.slug));
      cursor = page.nextCursor;
    } while (cursor);
    expect(slugs.length).toBe(t.servers.size);
    for (const slug of slugs) expectValid("ServerDetail", await answer(`/v1/servers/${slug}`), slug);
  });

  it("tool lists and each server's tools in detail, history and changes included", async () => {
    for (const q of ["", "?q=file", "?risk=high", "?category=Destructive", "?flag=poisoning", "?sort=risk"])
      expectValid("ToolPage", await answer(`/v1/tools${q}`), `/v1/tools${q}`);
    let details = 0;
    for (const slug of ((await answer("/v1/servers?limit=100")) as { items: { slug: string }[] }).items.map(
      (s) => s.slug,
    )) {
      const detail = (await answer(`/v1/servers/${slug}`)) as { tools: { slug: string }[] };
      for (const tool of detail.tools) {
        expectValid("ToolDetail", await answer(`/v1/tools/${slug}/${tool.slug}`), `${slug}/${tool.slug}`);
        details++;
      }
    }
    expect(details).toBeGreaterThan(100);
  });

  it("changes, statistics and health", async () => {
    const changes = await answer("/v1/changes");
    expect((changes as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expectValid("ChangePage", changes, "/v1/changes");
    expectValid("Stats", await answer("/v1/stats"), "/v1/stats");
    expectValid("Health", await answer("/healthz"), "/healthz");
    expectValid("Health", await answer("/readyz"), "/readyz");
  });

  it("errors: problem details with the error object", async () => {
    for (const [path, status] of [
      ["/v1/servers/no-such-server-anywhere", 404],
      ["/v1/tools?risk=severe", 400],
      ["/v1/tools?undocumented=1", 400],
    ] as const) {
      const res = await app.request(path);
      expect(res.status, path).toBe(status);
      expectValid("Error", await res.json(), path);
    }
  });
});
