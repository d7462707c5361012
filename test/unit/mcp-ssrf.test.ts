import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUrl, createGuardedFetch, isPrivateAddress } from "../../src/mcp/ssrf.js";

describe("isPrivateAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd12:3456::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:8.8.8.8",
    "::ffff:7f00:1",
    "0:0:0:0:0:ffff:a00:1",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "[::1]",
    "not-an-ip",
  ])("refuses %s", (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "2001:4860:4860::8888"])(
    "allows %s",
    (ip) => expect(isPrivateAddress(ip)).toBe(false),
  );
});

describe("checkUrl", () => {
  it("refuses other schemes, credentials, private literals and local names", () => {
    expect(() => checkUrl("file:///etc/passwd", false)).toThrow(/scheme/);
    expect(() => checkUrl("https://user:pw@example.com/", false)).toThrow(/credentials/);
    expect(() => checkUrl("http://[::1]:80/", false)).toThrow(/private address ::1/);
    expect(() => checkUrl("http://169.254.169.254/latest/meta-data", false)).toThrow(/private/);
    expect(() => checkUrl("http://metadata.google.internal/", false)).toThrow(/local host name/);
    expect(() => checkUrl("http://2130706433/", false)).toThrow(/private address 127\.0\.0\.1/);
    expect(() => checkUrl("http://[::ffff:127.0.0.1]/", false)).toThrow(/private address ::ffff:7f00:1/);
    expect(checkUrl("https://example.com/mcp", false).href).toBe("https://example.com/mcp");
    expect(checkUrl("http://127.0.0.1:3000/mcp", true).port).toBe("3000");
  });
});

describe("createGuardedFetch", () => {
  let server: Server;
  let origin = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/hop") return res.writeHead(302, { location: "/final" }).end();
      if (req.url === "/final") return res.writeHead(200).end("arrived");
      if (req.url === "/escape") return res.writeHead(307, { location: "http://127.0.0.2:9/" }).end();
      if (req.url === "/metadata") return res.writeHead(302, { location: "http://169.254.169.254/" }).end();
      if (req.url === "/big") return res.writeHead(200).end("x".repeat(200_000));
      return res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const allowOnlyTestOrigin = () =>
    createGuardedFetch({ allowPrivateNetwork: false, maxResponseBytes: 100_000, allowedOrigins: [origin] });

  it("follows redirects that stay on an allowed origin", async () => {
    const res = await allowOnlyTestOrigin()(`${origin}/hop`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("arrived");
  });

  it("re-checks every redirect and refuses one to a private address", async () => {
    await expect(allowOnlyTestOrigin()(`${origin}/escape`)).rejects.toThrow(/refused private address 127\.0\.0\.2/);
    await expect(allowOnlyTestOrigin()(`${origin}/metadata`)).rejects.toThrow(/169\.254\.169\.254/);
  });

  it("refuses loopback by default, at connect time for names", async () => {
    const f = createGuardedFetch({ allowPrivateNetwork: false, maxResponseBytes: 1000 });
    await expect(f(`${origin}/final`)).rejects.toThrow(/refused private address/);
    await expect(f(origin.replace("127.0.0.1", "localhost"))).rejects.toThrow(/local host name/);
  });

  it("caps the size of a response body", async () => {
    const res = await allowOnlyTestOrigin()(`${origin}/big`);
    await expect(res.text()).rejects.toThrow();
  });
});
