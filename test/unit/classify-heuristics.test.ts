import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCorpus, toToolInput } from "../../scripts/eval-classifier.js";
import {
  classifyHeuristic,
  destructiveParamGate,
  laterWriteVerb,
  readParams,
  splitName,
} from "../../src/classify/heuristics.js";
import type { ToolInput } from "../../src/core/types.js";
import { deriveCategory } from "../../src/core/vocabulary.js";

const schema = (props: Record<string, unknown>) => ({ type: "object", properties: props });

describe("splitName", () => {
  it("splits snake, camel, kebab, dot and acronyms", () => {
    expect(splitName("create_or_update_file")).toEqual(["create", "or", "update", "file"]);
    expect(splitName("listRepositoriesByNamespace")).toEqual(["list", "repositories", "by", "namespace"]);
    expect(splitName("get-tiny-image")).toEqual(["get", "tiny", "image"]);
    expect(splitName("files.read")).toEqual(["files", "read"]);
    expect(splitName("getHTTPResponse")).toEqual(["get", "http", "response"]);
    expect(splitName("Summarize Detection")).toEqual(["summarize", "detection"]);
  });
});

describe("readParams", () => {
  it("reads names, types and enums and tolerates odd schemas", () => {
    const p = readParams(
      schema({ method: { type: "string", enum: ["GET", "DELETE"] }, n: { type: ["number", "null"] } }),
    );
    expect(p.map((x) => x.name)).toEqual(["method", "n"]);
    expect(p[0]?.enumValues).toEqual(["GET", "DELETE"]);
    expect(p[1]?.type).toBe("number|null");
    expect(readParams("nonsense")).toEqual([]);
    expect(readParams({ properties: [1, 2] })).toEqual([]);
  });
});

describe("deriveCategory", () => {
  it("puts financial before destructive before access", () => {
    expect(deriveCategory("write", true, true)).toBe("Financial");
    expect(deriveCategory("execute", true, false)).toBe("Destructive");
    expect(deriveCategory("read", false, false)).toBe("Read");
    expect(deriveCategory("write", false, false)).toBe("Write");
    expect(deriveCategory("execute", false, false)).toBe("Execute");
  });
});

describe("classifyHeuristic", () => {
  const c = (t: ToolInput) => classifyHeuristic(t);

  it("reads on read verbs and says why", () => {
    const r = c({ name: "list_widgets", description: "List all widgets in the workspace" });
    expect(r.access).toBe("read");
    expect(r.risk).toBe("low");
    expect(r.category).toBe("Read");
    expect(r.source).toBe("heuristic");
    expect(r.signals.some((s) => s.includes("name verb 'list'"))).toBe(true);
  });

  it("marks deleting tools destructive and critical", () => {
    const r = c({ name: "removeGadget", description: "Permanently deletes a gadget. This cannot be undone." });
    expect(r.access).toBe("write");
    expect(r.destructive).toBe(true);
    expect(r.risk).toBe("critical");
    expect(r.category).toBe("Destructive");
    expect(r.signals.some((s) => s.includes("'remove'") && s.includes("destructive"))).toBe(true);
  });

  it("does not call removing an association destructive", () => {
    const r = c({ name: "remove_label", description: "Remove a label from a card" });
    expect(r.access).toBe("write");
    expect(r.destructive).toBe(false);
  });

  it("treats a command parameter with a run verb as execute", () => {
    const r = c({ name: "run_in_sandbox", inputSchema: schema({ command: { type: "string" } }) });
    expect(r.access).toBe("execute");
    expect(r.destructive).toBe(true);
    expect(r.signals.some((s) => s.includes("parameter 'command'"))).toBe(true);
  });

  it("treats unrestricted SQL as execute and SELECT-only SQL as read", () => {
    const w = c({ name: "query", description: "Run SQL against the warehouse", inputSchema: schema({ sql: {} }) });
    expect(w.access).toBe("execute");
    expect(w.destructive).toBe(true);
    const r = c({
      name: "read_query",
      description: "Execute a SELECT query on the SQLite database",
      inputSchema: schema({ query: {} }),
    });
    expect(r.access).toBe("read");
    expect(r.risk).toBe("medium");
  });

  it("keeps metric query languages read", () => {
    const r = c({
      name: "query_metrics",
      description: "Query a Prometheus datasource using PromQL",
      inputSchema: schema({ query: { type: "string" } }),
    });
    expect(r.access).toBe("read");
  });

  it("sees a method enum containing DELETE", () => {
    const r = c({
      name: "api_request",
      description: "Call the service API",
      inputSchema: schema({ method: { type: "string", enum: ["GET", "POST", "DELETE"] }, path: { type: "string" } }),
    });
    expect(r.access).toBe("write");
    expect(r.destructive).toBe(true);
    expect(r.signals.some((s) => s.includes("DELETE"))).toBe(true);
    const g = c({ name: "api_request", inputSchema: schema({ method: { enum: ["GET"] }, path: {} }) });
    expect(g.destructive).toBe(false);
  });

  it("flags money movement as financial and critical", () => {
    const r = c({
      name: "create_refund",
      description: "Refund a captured payment",
      inputSchema: schema({ amount: { type: "number" } }),
    });
    expect(r.financial).toBe(true);
    expect(r.category).toBe("Financial");
    expect(r.risk).toBe("critical");
  });

  it("rates messaging people high and harmless session state low", () => {
    expect(c({ name: "send_message", description: "Send a message to a channel" }).risk).toBe("high");
    expect(c({ name: "browser_hover", description: "Hover over an element" }).risk).toBe("low");
  });

  it("rates reads of private content medium and wholesale secrets high", () => {
    expect(c({ name: "get_issue", description: "Get an issue with its comments" }).risk).toBe("medium");
    expect(c({ name: "get_env", description: "Returns all environment variables" }).risk).toBe("high");
  });

  it("never defaults to read without evidence", () => {
    const r = c({ name: "frobnicate" });
    expect(r.access).not.toBe("read");
    expect(r.confidence).toBeLessThan(0.5);
  });

  it("lowers confidence and records the conflict when an annotation contradicts the verb", () => {
    const plain = c({ name: "delete_record", description: "Delete a record" });
    const contradicted = c({
      name: "delete_record",
      description: "Delete a record",
      annotations: { readOnlyHint: true },
    });
    expect(contradicted.access).toBe("write");
    expect(contradicted.confidence).toBeLessThan(plain.confidence);
    expect(contradicted.signals.some((s) => s.startsWith("conflicting evidence"))).toBe(true);
    expect(contradicted.flags).toContain("annotation_contradiction");
  });

  it("uses annotations as one signal: readOnlyHint=false stops a read verdict", () => {
    const base = { name: "find_anomalies", description: "Finds anomalies in the series" };
    expect(c(base).access).toBe("read");
    const r = c({ ...base, annotations: { readOnlyHint: false } });
    expect(r.access).not.toBe("read");
  });

  it("flags wholesale replacement, trash, ending all sessions and moving money as destructive", () => {
    const order = (description: string) =>
      c({ name: "update_order", description, inputSchema: schema({ id: {}, lines: { type: "array" } }) });
    expect(order("Update an order.").destructive).toBe(false);
    expect(order("Update an order. Any lines not provided will be removed.").destructive).toBe(true);
    expect(order("Update an order. The given list replaces the lines of the order.").destructive).toBe(true);
    expect(c({ name: "archive_note", description: "Archive (trash) a note" }).destructive).toBe(true);
    expect(c({ name: "archive_note", description: "Archive a note" }).destructive).toBe(false);
    expect(c({ name: "logout_everywhere", description: "Revoke all sessions of the user" }).destructive).toBe(true);
    // Money moved with no money verb in the name, even when the author says destructiveHint=false.
    const ann = { readOnlyHint: false, destructiveHint: false };
    const adj = c({
      name: "create_adjustment",
      description: "Create an adjustment to refund part of an order",
      annotations: ann,
    });
    expect([adj.destructive, adj.financial]).toEqual([true, true]);
    const status = schema({ status: { type: "string", enum: ["billed", "canceled"] }, items: {} });
    const tx = c({ name: "create_sale", description: "Create a sale", inputSchema: status, annotations: ann });
    expect([tx.destructive, tx.financial]).toEqual([true, true]);
    expect(
      c({ name: "create_sale", description: "Create a sale", inputSchema: schema({ items: {} }) }).destructive,
    ).toBe(false);
  });

  it("does not flag reversible or link-only removals as destructive", () => {
    expect(c({ name: "unpublish_entry", description: "Unpublish an entry" }).destructive).toBe(false);
    expect(c({ name: "delete_issue_relation", description: "Delete an issue relation by ID" }).destructive).toBe(false);
    expect(c({ name: "delete_relations", description: "Delete relations from the graph" }).destructive).toBe(true);
    expect(c({ name: "revert_timesheet", description: "Revert a timesheet to draft by its ID." }).destructive).toBe(
      false,
    );
    expect(c({ name: "revert_commit", description: "Revert a commit, discarding its changes." }).destructive).toBe(
      true,
    );
  });

  it("an optional parameter that carries a script makes even a read verb execute", () => {
    const page = (props: Record<string, unknown>) =>
      c({ name: "get_page", description: "Get the page content as text", inputSchema: schema({ url: {}, ...props }) });
    expect(page({}).access).toBe("read");
    expect(page({ initScript: { type: "string", description: "Optional JavaScript" } }).access).toBe("execute");
    expect(page({ script: { type: "string", description: "JavaScript to run in the page first" } }).access).toBe(
      "execute",
    );
  });

  it("a status parameter that can be set to deleted or voided deletes an existing item, not a new one", () => {
    const st = schema({ id: {}, status: { type: "string", enum: ["DRAFT", "POSTED", "DELETED", "VOIDED"] } });
    expect(c({ name: "update_journal", description: "Update a journal", inputSchema: st }).destructive).toBe(true);
    expect(c({ name: "create_journal", description: "Create a journal", inputSchema: st }).destructive).toBe(false);
    const draft = schema({ id: {}, status: { type: "string", enum: ["DRAFT", "POSTED"] } });
    expect(c({ name: "update_journal", description: "Update a journal", inputSchema: draft }).destructive).toBe(false);
  });

  it("a parameter whose own description says omitted items are removed, or that deletes when set, is destructive", () => {
    const lines = (d: string) =>
      c({
        name: "update_order",
        description: "Update an order",
        inputSchema: schema({ id: {}, lines: { type: "array", description: d } }),
      }).destructive;
    expect(lines("All lines must be provided. Any lines not provided will be removed.")).toBe(true);
    expect(lines("The order lines to add")).toBe(false);
    const flag = (d: string) =>
      c({
        name: "update_block",
        description: "Update a block",
        inputSchema: schema({ id: {}, archived: { type: "boolean", description: d } }),
      }).destructive;
    expect(flag("Set to true to archive (delete) a block. Set to false to restore it.")).toBe(true);
    expect(flag("Whether the block is archived")).toBe(false);
  });

  it("a tool that runs other tools by name is a router over them (write, destructive, unsure), not a code runner", () => {
    const batch = c({
      name: "batch_commands",
      description: "Run multiple tools in sequence in a single call, e.g. click, type.",
      inputSchema: schema({ steps: { type: "array" } }),
    });
    expect([batch.access, batch.destructive, batch.flags.includes("unsure")]).toEqual(["write", true, true]);
    const byName = c({
      name: "execute_tool",
      description: "Execute a tool by name",
      inputSchema: schema({ name: {} }),
    });
    expect([byName.access, byName.destructive, byName.flags.includes("unsure")]).toEqual(["write", true, true]);
    expect(c({ name: "run_script", description: "Run a script", inputSchema: schema({ script: {} }) }).access).toBe(
      "execute",
    );
  });

  it("opening a URL the caller gives in a browser is a navigation (write); opening a document stays read", () => {
    const open = (description: string, props: Record<string, unknown>) =>
      c({ name: "open_browser", description, inputSchema: schema(props) }).access;
    expect(open("Open a web browser to a specific URL", { url: { type: "string" } })).toBe("write");
    expect(open("Open a PDF in an interactive viewer", { url: { type: "string" } })).toBe("read");
  });

  it("a description whose only evidence is 'manage' with no operation named is an unsure not-read", () => {
    const m = c({ name: "pg_backups", description: "Manage backups: schedules, status, verification, recovery" });
    expect([m.access, m.flags.includes("unsure")]).toEqual(["write", true]);
    const named = c({ name: "pg_backups", description: "Manage backups: create, delete or list backups" });
    expect(named.flags.includes("unsure")).toBe(false);
  });

  it("saving a copy of what is read to a file conflicts with the write verb: unsure, never a sure write or read", () => {
    const shot = c({
      name: "save_screenshot",
      description: "Save a screenshot of the device to a file",
      inputSchema: schema({ saveTo: { type: "string" } }),
    });
    expect([shot.access, shot.flags.includes("unsure")]).toEqual(["write", true]);
    const notes = c({ name: "save_note", description: "Save a note", inputSchema: schema({ text: {} }) });
    expect([notes.access, notes.flags.includes("unsure")]).toEqual(["write", false]);
  });

  it("is deterministic", () => {
    const t = { name: "update_page", description: "Update a page", inputSchema: schema({ id: {}, body: {} }) };
    expect(c(t)).toEqual(c(t));
  });
});

describe("laterWriteVerb", () => {
  // The regex it replaced, kept here as the reference.
  const LATER = new Set(["triggers", "creates", "updates", "modifies", "deletes", "removes", "writes", "sends"]);
  for (const w of ["starts", "saves", "stores", "overwrites", "changes", "sets", "posts", "executes", "runs"])
    LATER.add(w);
  const byRegex = (desc: string, first: string): string | undefined => {
    const rest = desc.slice(first.length, first.length + 600);
    const m = /(?:^|[.!?]\s+|\n\s*)(?:it |this tool |also |then )*([a-z]+)\b/g;
    for (let x = m.exec(rest); x !== null; x = m.exec(rest)) if (LATER.has(x[1]!)) return x[1];
    return undefined;
  };

  it("answers as the regex on every corpus description and on the edge cases of its backtracking", () => {
    const { rows } = loadCorpus(join(import.meta.dirname, "../../eval/corpus"));
    const texts = rows.flatMap((r) => (r.description ? [r.description.toLowerCase()] : []));
    texts.push(
      "reads. it then creates x",
      "reads.\n\n  it sets",
      "reads. it5 runs. sends",
      "reads. then then creates",
      "reads. it it",
      "reads.  runs_x. creates",
      "reads.\u00a0creates",
      "reads.runs. creates",
      "reads\nthis tool also updates",
      ". sets",
      `reads.${" x".repeat(300)}. creates`,
    );
    let found = 0;
    for (const d of texts)
      for (const cut of [0, 5, d.indexOf("."), d.indexOf("\n")]) {
        if (cut < 0) continue;
        const first = d.slice(0, cut);
        const want = byRegex(d, first);
        if (want) found++;
        expect(laterWriteVerb(d, first), JSON.stringify([d.slice(0, 80), cut])).toBe(want);
      }
    expect(found).toBeGreaterThan(20);
  });
});

describe("destructiveParamGate", () => {
  // The regex it replaced, kept here as the reference.
  const GATE = /drop|delete|purge|wipe|destroy|trash|truncate|erase/;

  it("answers as the regex on every corpus parameter key and on edge cases", () => {
    const { rows } = loadCorpus(join(import.meta.dirname, "../../eval/corpus"));
    const keys = rows.flatMap((r) => readParams(toToolInput(r, false).inputSchema).map((p) => p.key));
    keys.push(
      "",
      "d",
      "dro",
      "drop",
      "ddrop",
      "deletx",
      "x_delete",
      "destro",
      "destroy_all",
      "purg",
      "erase",
      "terase",
    );
    keys.push("trashed", "trunc", "truncate", "wip", "wipe_all", "hard_delete", "dele", "ddelete", "eerase", "ptrash");
    let hits = 0;
    for (const k of keys) {
      const want = GATE.test(k);
      if (want) hits++;
      expect(destructiveParamGate(k), k).toBe(want);
    }
    expect(hits).toBeGreaterThan(10);
  });
});
