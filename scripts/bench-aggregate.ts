/**
 * Aggregation benchmark: times every rule of lib/aggregation on n client deltas of d float32
 * parameters, next to numpy doing the same operation in the same run, and writes
 * docs/benchmarks/aggregate.json and docs/benchmarks/aggregate.md.
 *
 * Usage: npm run bench:aggregate [-- --quick] [-- --out DIR]
 *   --quick   only d = 100k with n in {10, 100}, for a smoke run (under 20 s here)
 *   --out     output folder (default docs/benchmarks)
 *   --render-only  rewrite aggregate.md from the aggregate.json already in the output folder
 *
 * Method:
 * - Each size runs in two steps, so that only one copy of the data is in memory at a time.
 *   First a Python child process (Debian's /usr/bin/python3 with numpy) generates its own
 *   N(0, 0.01^2) float32 matrix of shape (n, d) and times numpy. Then this process generates
 *   the same distribution with lib/random and times our kernels. The data are not
 *   bit-identical, only alike in shape and distribution.
 * - Every timing is the best of k runs: k = 1 when the first run takes 5 s or more, otherwise
 *   enough runs to fill about 1 s, at least 3 and at most 50. The time is wall-clock time
 *   around one kernel call on data already in memory.
 * - Ours: the kernels on flat deltas (weightedMean, coordinateMedian, trimmedMean, and Krum,
 *   Multi-Krum and Bulyan given the distance matrix). For the distance-based rules the
 *   pairwise distances are timed once and added to each rule's own step, because each rule
 *   computes them exactly once. One extra row times ModelAggregator.aggregate end to end.
 * - numpy: FedAvg as np.average(X, axis=0, weights=w) and np.tensordot(w, X, axes=1) with
 *   float64 weights (both accumulate in float64, like ours), the faster of the two being the
 *   reference, plus float32 BLAS (w32 @ X) reported for information; the median as
 *   np.median(X, axis=0); the trimmed mean as np.partition(X, [k, n - k - 1], axis=0) followed
 *   by the float64 mean of rows k..n-k-1.
 * - Sizes whose data or estimated time do not fit are skipped and recorded with the reason.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  bulyan,
  coordinateMedian,
  krum,
  ModelAggregator,
  multiKrum,
  pairwiseSquaredDistances,
  trimmedMean,
  weightedMean,
} from "../lib/aggregation";
import { createRandom } from "../lib/random";
import type { Weights } from "../lib/tensors";

const PYTHON = "/usr/bin/python3";
const CLIENT_COUNTS = [10, 100, 1000];
const DIMENSIONS = [100_000, 1_000_000];
const BETA = 0.1;
/** Ratio ours / numpy that FedAvg, median and trimmed mean should stay under. */
const TARGET_RATIO = 1.5;
/** A distance-based rule is skipped when its estimated time exceeds this (seconds). */
const MAX_DISTANCE_SECONDS = 120;
/**
 * Memory needed, as a multiple of one (n, d) float32 matrix: numpy keeps the matrix and a
 * float64 product of the same shape during np.average. A size runs only if that fits in 40% of
 * the total memory and 80% of the free memory, since other work shares the machine.
 */
const MEMORY_FACTOR = 3;

type RuleName = "fedavg" | "median" | "trimmed-mean" | "krum" | "multi-krum" | "bulyan";
const RULES: RuleName[] = ["fedavg", "median", "trimmed-mean", "krum", "multi-krum", "bulyan"];
const NUMPY_RULES: RuleName[] = ["fedavg", "median", "trimmed-mean"];

interface Timing {
  ms: number;
  runs: number;
}

interface ResultRow {
  rule: RuleName | "aggregate() fedavg" | "aggregate() median";
  n: number;
  d: number;
  status: "measured" | "skipped";
  reason?: string;
  oursMs?: number;
  oursRuns?: number;
  /** For distance-based rules: the shared distance time included in oursMs. */
  distanceMs?: number;
  numpyMs?: number;
  numpyVariant?: string;
  numpyRuns?: number;
  ratio?: number;
  numpyFloat32BlasMs?: number;
  ratioToFloat32Blas?: number;
  parameters?: Record<string, number>;
}

interface NumpyTimings {
  fedavg_average: Timing;
  fedavg_tensordot64: Timing;
  fedavg_float32_blas: Timing;
  median: Timing;
  trimmed_mean: Timing;
}

const PYTHON_SCRIPT = `
import json, math, sys, time
import numpy as np

n, d, beta, seed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
X = (rng.standard_normal((n, d), dtype=np.float32) * np.float32(0.01)).astype(np.float32)
w = rng.integers(100, 1000, size=n).astype(np.float64)
w32 = (w / w.sum()).astype(np.float32)
k = int(np.floor(beta * n))

def best(fn):
    start = time.perf_counter(); fn(); first = time.perf_counter() - start
    runs = 1 if first >= 5 else min(50, max(3, math.ceil(1.0 / max(first, 1e-6))))
    times = [first]
    for _ in range(runs - 1):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return {"ms": min(times) * 1000, "runs": runs}

def trimmed():
    if k == 0:
        return X.mean(axis=0, dtype=np.float64)
    part = np.partition(X, [k, n - k - 1], axis=0)
    return part[k:n - k].mean(axis=0, dtype=np.float64)

out = {
    "fedavg_average": best(lambda: np.average(X, axis=0, weights=w)),
    "fedavg_tensordot64": best(lambda: np.tensordot(w / w.sum(), X, axes=1)),
    "fedavg_float32_blas": best(lambda: w32 @ X),
    "median": best(lambda: np.median(X, axis=0)),
    "trimmed_mean": best(trimmed),
}
print(json.dumps(out))
`;

function main(): void {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const outIndex = args.indexOf("--out");
  const outDir = outIndex >= 0 ? args[outIndex + 1] : path.join("docs", "benchmarks");
  if (outIndex >= 0 && !outDir) throw new Error("--out needs a folder");

  if (args.includes("--render-only")) {
    const record = JSON.parse(readFileSync(path.join(outDir, "aggregate.json"), "utf8"));
    writeFileSync(path.join(outDir, "aggregate.md"), renderMarkdown(record));
    console.log(`rewrote ${path.join(outDir, "aggregate.md")} from aggregate.json`);
    return;
  }

  const numpyVersion = findNumpy();
  const machine = describeMachine(numpyVersion);
  console.log(
    `node ${machine.node}, ${machine.cpu} x ${machine.cores}, numpy ${numpyVersion ?? "missing"}`,
  );
  if (numpyVersion === null) {
    console.log(
      `numpy not found for ${PYTHON}: the numpy reference is skipped (apt-get install python3-numpy)`,
    );
  }

  const counts = quick ? [10, 100] : CLIENT_COUNTS;
  const dims = quick ? [100_000] : DIMENSIONS;
  const rows: ResultRow[] = [];
  /** Measured nanoseconds per (pair, coordinate) of the distance pass, for estimates. */
  let distanceNsPerPairValue: number | null = null;
  const startedAt = performance.now();

  for (const d of dims) {
    for (const n of counts) {
      const bytes = n * d * 4;
      const needed = bytes * MEMORY_FACTOR;
      const allowed = Math.min(os.totalmem() * 0.4, os.freemem() * 0.8);
      if (needed > allowed) {
        const reason =
          `one (n, d) float32 matrix is ${gib(bytes)} GiB; numpy's float64 FedAvg needs about ` +
          `${MEMORY_FACTOR}x that (${gib(needed)} GiB), over the ${gib(allowed)} GiB allowed ` +
          `(40% of ${gib(os.totalmem())} GiB total, at most 80% of the free memory)`;
        const estimate = estimateDistanceSeconds(distanceNsPerPairValue, n, d);
        for (const rule of RULES) {
          const distanceBased = rule === "krum" || rule === "multi-krum" || rule === "bulyan";
          const extra =
            distanceBased && estimate !== null
              ? `; its distance pass alone is estimated at ${estimate.toFixed(0)} s`
              : "";
          rows.push({ rule, n, d, status: "skipped", reason: reason + extra });
        }
        console.log(`n=${n} d=${d}: skipped, ${reason}`);
        continue;
      }

      const numpy = numpyVersion === null ? null : runNumpy(n, d);
      const deltas = generateDeltas(n, d, 1000 + n);
      const weights = generateSampleCounts(n, 2000 + n);
      const f = Math.max(1, Math.floor(n / 10));
      const m = n - f;

      for (const rule of NUMPY_RULES) {
        const ours = timeBest(() => runOrderRule(rule, deltas, weights));
        rows.push(compareRow(rule, n, d, ours, numpy));
        report(rows[rows.length - 1]);
      }

      const estimateSeconds = estimateDistanceSeconds(distanceNsPerPairValue, n, d) ?? 0;
      if (estimateSeconds > MAX_DISTANCE_SECONDS) {
        const reason =
          `the O(n^2 d) distance pass is estimated at ${estimateSeconds.toFixed(0)} s ` +
          `(${distanceNsPerPairValue?.toFixed(2)} ns per pair and coordinate, measured on a smaller size), ` +
          `over the ${MAX_DISTANCE_SECONDS} s limit`;
        for (const rule of ["krum", "multi-krum", "bulyan"] as const) {
          rows.push({ rule, n, d, status: "skipped", reason, parameters: { f, m } });
        }
        console.log(`n=${n} d=${d}: Krum, Multi-Krum and Bulyan skipped, ${reason}`);
      } else {
        let distances: Float64Array = new Float64Array(0);
        const distanceTime = timeBest(() => {
          distances = pairwiseSquaredDistances(deltas);
        });
        distanceNsPerPairValue = (distanceTime.ms * 1e6) / (((n * (n - 1)) / 2) * d);
        const steps: [RuleName, () => unknown, Record<string, number>][] = [
          ["krum", () => krum(deltas, f, distances), { f }],
          ["multi-krum", () => multiKrum(deltas, f, m, distances), { f, m }],
        ];
        if (n >= 4 * f + 3) steps.push(["bulyan", () => bulyan(deltas, f, distances), { f }]);
        for (const [rule, step, parameters] of steps) {
          const own = timeBest(step);
          rows.push({
            rule,
            n,
            d,
            status: "measured",
            oursMs: distanceTime.ms + own.ms,
            oursRuns: Math.min(distanceTime.runs, own.runs),
            distanceMs: distanceTime.ms,
            parameters,
          });
          report(rows[rows.length - 1]);
        }
      }

      if (n === 100) rows.push(...timeEndToEnd(deltas, weights, n, d));
    }
  }

  const krumScaling = fitKrumScaling(rows);
  const totalSeconds = (performance.now() - startedAt) / 1000;
  const record = {
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))) },
    settings: {
      dimensions: dims,
      clientCounts: counts,
      beta: BETA,
      f: "max(1, floor(n / 10))",
      m: "n - f",
      data: "N(0, 0.01^2) float32 deltas; FedAvg weights are sample counts drawn from [100, 1000)",
      repeats: "best of k: k = 1 from 5 s per run, else enough to fill about 1 s, 3 to 50",
      targetRatio: TARGET_RATIO,
      quick,
    },
    totalSeconds,
    results: rows,
    krumScaling,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, "aggregate.json"), `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(path.join(outDir, "aggregate.md"), renderMarkdown(record));
  console.log(
    `wrote ${path.join(outDir, "aggregate.json")} and aggregate.md in ${totalSeconds.toFixed(0)} s`,
  );
}

/** Returns the estimated seconds of the O(n^2 d) distance pass, or null before any was timed. */
function estimateDistanceSeconds(
  nsPerPairValue: number | null,
  n: number,
  d: number,
): number | null {
  if (nsPerPairValue === null) return null;
  return (nsPerPairValue * ((n * (n - 1)) / 2) * d) / 1e9;
}

function runOrderRule(rule: RuleName, deltas: Float32Array[], weights: Float64Array): unknown {
  if (rule === "fedavg") return weightedMean(deltas, weights);
  if (rule === "median") return coordinateMedian(deltas);
  return trimmedMean(deltas, BETA);
}

function compareRow(
  rule: RuleName,
  n: number,
  d: number,
  ours: Timing,
  numpy: NumpyTimings | null,
): ResultRow {
  const row: ResultRow = { rule, n, d, status: "measured", oursMs: ours.ms, oursRuns: ours.runs };
  if (numpy === null) return row;
  let reference: Timing;
  let variant: string;
  if (rule === "fedavg") {
    const useAverage = numpy.fedavg_average.ms <= numpy.fedavg_tensordot64.ms;
    reference = useAverage ? numpy.fedavg_average : numpy.fedavg_tensordot64;
    variant = useAverage ? "np.average (float64)" : "np.tensordot (float64)";
    row.numpyFloat32BlasMs = numpy.fedavg_float32_blas.ms;
    row.ratioToFloat32Blas = ours.ms / numpy.fedavg_float32_blas.ms;
  } else if (rule === "median") {
    reference = numpy.median;
    variant = "np.median";
  } else {
    reference = numpy.trimmed_mean;
    variant = "np.partition + mean";
  }
  row.numpyMs = reference.ms;
  row.numpyRuns = reference.runs;
  row.numpyVariant = variant;
  row.ratio = ours.ms / reference.ms;
  return row;
}

/** Times ModelAggregator.aggregate with FedAvg and the median, validation and copies included. */
function timeEndToEnd(
  deltas: Float32Array[],
  weights: Float64Array,
  n: number,
  d: number,
): ResultRow[] {
  const globalData = new Float32Array(d);
  const globalWeights: Weights = [{ name: "dense/kernel", shape: [d], data: globalData }];
  const updates = deltas.map((delta, i) => ({
    clientId: `client-${String(i).padStart(4, "0")}`,
    weights: [{ name: "dense/kernel", shape: [d], data: delta }],
    numSamples: weights[i],
  }));
  const rows: ResultRow[] = [];
  for (const rule of ["fedavg", "median"] as const) {
    const aggregator = new ModelAggregator({ rule: { name: rule } });
    const timing = timeBest(() => aggregator.aggregate(globalWeights, updates));
    const row: ResultRow = {
      rule: `aggregate() ${rule}`,
      n,
      d,
      status: "measured",
      oursMs: timing.ms,
      oursRuns: timing.runs,
    };
    rows.push(row);
    report(row);
  }
  return rows;
}

function timeBest(run: () => unknown): Timing {
  let start = performance.now();
  run();
  const first = performance.now() - start;
  const runs =
    first >= 5000 ? 1 : Math.min(50, Math.max(3, Math.ceil(1000 / Math.max(first, 1e-3))));
  let best = first;
  for (let i = 1; i < runs; i++) {
    start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return { ms: best, runs };
}

function generateDeltas(n: number, d: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => {
    const delta = new Float32Array(d);
    for (let k = 0; k < d; k++) delta[k] = 0.01 * random.gaussian();
    return delta;
  });
}

function generateSampleCounts(n: number, seed: number): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length: n }, () => 100 + random.int(900));
}

function runNumpy(n: number, d: number): NumpyTimings | null {
  const result = spawnSync(PYTHON, ["-", String(n), String(d), String(BETA), String(n)], {
    input: PYTHON_SCRIPT,
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) {
    console.log(`numpy reference failed for n=${n} d=${d}: ${result.stderr || result.error}`);
    return null;
  }
  return JSON.parse(result.stdout) as NumpyTimings;
}

function findNumpy(): string | null {
  try {
    return execFileSync(PYTHON, ["-c", "import numpy; print(numpy.__version__)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return null;
  }
}

function describeMachine(numpyVersion: string | null) {
  let python: string | null = null;
  try {
    python = execFileSync(PYTHON, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    python = null;
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    totalMemoryGiB: Number(gib(os.totalmem())),
    freeMemoryGiBAtStart: Number(gib(os.freemem())),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    python,
    numpy: numpyVersion,
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

/** Fits time = c * n^p by least squares on log time against log n over the measured Krum rows. */
function fitKrumScaling(rows: ResultRow[]) {
  const byDimension = new Map<number, { n: number; ms: number }[]>();
  for (const row of rows) {
    if (row.rule !== "krum" || row.status !== "measured" || row.oursMs === undefined) continue;
    const points = byDimension.get(row.d) ?? [];
    points.push({ n: row.n, ms: row.oursMs });
    byDimension.set(row.d, points);
  }
  return [...byDimension.entries()].map(([d, points]) => {
    if (points.length < 2) return { d, points, exponent: null };
    const xs = points.map((p) => Math.log(p.n));
    const ys = points.map((p) => Math.log(p.ms));
    const meanX = xs.reduce((s, x) => s + x, 0) / xs.length;
    const meanY = ys.reduce((s, y) => s + y, 0) / ys.length;
    let covariance = 0;
    let variance = 0;
    for (let i = 0; i < xs.length; i++) {
      covariance += (xs[i] - meanX) * (ys[i] - meanY);
      variance += (xs[i] - meanX) ** 2;
    }
    return { d, points, exponent: covariance / variance };
  });
}

function report(row: ResultRow): void {
  const numpy =
    row.numpyMs === undefined
      ? ""
      : `, numpy ${row.numpyMs.toFixed(1)} ms (${row.numpyVariant}), ratio ${row.ratio?.toFixed(2)}`;
  console.log(`${row.rule} n=${row.n} d=${row.d}: ours ${row.oursMs?.toFixed(1)} ms${numpy}`);
}

function targetCell(ratio: number | undefined): string {
  if (ratio === undefined) return "";
  return ratio <= TARGET_RATIO ? "yes" : "**no (miss)**";
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

function renderMarkdown(record: {
  machine: ReturnType<typeof describeMachine> & { loadAverageAtEnd: number[] };
  settings: Record<string, unknown>;
  totalSeconds: number;
  results: ResultRow[];
  krumScaling: ReturnType<typeof fitKrumScaling>;
}): string {
  const { machine } = record;
  const lines: string[] = [];
  lines.push("# Aggregation benchmark");
  lines.push("");
  lines.push(
    `Measured by \`npm run bench:aggregate\` (scripts/bench-aggregate.ts) on ${machine.date.slice(0, 10)}: ` +
      `Node ${machine.node}, ${machine.cpu} (${machine.cores} cores visible, shared with other work; ` +
      `load average ${machine.loadAverageAtStart.join(" / ")} at start and ` +
      `${machine.loadAverageAtEnd.join(" / ")} at the end), ${machine.totalMemoryGiB} GiB memory, ` +
      `${machine.python ?? "no Python"} with numpy ${machine.numpy ?? "missing"}. ` +
      `The whole run took ${record.totalSeconds.toFixed(0)} s.`,
  );
  lines.push("");
  lines.push(
    "Times are the best of k wall-clock runs of one kernel call (k = 1 from 5 s per run, else " +
      "enough runs to fill about 1 s, from 3 to 50) on N(0, 0.01^2) float32 deltas already in memory. numpy generates its own data " +
      "of the same shape and distribution in a child process. The trimmed mean uses beta = 0.1; " +
      "Krum, Multi-Krum and Bulyan use f = max(1, floor(n / 10)) and m = n - f, and their time " +
      "is the shared distance pass plus the rule's own step. Ratio = ours / numpy; the target " +
      `is at most ${TARGET_RATIO} for FedAvg, median and trimmed mean.`,
  );
  lines.push("");
  lines.push("| rule | n | d | ours (ms) | numpy (ms) | numpy op | ratio | target met |");
  lines.push("|---|---:|---:|---:|---:|---|---:|---|");
  for (const row of record.results) {
    if (row.status === "skipped") {
      lines.push(`| ${row.rule} | ${row.n} | ${row.d} | skipped | | | | ${row.reason} |`);
      continue;
    }
    const numpy = row.numpyMs === undefined ? "" : row.numpyMs.toFixed(1);
    const ratio = row.ratio === undefined ? "" : row.ratio.toFixed(2);
    const met = targetCell(row.ratio);
    const note = row.distanceMs === undefined ? "" : ` (distances ${row.distanceMs.toFixed(0)})`;
    lines.push(
      `| ${row.rule} | ${row.n} | ${row.d} | ${row.oursMs?.toFixed(1)}${note} | ${numpy} | ${row.numpyVariant ?? ""} | ${ratio} | ${met} |`,
    );
  }
  lines.push("");

  const fedavg = record.results.filter(
    (r) => r.rule === "fedavg" && r.numpyFloat32BlasMs !== undefined,
  );
  if (fedavg.length > 0) {
    lines.push("## FedAvg against float32 BLAS");
    lines.push("");
    lines.push(
      "Ours and the reference above accumulate in float64. numpy's `w32 @ X` runs float32 " +
        "BLAS (sgemv, SIMD) with float32 accumulation, a cheaper and less precise operation, " +
        "shown here for information.",
    );
    lines.push("");
    lines.push("| n | d | ours (ms) | w32 @ X (ms) | ratio |");
    lines.push("|---:|---:|---:|---:|---:|");
    for (const row of fedavg) {
      lines.push(
        `| ${row.n} | ${row.d} | ${row.oursMs?.toFixed(1)} | ${row.numpyFloat32BlasMs?.toFixed(1)} | ${row.ratioToFloat32Blas?.toFixed(2)} |`,
      );
    }
    lines.push("");
  }

  lines.push("## Krum scaling with n");
  lines.push("");
  for (const fit of record.krumScaling) {
    const points = fit.points.map((p) => `n=${p.n}: ${p.ms.toFixed(0)} ms`).join(", ");
    const exponent = fit.exponent === null ? "not enough points" : fit.exponent.toFixed(2);
    lines.push(`- d = ${fit.d}: ${points}; fitted exponent of time ~ n^p: p = ${exponent}.`);
  }
  lines.push("");
  lines.push(
    "The distance pass compares n (n - 1) / 2 pairs over d coordinates, so p = 2 is expected " +
      "once it dominates. A p above 2 means the time per pair grew with n, which a working set " +
      "outgrowing the cache or heavier load from other work during the longer runs can cause.",
  );
  lines.push("");
  return `${lines.join("\n")}\n`;
}

main();
