import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileSink } from "../../src/site/writer.js";

const dir = mkdtempSync(join(tmpdir(), "site-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the site's file sink", () => {
  it("writes every committed file with the bytes it hashed, across batches and past the batch size", async () => {
    const sink = new FileSink(dir, () => {});
    const files = new Map<string, string>();
    // many small pages with multi-byte text (batch boundaries fall inside them), a few bigger than a whole batch
    for (let i = 0; i < 3000; i++) files.set(`/a/${i % 37}/p${i}.html`, `é€𝄞 page ${i} `.repeat(1 + (i % 90)));
    files.set("/big/one.txt", "ü".repeat(1_500_000));
    files.set("/big/two.txt", "x".repeat(3_000_000));
    try {
      for (const [path, text] of files) {
        const { hash, bytes } = sink.stage(text);
        expect(bytes).toBe(Buffer.byteLength(text));
        expect(hash).toBe(createHash("sha1").update(text).digest("base64url"));
        sink.commit(path);
        await sink.room();
      }
      // a page staged but not committed (unchanged) is replaced by the next one staged
      sink.stage("an unchanged page, dropped");
      sink.stage("kept");
      sink.commit("/kept.txt");
      files.set("/kept.txt", "kept");
      await sink.flush();
    } finally {
      await sink.close();
    }
    for (const [path, text] of files) expect(readFileSync(join(dir, path), "utf8"), path).toBe(text);
  });

  it("writes files handed over in a buffer of their own, in order with the files queued before and after", async () => {
    const sink = new FileSink(dir, () => {});
    const texts = ["first é", "", "third 𝄞 ".repeat(5000)];
    const own = Buffer.allocUnsafeSlow(texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
    const ends: number[] = [];
    let off = 0;
    for (const t of texts) {
      off += own.write(t, off);
      ends.push(off);
    }
    // a view on part of a bigger buffer is copied instead (it cannot be transferred)
    const shared = Buffer.from("xx shared yy");
    try {
      sink.stage("before, then overwritten");
      sink.commit("/buf/same.txt");
      sink.commitBuffer(["/buf/0.txt", "/buf/1.txt", "/buf/2.txt"], ends, own);
      sink.commitBuffer(["/buf/shared.txt"], [6], shared.subarray(3, 9));
      sink.stage("after");
      sink.commit("/buf/same.txt");
      await sink.flush();
    } finally {
      await sink.close();
    }
    expect(own.byteLength).toBe(0); // transferred, not copied
    for (const [i, t] of texts.entries()) expect(readFileSync(join(dir, `/buf/${i}.txt`), "utf8")).toBe(t);
    expect(readFileSync(join(dir, "/buf/shared.txt"), "utf8")).toBe("shared");
    expect(readFileSync(join(dir, "/buf/same.txt"), "utf8")).toBe("after");
  });
});
