"""Counts for eval/corpus/README.md: reconciled labels per server and per class, and the agreement of the two passes.

Run from the repository root: python3 eval/corpus/stats.py  (prints Markdown; paste it into the README).
"""

import collections
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def read_jsonl(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def by_server(folder):
    out = {}
    for path in sorted(glob.glob(os.path.join(HERE, folder, "*.jsonl"))):
        for row in read_jsonl(path):
            out.setdefault(row["server"], {})[row["tool"]] = row
    return out


def code(row):
    return (row["category"], bool(row["destructive"]), row["risk"])


def main():
    definitions = collections.Counter()
    fresh = set()  # servers of the held-out test labelled after the rules were frozen (definitions-fresh.jsonl)
    for name in ("definitions.jsonl", "definitions-probed.jsonl", "definitions-fresh.jsonl"):
        path = os.path.join(HERE, name)
        if os.path.exists(path):
            for row in read_jsonl(path):
                definitions[row["server"]] += 1
                if name == "definitions-fresh.jsonl":
                    fresh.add(row["server"])
    labels = by_server("labels")
    pass_a = by_server("passes/A")
    pass_b = by_server("passes/B")

    rows = [t for tools in labels.values() for t in tools.values()]
    print(f"Reconciled labels: {len(rows)} tools from {len(labels)} servers "
          f"(definitions: {sum(definitions.values())} tools from {len(definitions)} servers).\n")

    print("| class | value | tools |")
    print("|---|---|---|")
    for field in ("category", "destructive", "risk"):
        counts = collections.Counter(str(r[field]).lower() for r in rows)
        for value, n in sorted(counts.items()):
            print(f"| {field} | {value} | {n} |")
    print()

    fresh_rows = [r for r in rows if r["server"] in fresh]
    if fresh_rows:
        parts = []
        for field in ("category", "destructive", "risk"):
            counts = collections.Counter(str(r[field]).lower() for r in fresh_rows)
            parts.append(", ".join(f"{v} {n}" for v, n in sorted(counts.items())))
        print(f"Of these, the fresh held-out servers (marked *fresh* below): {len(fresh_rows)} tools from "
              f"{len({r['server'] for r in fresh_rows})} servers; category {parts[0]}; destructive {parts[1]}; "
              f"risk {parts[2]}.\n")

    # Agreement of the two independent passes, over every tool both labelled.
    both = [(s, t) for s in pass_a for t in pass_a[s] if t in pass_b.get(s, {})]
    diff = collections.Counter()
    for s, t in both:
        a, b = pass_a[s][t], pass_b[s][t]
        ca, cb = code(a), code(b)
        if ca != cb:
            diff["any"] += 1
        for i, field in enumerate(("category", "destructive", "risk")):
            if ca[i] != cb[i]:
                diff[field] += 1
    if both:
        n = len(both)
        print(f"Pass A vs pass B over the {n} tools both labelled "
              f"({len({s for s, _ in both})} servers): they disagree on {diff['any']} "
              f"({100 * diff['any'] / n:.1f} %): category {diff['category']} ({100 * diff['category'] / n:.1f} %), "
              f"destructive {diff['destructive']} ({100 * diff['destructive'] / n:.1f} %), "
              f"risk {diff['risk']} ({100 * diff['risk'] / n:.1f} %).\n")
        fb = [(s, t) for s, t in both if s in fresh]
        if fb:
            nd = sum(1 for s, t in fb if code(pass_a[s][t]) != code(pass_b[s][t]))
            print(f"On the fresh servers alone: {len(fb)} tools both labelled, disagreement on {nd} "
                  f"({100 * nd / len(fb):.1f} %).\n")

    print("| server | definitions | pass A | pass B | reconciled | read | write | execute | destructive | high risk |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for server in sorted(definitions, key=lambda s: s.lstrip("@").lower()):
        rec = list(labels.get(server, {}).values())
        cat = collections.Counter(r["category"] for r in rec)
        name = f"{server} *fresh*" if server in fresh else server
        print(f"| {name} | {definitions[server]} | {len(pass_a.get(server, {}))} | {len(pass_b.get(server, {}))} "
              f"| {len(rec)} | {cat['read']} | {cat['write']} | {cat['execute']} "
              f"| {sum(1 for r in rec if r['destructive'])} | {sum(1 for r in rec if r['risk'] == 'high')} |")


if __name__ == "__main__":
    main()
