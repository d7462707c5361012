import { decide, type Feature, type HeuristicModel } from "../src/classify/features.js";
import type { Access } from "../src/core/types.js";

/**
 * Fits feature weights on labelled tools. The rules stay the same; only how much each access rule counts moves, within
 * a few units of its hand weight, only for rules seen on enough different servers, and evidence against a read may
 * only count more. `scripts/eval-classifier.ts --fit` refits them for every leave-one-server-out fold without the
 * server it scores. Measured so (BENCHMARKS.md), fitting did not beat the hand weights, so none are shipped: the
 * classifier runs on its hand weights, and this stays to re-check that as the corpus grows.
 */

/** One labelled tool as the fit sees it: its features (with annotations and without), the server and the labels. */
export interface FitSample {
  server: string;
  variants: readonly (readonly Feature[])[];
  access: Access;
  destructive: boolean;
}

export interface FitOptions {
  /** A rule's weight is fitted only when it fired on tools of at least this many servers (default 4). */
  minServers?: number;
  /** How far a fitted weight may move from the hand weight (default 2). */
  maxShift?: number;
  /** Cost of each unit a weight moves away from its hand weight, in errors (default 0.5): keeps noise out. */
  shiftCost?: number;
  /** Cost of calling a tool that is not read "read" (default 4: a hole in the policy). */
  falseAllowCost?: number;
  /** Cost of a missed destructive flag and of a false one (defaults 1.5 and 1). */
  destructiveMissCost?: number;
  destructiveFalseCost?: number;
  sweeps?: number;
}

interface Prepared {
  features: readonly Feature[];
  access: Access;
  destructive: boolean;
}

/** The cost of one verdict against its labels. */
function cost(p: Prepared, model: HeuristicModel, o: Required<FitOptions>): number {
  const v = decide(p.features, model);
  let c = 0;
  if (v.access !== p.access) c += p.access !== "read" && v.access === "read" ? o.falseAllowCost : 1;
  if (v.destructive && !p.destructive) c += o.destructiveFalseCost;
  else if (!v.destructive && p.destructive) c += o.destructiveMissCost;
  return c;
}

/** Coordinate search over the weights of rules seen on enough servers; deterministic for the same samples. */
export function fitWeights(samples: readonly FitSample[], options: FitOptions = {}): HeuristicModel {
  const o: Required<FitOptions> = {
    minServers: options.minServers ?? 4,
    maxShift: options.maxShift ?? 2,
    shiftCost: options.shiftCost ?? 0.5,
    falseAllowCost: options.falseAllowCost ?? 4,
    destructiveMissCost: options.destructiveMissCost ?? 1.5,
    destructiveFalseCost: options.destructiveFalseCost ?? 1,
    sweeps: options.sweeps ?? 2,
  };
  const rows: Prepared[] = [];
  for (const s of samples)
    for (const features of s.variants) rows.push({ features, access: s.access, destructive: s.destructive });

  // Which rows each rule fires on, its hand weight and on how many servers it fired.
  const byId = new Map<string, { hand: number; notRead: boolean; rows: number[]; servers: Set<string> }>();
  let i = 0;
  for (const s of samples)
    for (const features of s.variants) {
      for (const f of features) {
        // Only access evidence is fitted: destructive and financial rules state the labelling definition itself.
        if ((f.to !== "read" && f.to !== "write" && f.to !== "execute") || f.weight === 0) continue;
        let e = byId.get(f.id);
        if (!e) {
          e = { hand: f.weight, notRead: f.to !== "read" && f.weight > 0, rows: [], servers: new Set() };
          byId.set(f.id, e);
        }
        if (e.rows[e.rows.length - 1] !== i) e.rows.push(i);
        e.servers.add(s.server);
      }
      i++;
    }
  const ids = [...byId.keys()].filter((id) => byId.get(id)!.servers.size >= o.minServers).sort();
  const model: HeuristicModel = { weights: {} };
  for (let sweep = 0; sweep < o.sweeps; sweep++) {
    let moved = false;
    for (const id of ids) {
      const e = byId.get(id)!;
      const current = model.weights[id] ?? e.hand;
      const base = (w: number) => {
        model.weights[id] = w;
        let c = o.shiftCost * Math.abs(w - e.hand);
        for (const r of e.rows) c += cost(rows[r]!, model, o);
        return c;
      };
      let best = current;
      let bestCost = base(current);
      for (let d = -o.maxShift; d <= o.maxShift; d++) {
        const w = e.hand + d;
        // A rule keeps its direction: fitting may silence it, never turn it around.
        if (w === current || (e.hand > 0 && w < 0) || (e.hand < 0 && w > 0)) continue;
        // Fail safe: the fit may make evidence against a read count more, never less.
        if (e.notRead && w < e.hand) continue;
        const c = base(w);
        if (c < bestCost - 1e-9) {
          best = w;
          bestCost = c;
        }
      }
      if (best !== current) moved = true;
      if (best === e.hand) delete model.weights[id];
      else model.weights[id] = best;
    }
    if (!moved) break;
  }
  return model;
}
