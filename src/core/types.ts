import { z } from "zod";
import type { ProbeOutcome } from "./vocabulary.js";

export {
  type Access,
  type Category,
  type Classification,
  PROBE_OUTCOMES,
  type ProbeOutcome,
  type Risk,
} from "./vocabulary.js";

/** An input/argument as the official server.json describes it (positional, named, env). */
export const ArgumentSchema = z
  .object({
    type: z.enum(["positional", "named"]).optional(),
    name: z.string().optional(),
    value: z.string().optional(),
    valueHint: z.string().optional(),
    default: z.string().optional(),
    isRequired: z.boolean().optional(),
    isSecret: z.boolean().optional(),
    isRepeated: z.boolean().optional(),
    description: z.string().optional(),
    format: z.string().optional(),
    choices: z.array(z.string()).optional(),
  })
  .passthrough();
export type Argument = z.infer<typeof ArgumentSchema>;

export const EnvVarSchema = ArgumentSchema.extend({ name: z.string() });
export type EnvVar = z.infer<typeof EnvVarSchema>;

export const PackageSpecSchema = z
  .object({
    registryType: z.string(),
    identifier: z.string().min(1),
    version: z.string().optional(),
    runtimeHint: z.string().optional(),
    transport: z
      .object({ type: z.string(), url: z.string().optional(), headers: z.array(ArgumentSchema).optional() })
      .passthrough()
      .optional(),
    runtimeArguments: z.array(ArgumentSchema).optional(),
    packageArguments: z.array(ArgumentSchema).optional(),
    environmentVariables: z.array(EnvVarSchema).optional(),
    fileSha256: z.string().optional(),
  })
  .passthrough();
export type PackageSpec = z.infer<typeof PackageSpecSchema>;

export const RemoteSpecSchema = z
  .object({
    type: z.string(),
    url: z.string().min(1),
    headers: z.array(ArgumentSchema).optional(),
  })
  .passthrough();
export type RemoteSpec = z.infer<typeof RemoteSpecSchema>;

/** A server as a registry lists it, normalised to the official server.json shape. */
export const ServerEntrySchema = z
  .object({
    name: z.string().min(1).max(300),
    title: z.string().optional(),
    description: z.string().optional(),
    version: z.string().optional(),
    websiteUrl: z.string().optional(),
    repository: z.object({ url: z.string(), source: z.string().optional() }).passthrough().optional(),
    packages: z.array(PackageSpecSchema).default([]),
    remotes: z.array(RemoteSpecSchema).default([]),
  })
  .passthrough();
export type ServerEntry = z.infer<typeof ServerEntrySchema>;

/** Upstream status of a server in a registry. */
export type ServerStatus = "active" | "deprecated" | "deleted" | "removed";

/** A tool object as an MCP server sent it (kept loose: servers send odd things). */
export interface RawTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface RawPrompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: unknown;
  [key: string]: unknown;
}

export interface RawResource {
  uri?: string;
  uriTemplate?: string;
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  [key: string]: unknown;
}

/** What one connection attempt found. Tools are exactly as received. */
export interface ProbeResult {
  outcome: ProbeOutcome;
  /** stdio | streamable-http | sse */
  transport: string;
  /** How it was launched or reached: command line, or URL (secrets never included). */
  launch: Record<string, unknown>;
  error?: string;
  stderrTail?: string;
  startedAt: string;
  durationMs: number;
  timings: Record<string, number>;
  serverInfo?: Record<string, unknown>;
  protocolVersion?: string;
  capabilities?: Record<string, unknown>;
  instructions?: string;
  tools: RawTool[];
  prompts: RawPrompt[];
  resources: RawResource[];
  resourceTemplates: RawResource[];
  /** Names of environment variables given fake placeholder values. */
  placeholders: string[];
  /** Problems found in the listing that did not stop it (e.g. a tool whose inputSchema is not an object). */
  warnings: string[];
  /** Auth metadata when outcome is auth_required (WWW-Authenticate, resource metadata URL). */
  auth?: Record<string, unknown>;
}

/** A result with nothing listed yet: the start of every probe and the shape of every early failure. */
export function emptyProbeResult(outcome: ProbeOutcome, transport: string, error?: string): ProbeResult {
  return {
    outcome,
    transport,
    launch: {},
    ...(error === undefined ? {} : { error }),
    startedAt: new Date().toISOString(),
    durationMs: 0,
    timings: {},
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    placeholders: [],
    warnings: [],
  };
}

/** What the classifier reads of a tool. */
export interface ToolInput {
  server?: string;
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown> | null;
}
