import { describe, expect, it } from "vitest";
import {
  argumentsAsked,
  diagnose,
  envNamesAsked,
  envNamesInSource,
  keyPrefixAsked,
  listeningOn,
  missingValueAsked,
  nodeMajorAsked,
  placeholderForName,
  serviceNeeded,
  serviceOfDependencies,
  stdioSwitch,
  valueChoicesAsked,
} from "../../src/mcp/diagnose.js";

const S = "SECRET";
const HOME = "/home/probe";

// Messages as published servers print them (seen while surveying real npm packages).
describe("environment variables a server asks for", () => {
  it.each([
    ["Error: BRAVE_API_KEY environment variable is required", ["BRAVE_API_KEY"]],
    ["Please set SLACK_BOT_TOKEN and SLACK_TEAM_ID environment variables", ["SLACK_BOT_TOKEN", "SLACK_TEAM_ID"]],
    [
      "ERROR APIFY_TOKEN is required but not set in the environment variables or in ~/.apify/auth.json",
      ["APIFY_TOKEN"],
    ],
    ["Set PRIVATE_APP_ACCESS_TOKEN first", ["PRIVATE_APP_ACCESS_TOKEN"]],
    [
      "Error: A Brave API key is required via --brave-api-key, BRAVE_API_KEY, --brave-api-key-file, or BRAVE_API_KEY_FILE.",
      ["BRAVE_API_KEY"],
    ],
    ["\u001b[31mMissing required environment variable: ACME_TOKEN\u001b[39m", ["ACME_TOKEN"]],
    [
      "Error: No access token was provided.\nRun `acme-mcp auth login` interactively first, or pass `--access-token` / `ACME_ACCESS_TOKEN`.",
      ["ACME_ACCESS_TOKEN"],
    ],
  ])("%s", (text, names) => {
    expect(envNamesAsked(text).names).toEqual(names);
  });

  it("ignores error codes, stack frames, our own placeholder and lines that are not about configuration", () => {
    expect(envNamesAsked("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'x' required").names).toEqual([]);
    expect(envNamesAsked("    at Object.<anonymous> (SOME_FILE_NAME required)").names).toEqual([]);
    expect(envNamesAsked('Invalid agent provider "MCP_CENSUS_PLACEHOLDER_NOT_A_REAL_KEY".').names).toEqual([]);
    expect(envNamesAsked("Loaded MAX_RESULTS from defaults").names).toEqual([]);
    // A usage listing's line about a "Provider" is not a request to provide it.
    expect(envNamesAsked("  EMBEDDED_AGENT_PROVIDER Provider override: openai, anthropic").names).toEqual([]);
  });
});

describe("a missing value named without its variable", () => {
  it("reads the noun from the message and the variable from the package's code", () => {
    expect(missingValueAsked('"message": "Elasticsearch URL cannot be empty",')).toEqual({
      noun: "URL",
      evidence: '"message": "Elasticsearch URL cannot be empty",',
    });
    expect(missingValueAsked("Error: API key is required")?.noun).toBe("API_KEY");
    // A line that names a variable is envNamesAsked's, and a line about something else is nobody's.
    expect(missingValueAsked("ES_URL is required")).toBeUndefined();
    expect(missingValueAsked("Loaded 3 tools")).toBeUndefined();
    const src =
      'const u = process.env.ES_URL; const k = process.env["ES_API_KEY"]; process.env.NODE_ENV; process.env.LOG_LEVEL';
    expect(envNamesInSource(src, "URL")).toEqual(["ES_URL"]);
    expect(envNamesInSource(src, "API_KEY")).toEqual(["ES_API_KEY"]);
    expect(envNamesInSource(src, "TOKEN")).toEqual([]);
    // Too many candidates is no answer.
    expect(envNamesInSource("process.env.A_URL process.env.B_URL process.env.C_URL process.env.D_URL", "URL")).toEqual(
      [],
    );
  });
});

describe("placeholder values parse as what the name says", () => {
  it("gives URLs, paths, ports and secrets", () => {
    expect(placeholderForName("DATABASE_URL", HOME, S)).toMatch(/^postgresql:\/\//);
    expect(placeholderForName("MYSQL_DSN", HOME, S)).toMatch(/^mysql:\/\//);
    expect(placeholderForName("GITLAB_API_URL", HOME, S)).toBe("https://placeholder.invalid");
    expect(placeholderForName("OBSIDIAN_VAULT", HOME, S)).toBe(HOME);
    expect(placeholderForName("SMTP_PORT", HOME, S)).toBe("1");
    expect(placeholderForName("GITHUB_TOKEN", HOME, S)).toBe(S);
  });
});

describe("arguments a usage message asks for", () => {
  it("a database URL and a directory as positional arguments", () => {
    expect(argumentsAsked("Please provide a database URL as a command-line argument", HOME, S)?.add[0]).toMatch(
      /^postgresql:\/\//,
    );
    expect(
      argumentsAsked("Usage: mcp-server-filesystem <allowed-directory> [additional-directories...]", HOME, S)?.add,
    ).toEqual([HOME]);
  });

  it("a subcommand, preferring the one that runs a server over setup", () => {
    expect(argumentsAsked("Error: Expected 'init' or 'run' command", HOME, S)?.add).toEqual(["run"]);
    expect(argumentsAsked("Unknown command. Use one of: setup, start", HOME, S)?.add).toEqual(["start"]);
  });

  it("required options in commander's, yargs' and hand-written words", () => {
    expect(argumentsAsked("error: required option '--workspace <dir>' not specified", HOME, S)?.add).toEqual([
      `--workspace=${HOME}`,
    ]);
    expect(argumentsAsked("--api-key must be provided", HOME, S)?.add).toEqual([`--api-key=${S}`]);
    expect(argumentsAsked("Error: The --tools argument must be provided", HOME, S)?.add).toEqual(["--tools=all"]);
    const yargs =
      "Usage: mcp-server-azuredevops <organization>\n\nNot enough non-option arguments: got 0, need at least 1";
    expect(argumentsAsked(yargs, HOME, S)?.add).toEqual(["placeholder"]);
  });

  it("names nothing for an ordinary crash", () => {
    expect(argumentsAsked("TypeError: Cannot read properties of undefined (reading 'x')", HOME, S)).toBeUndefined();
  });
});

describe("HTTP instead of stdio, services, runtimes", () => {
  it("reads where a server listens and which switch to try", () => {
    expect(listeningOn("MCP Stateless Streamable HTTP Server listening on port 3000")).toBe("on port 3000");
    expect(listeningOn("Server running on http://localhost:3333/mcp")).toBe("http://localhost:3333/mcp");
    expect(listeningOn("Brave Search MCP Server running on stdio")).toBeUndefined();
    expect(stdioSwitch("Options:\n  --transport <stdio|http>", [])).toEqual(["--transport", "stdio"]);
    expect(stdioSwitch("", [])).toEqual(["--stdio"]);
    expect(stdioSwitch("", [["--stdio"]])).toEqual(["--transport", "stdio"]);
  });

  it("names the service from the error or its port", () => {
    expect(serviceNeeded("[Redis Error] Error: connect ECONNREFUSED 127.0.0.1:6379")?.service).toBe("redis");
    expect(serviceNeeded("Error: connect ECONNREFUSED 127.0.0.1:3306")?.service).toBe("mysql");
    expect(serviceNeeded("Could not connect to PostgreSQL server")?.service).toBe("postgres");
    expect(serviceNeeded("Error: getaddrinfo EAI_AGAIN mcp.stripe.com")?.service).toBe("network");
    expect(serviceNeeded("Starting server")).toBeUndefined();
  });

  it("reads key prefixes, allowed values and Node.js requirements", () => {
    expect(keyPrefixAsked("Invalid API key format. Expected sk_* (secret key) or rk_* (restricted key).")).toBe("sk_");
    expect(
      valueChoicesAsked('Invalid agent provider "SECRET". Must be "openai", "azure-openai", or "anthropic".', S),
    ).toEqual(["openai", "azure-openai", "anthropic"]);
    expect(nodeMajorAsked("Apify MCP server requires Node.js 22 or later (you have v20.20.2).")).toBe(22);
    expect(nodeMajorAsked("requires Node.js 18 or later")).toBeUndefined();
  });

  it("puts it together", () => {
    const d = diagnose("Error: BRAVE_API_KEY environment variable is required", HOME, S);
    expect(d).toEqual({ env: ["BRAVE_API_KEY"], evidence: "Error: BRAVE_API_KEY environment variable is required" });
  });
});

describe("serviceOfDependencies", () => {
  it("names the one service a package's database client talks to", () => {
    // @benborla29/mcp-server-mysql@2.0.9's dependencies, abridged.
    expect(serviceOfDependencies({ "@modelcontextprotocol/sdk": "1.15.1", express: "^5", mysql2: "^3.14.1" })).toEqual({
      service: "mysql",
      client: "mysql2",
    });
    expect(serviceOfDependencies({ ioredis: "^5", redis: "^4" })).toEqual({ service: "redis", client: "ioredis" });
  });
  it("names none for a package without one, or with clients of several services", () => {
    expect(serviceOfDependencies({ zod: "^3" })).toBeUndefined();
    expect(serviceOfDependencies(undefined)).toBeUndefined();
    expect(serviceOfDependencies({ pg: "^8", mysql2: "^3" })).toBeUndefined();
  });
});
