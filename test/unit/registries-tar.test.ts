/**
 * Issue 17 item 11: registries/tar.ts gunzipped without a size limit, so a small archive (a gzip bomb) could unpack
 * to gigabytes in memory. Real gzip data: 16 members of 64 MiB of zeros each, about 1 GiB unpacked from ~1 MiB.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.js";
import { MAX_UNPACKED_BYTES, readTarGz } from "../../src/registries/tar.js";

/** A one-file ustar archive. */
function tarOf(path: string, body: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(path, 0, "utf8");
  h.write("0000644\0", 100);
  h.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
  h.write("0", 156);
  h.write("        ", 148);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const pad = Buffer.alloc(Math.ceil(body.length / 512) * 512 - body.length);
  return Buffer.concat([h, body, pad, Buffer.alloc(1024)]);
}

describe("readTarGz: unpacked size cap (issue 17 item 11)", () => {
  it("reads an ordinary archive", () => {
    const files = readTarGz(gzipSync(tarOf("repo/servers/a/server.yaml", Buffer.from("name: a\n"))), () => true);
    expect(files.get("repo/servers/a/server.yaml")?.toString()).toBe("name: a\n");
  });

  it("a gzip bomb of ~1 GiB is refused as bad input naming the archive, without unpacking it all", () => {
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    let err: unknown;
    try {
      readTarGz(bomb, () => true, "docker registry archive");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("bad_input");
    expect((err as Error).message).toBe(
      `docker registry archive: unpacks to more than ${MAX_UNPACKED_BYTES} bytes (a gzip bomb?)`,
    );
    // The cap held memory to about the cap, not the gigabyte.
    expect(process.memoryUsage().rss - before).toBeLessThan(MAX_UNPACKED_BYTES + 128 * 1024 * 1024);
  }, 60_000);

  it("the cap is a parameter: a small archive over a small cap is refused too", () => {
    const gz = gzipSync(tarOf("x.json", Buffer.alloc(100_000, 0x61)));
    expect(() => readTarGz(gz, () => true, "a.tgz", 50_000)).toThrow(/a\.tgz: unpacks to more than 50000 bytes/);
  });
});
