import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "../core/errors.js";

/** A JSON-RPC error answer from the server (as opposed to a transport failure); `rpcCode` is the answer's code. */
export class RpcError extends AppError {
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: unknown,
  ) {
    super("protocol", message);
    this.name = "RpcError";
  }
}

/** The connection ended (process exit, stream closed) while a request was waiting. */
export class ConnectionClosedError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("protocol", message, options);
    this.name = "ConnectionClosedError";
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  method: string;
}

/**
 * A minimal JSON-RPC client over any SDK transport. The SDK's Client validates every result with strict schemas
 * (a missing serverInfo.version or one tool without `"type":"object"` rejects the whole answer); the census must
 * record what servers send, so results come back as plain JSON and the caller judges them.
 */
export class RpcSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  lastTransportError?: Error;
  /** Server-to-client requests answered with an error (we expose no roots, sampling or elicitation). */
  readonly serverRequests: string[] = [];
  /** Text of the server's `notifications/message` log messages (servers send their reasons for failing there). */
  readonly logMessages: string[] = [];

  constructor(private readonly transport: Transport) {}

  async start(): Promise<void> {
    this.transport.onmessage = (m) => this.onMessage(m);
    this.transport.onerror = (e) => {
      this.lastTransportError = e;
    };
    this.transport.onclose = () => this.failAll(new ConnectionClosedError("connection closed"));
    await this.transport.start();
  }

  private failAll(err: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private onMessage(m: JSONRPCMessage): void {
    const msg = m as Record<string, unknown>;
    const id = msg.id;
    if (typeof msg.method === "string") {
      if (id === undefined || id === null) {
        // Notifications: only log messages are kept (capped), list_changed and progress mean nothing to a lister.
        if (msg.method === "notifications/message" && this.logMessages.length < 50) {
          const p = (msg.params ?? {}) as Record<string, unknown>;
          const data = typeof p.data === "string" ? p.data : JSON.stringify(p.data ?? "");
          this.logMessages.push(`${typeof p.level === "string" ? `${p.level}: ` : ""}${data}`.slice(0, 1000));
        }
        return;
      }
      this.serverRequests.push(msg.method);
      const reply =
        msg.method === "ping"
          ? { jsonrpc: "2.0" as const, id: id as string | number, result: {} }
          : {
              jsonrpc: "2.0" as const,
              id: id as string | number,
              error: { code: -32601, message: "mcp-census only lists; it offers no client features" },
            };
      // Safe to ignore: a courtesy answer to the server's own request; if the connection is gone, the request we
      // are waiting on fails through onclose, which is what reports it.
      this.transport.send(reply as JSONRPCMessage).catch(() => {});
      return;
    }
    const key = typeof id === "string" && /^\d+$/.test(id) ? Number(id) : id;
    if (typeof key !== "number") return;
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if ("error" in msg && msg.error !== undefined) {
      const e = (msg.error ?? {}) as Record<string, unknown>;
      p.reject(
        new RpcError(
          typeof e.code === "number" ? e.code : -32603,
          typeof e.message === "string" ? e.message.slice(0, 500) : "error without message",
          e.data,
        ),
      );
    } else {
      p.resolve(msg.result);
    }
  }

  /** Sends a request and waits for its result; rejects on an error answer, on close, or when the signal aborts. */
  request(method: string, params: Record<string, unknown> | undefined, signal: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionClosedError("connection closed"));
    if (signal.aborted) return Promise.reject(signal.reason);
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const done = <T>(fn: (v: T) => void) => {
        return (v: T) => {
          signal.removeEventListener("abort", onAbort);
          fn(v);
        };
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject), method });
      const message = { jsonrpc: "2.0" as const, id, method, ...(params ? { params } : {}) };
      this.transport.send(message as JSONRPCMessage).catch((err: Error) => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        p.reject(err);
      });
    });
  }

  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await this.transport.send({ jsonrpc: "2.0", method, ...(params ? { params } : {}) } as JSONRPCMessage);
  }

  async close(): Promise<void> {
    this.failAll(new ConnectionClosedError("closed by client"));
    // Safe to ignore: closing after the work is done (or failed); pending requests were failed just above, and a
    // transport that cannot close cleanly has its process killed by the caller.
    await this.transport.close().catch(() => {});
  }
}
