// A loopback stand-in for the model APIs the real clients call (Anthropic /v1/messages, OpenAI /v1/responses, Gemini
// :streamGenerateContent). On the first turn that offers the fixture server's tools it calls every one of them;
// once tool results come back it ends the turn. It records which tools each request offered.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeModel {
  url: string;
  /** Tool names offered by each request that offered any, in order. */
  offered: string[][];
  /** Results the client sent back for the tools it was asked to call, by tool name (or call id). */
  results: Record<string, string>[];
  /** Every request's method and path, in order (to see what a client asked for). */
  requests: string[];
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let s = "";
    req.setEncoding("utf8");
    req.on("data", (c) => {
      s += c;
    });
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });

function sse(res: ServerResponse, events: [string | undefined, unknown][]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const [event, data] of events) res.write(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
  res.end();
}

/**
 * Starts the fake model. `match` tells which offered tools are the fixture server's; `toCall(offered)` the names to
 * call on the first turn (by default the matching ones; a test may add names the client did not offer).
 */
export async function startFakeModel(
  match: (toolName: string) => boolean,
  toCall: (offered: string[]) => string[] = (offered) => offered.filter(match),
): Promise<FakeModel> {
  const offered: string[][] = [];
  const results: Record<string, string>[] = [];
  const requests: string[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      let body: Record<string, unknown> = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        // not JSON: answer as for an empty request
      }
      const url = req.url ?? "";
      requests.push(`${req.method} ${url}`);
      if (url.includes("/v1/messages")) return anthropic(body, res, url);
      if (url.includes("/responses")) return openai(body, res);
      if (url.includes(":streamGenerateContent") || url.includes(":generateContent")) return gemini(body, res, url);
      if (url.includes("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ data: [], models: [] }));
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `fake model: no route for ${url}` } }));
    })().catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });

  function anthropic(body: Record<string, unknown>, res: ServerResponse, url: string) {
    if (url.includes("count_tokens")) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ input_tokens: 10 }));
    }
    const tools = ((body.tools as { name?: string }[]) ?? []).map((t) => t.name ?? "").filter(Boolean);
    const messages = (body.messages as { role: string; content: unknown }[]) ?? [];
    const last = messages[messages.length - 1];
    const toolResults = Array.isArray(last?.content)
      ? (last.content as { type: string; tool_use_id?: string; content?: unknown }[]).filter(
          (c) => c.type === "tool_result",
        )
      : [];
    const mine = tools.some(match) ? toCall(tools) : [];
    let content: Record<string, unknown>[];
    if (toolResults.length > 0) {
      results.push(Object.fromEntries(toolResults.map((r) => [r.tool_use_id ?? "", JSON.stringify(r.content)])));
      content = [{ type: "text", text: "done" }];
    } else if (mine.length > 0) {
      offered.push(tools);
      content = mine.map((name) => ({
        type: "tool_use",
        id: `toolu_${++n}_${name.replace(/\W/g, "_")}`,
        name,
        input: {},
      }));
    } else content = [{ type: "text", text: "ok" }];
    const stop = content.some((c) => c.type === "tool_use") ? "tool_use" : "end_turn";
    const usage = { input_tokens: 10, output_tokens: 5 };
    const msg = {
      id: `msg_${++n}`,
      type: "message",
      role: "assistant",
      model: String(body.model ?? "m"),
      stop_reason: null,
      stop_sequence: null,
      usage,
    };
    if (!body.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ ...msg, content, stop_reason: stop }));
    }
    const events: [string, unknown][] = [
      ["message_start", { type: "message_start", message: { ...msg, content: [] } }],
    ];
    content.forEach((c, index) => {
      if (c.type === "text") {
        events.push([
          "content_block_start",
          { type: "content_block_start", index, content_block: { type: "text", text: "" } },
        ]);
        events.push([
          "content_block_delta",
          { type: "content_block_delta", index, delta: { type: "text_delta", text: c.text } },
        ]);
      } else {
        events.push([
          "content_block_start",
          { type: "content_block_start", index, content_block: { ...c, input: {} } },
        ]);
        events.push([
          "content_block_delta",
          { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: "{}" } },
        ]);
      }
      events.push(["content_block_stop", { type: "content_block_stop", index }]);
    });
    events.push([
      "message_delta",
      { type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } },
    ]);
    events.push(["message_stop", { type: "message_stop" }]);
    return sse(res, events);
  }

  function openai(body: Record<string, unknown>, res: ServerResponse) {
    // Codex groups an MCP server's tools in a namespace (`mcp__<server>`): they are offered as `mcp__<server>__<tool>`
    // and called by name within their namespace.
    type T = { type?: string; name?: string; tools?: T[] };
    const namespaces = new Set<string>();
    const tools = ((body.tools as T[]) ?? []).flatMap((t) => {
      if (t.type === "namespace" && t.name) {
        namespaces.add(t.name);
        return (t.tools ?? []).map((x) => `${t.name}__${x.name}`);
      }
      return t.name ? [t.name] : [];
    });
    const split = (q: string) => {
      const ns = [...namespaces].find((n) => q.startsWith(`${n}__`));
      return ns ? { namespace: ns, name: q.slice(ns.length + 2) } : { name: q };
    };
    const input = (body.input as { type?: string; call_id?: string; output?: unknown }[]) ?? [];
    const outputs = input.filter((i) => i.type === "function_call_output");
    const lastUser =
      input
        .map((i, k) => [i, k] as const)
        .filter(([i]) => (i as { role?: string }).role === "user")
        .pop()?.[1] ?? -1;
    const fresh = outputs.filter((_o, k) => input.indexOf(outputs[k]!) > lastUser);
    const mine = tools.some(match) ? toCall(tools) : [];
    const id = `resp_${++n}`;
    const output: Record<string, unknown>[] = [];
    if (fresh.length > 0) {
      results.push(Object.fromEntries(fresh.map((o) => [o.call_id ?? "", JSON.stringify(o.output)])));
      output.push({
        type: "message",
        id: `msg_${++n}`,
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "done", annotations: [] }],
      });
    } else if (mine.length > 0) {
      offered.push(tools);
      // A tool in a namespace is called by its own name with the namespace beside it (Codex answers "unsupported
      // call" to the flat `mcp__<server>__<tool>`); a name in no offered namespace is called as it is.
      for (const name of mine)
        output.push({
          type: "function_call",
          id: `fc_${++n}`,
          call_id: `call_${n}_${name}`,
          ...split(name),
          arguments: "{}",
          status: "completed",
        });
    } else
      output.push({
        type: "message",
        id: `msg_${++n}`,
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "ok", annotations: [] }],
      });
    const response = {
      id,
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      status: "completed",
      model: String(body.model ?? "m"),
      output,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        total_tokens: 15,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      },
    };
    const events: [string, unknown][] = [
      ["response.created", { type: "response.created", response: { ...response, status: "in_progress", output: [] } }],
    ];
    output.forEach((item, output_index) => {
      events.push(["response.output_item.added", { type: "response.output_item.added", output_index, item }]);
      events.push(["response.output_item.done", { type: "response.output_item.done", output_index, item }]);
    });
    events.push(["response.completed", { type: "response.completed", response }]);
    sse(res, events);
  }

  function gemini(body: Record<string, unknown>, res: ServerResponse, url: string) {
    const decls = ((body.tools as { functionDeclarations?: { name: string }[] }[]) ?? []).flatMap(
      (t) => t.functionDeclarations ?? [],
    );
    const tools = decls.map((d) => d.name);
    const contents =
      (body.contents as { role: string; parts: { functionResponse?: { name: string; response: unknown } }[] }[]) ?? [];
    const last = contents[contents.length - 1];
    const responses = (last?.parts ?? []).filter((p) => p.functionResponse).map((p) => p.functionResponse!);
    const mine = tools.some(match) ? toCall(tools) : [];
    let parts: Record<string, unknown>[];
    if (responses.length > 0) {
      results.push(Object.fromEntries(responses.map((r) => [r.name, JSON.stringify(r.response)])));
      parts = [{ text: "done" }];
    } else if (mine.length > 0) {
      offered.push(tools);
      parts = mine.map((name) => ({ functionCall: { name, args: {} } }));
    } else parts = [{ text: "ok" }];
    const chunk = {
      candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
    };
    if (url.includes(":streamGenerateContent")) return sse(res, [[undefined, chunk]]);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(chunk));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    offered,
    results,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
