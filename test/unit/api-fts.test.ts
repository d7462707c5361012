import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/api/cursor.js";
import { ftsQuery } from "../../src/api/fts.js";

describe("ftsQuery", () => {
  const db = new Database(":memory:");
  db.exec("CREATE VIRTUAL TABLE f USING fts5(name, description, tokenize = 'unicode61 remove_diacritics 2')");
  db.prepare("INSERT INTO f VALUES (?, ?)").run("delete repository", "Deletes a GitHub repository for good");
  db.prepare("INSERT INTO f VALUES (?, ?)").run("near miss", "NEAR is a word here");
  const search = (q: string) => {
    const m = ftsQuery(q);
    return m === null ? [] : (db.prepare("SELECT name FROM f WHERE f MATCH ?").all(m) as { name: string }[]);
  };

  it("quotes every term; a trailing * makes a word a prefix", () => {
    expect(ftsQuery("delete repo")).toBe('"delete" "repo"');
    expect(search("delete repo")).toEqual([]);
    expect(ftsQuery("delete repo*")).toBe('"delete" "repo"*');
    expect(search("delete repo*").map((r) => r.name)).toEqual(["delete repository"]);
    expect(search("DELETE Repository").map((r) => r.name)).toEqual(["delete repository"]);
  });

  it("turns FTS5 syntax into plain words that never error", () => {
    const hostile = [
      '"',
      "NEAR(",
      "*",
      "a OR b",
      "name:delete",
      "^delete",
      ")(",
      "NOT",
      "AND AND",
      "-x",
      "{name}: x",
      "\u0000",
    ];
    for (const q of hostile) expect(() => search(q), q).not.toThrow();
    expect(ftsQuery('"')).toBeNull();
    expect(ftsQuery("*")).toBeNull();
    expect(search("NEAR(").map((r) => r.name)).toEqual(["near miss"]);
    // A column filter is not honoured: "name" is just a word.
    expect(ftsQuery("name:delete")).toBe('"name" "delete"');
  });

  it("blank is no filter; OR in capitals separates alternatives; prefixes are capped in number and length", () => {
    expect(ftsQuery(undefined)).toBeUndefined();
    expect(ftsQuery("")).toBeUndefined();
    expect(ftsQuery("   ")).toBeUndefined();
    expect(ftsQuery("delete OR remove file")).toBe('("delete") OR ("remove" "file")');
    expect(ftsQuery("OR delete OR")).toBe('"delete"');
    expect(ftsQuery("or delete")).toBe('"or" "delete"');
    expect(search("delete OR nothingatall").map((r) => r.name)).toEqual(["delete repository"]);
    expect(() => ftsQuery("ab*")).toThrow(/at least 3 characters/);
    expect(() => ftsQuery("abc* def* ghi* jkl*")).toThrow(/at most 3 prefix terms/);
    expect(ftsQuery("abc* def* ghi*")).toBe('"abc"* "def"* "ghi"*');
  });

  it("keeps non-Latin words and caps the number of terms", () => {
    expect(ftsQuery("Größe 東京")).toBe('"Größe" "東京"');
    expect(ftsQuery(Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "))?.split(" ")).toHaveLength(12);
  });
});

describe("cursor", () => {
  it("round-trips and is refused for another sort or when tampered with", () => {
    const c = encodeCursor("name", ["delete_file", 42]);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, "name", 2)).toEqual(["delete_file", 42]);
    expect(() => decodeCursor(c, "risk", 2)).toThrow(/cursor/);
    expect(() => decodeCursor(c, "name", 3)).toThrow(/cursor/);
    expect(() => decodeCursor("!!!", "name", 2)).toThrow(/cursor/);
    expect(() => decodeCursor(Buffer.from('["name",{"a":1},1]').toString("base64url"), "name", 2)).toThrow(/cursor/);
  });
});
