/**
 * Benchmarks lib/detection: how well the round detector separates attackers from honest clients
 * on simulated rounds, and how long features, scoring and SHAP explanations take on an
 * MNIST-sized model.
 *
 * Detection: honest deltas are one shared direction plus Gaussian noise on a 294-parameter
 * model (tests/unit/detection/synthetic-round.ts). Attackers start from an honest-looking delta
 * of their own and apply a registered model attack (lib/attacks) with its default parameters,
 * except scaling, which uses lambda = 10. Each case runs several seeds of a few consecutive
 * rounds with one RoundDetector, so later rounds use the history window. Misses are recorded:
 * attacks built to stay inside the honest spread (ALIE, min-max, min-sum) and Sybil copies of an
 * honest delta are not expected to be flagged.
 *
 * Timing: a 784-128-10 dense model (101,770 parameters), 10 and 50 clients, median of several
 * runs of computeRoundFeatures, scoreRound (features + fit + score) and one SHAP explanation.
 *
 * The detection benchmark on real MNIST training is scripts/bench-detection.ts.
 *
 * Usage: npm run bench:detection -- --synthetic
 *   or   npx tsx scripts/bench-detection-synthetic.ts
 *   (prints tables, writes docs/benchmarks/detection-synthetic.json)
 */

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { applyModelAttack } from "../lib/attacks";
import {
  type ClientUpdateInput,
  computeRoundFeatures,
  ROUND_DETECTOR_DEFAULTS,
  RoundDetector,
  type RoundInput,
  SHAPExplainer,
  scoreRound,
} from "../lib/detection";
import { createRandom, type Random } from "../lib/random";
import type { Weights } from "../lib/tensors";
import { randomWeights, syntheticRound } from "../tests/unit/detection/synthetic-round";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const OUTPUT = path.join(ROOT, "docs/benchmarks/detection-synthetic.json");

const SEEDS = 20;
const ROUNDS = 3;
const GROUPS = [
  { honest: 3, attackers: 1 },
  { honest: 8, attackers: 2 },
  { honest: 40, attackers: 10 },
];
const ATTACK_CASES: { name: string; parameters?: Record<string, number> }[] = [
  { name: "scaling", parameters: { lambda: 10 } },
  { name: "sign-flip" },
  { name: "gaussian-noise" },
  { name: "free-rider" },
  { name: "ipm" },
  { name: "alie" },
  { name: "min-max" },
  { name: "min-sum" },
  { name: "sybil" },
];
const TIMING_RUNS = 5;
const MNIST_MANIFEST = [
  { name: "dense/kernel", shape: [784, 128] },
  { name: "dense/bias", shape: [128] },
  { name: "output/kernel", shape: [128, 10] },
  { name: "output/bias", shape: [10] },
];

interface DetectionResult {
  attack: string;
  honest: number;
  attackers: number;
  seeds: number;
  rounds: number;
  attackerUpdates: number;
  honestUpdates: number;
  truePositiveRate: number;
  falsePositiveRate: number;
  meanHonestScore: number;
  maxHonestScore: number;
  minAttackerScore: number;
  meanAttackerScore: number;
}

/** Builds a round of `honest` clients plus attackers that apply `attack` to their own delta. */
function attackedRound(
  random: Random,
  globalWeights: Weights,
  honest: number,
  attackers: number,
  attack: (typeof ATTACK_CASES)[number],
  seed: number,
): RoundInput {
  const base = syntheticRound(random, {
    honest: honest + attackers,
    attackers: 0,
    attack: "scale",
    globalWeights,
  });
  const honestUpdates = base.updates.slice(0, honest);
  const honestWeights = honestUpdates.map((u) => u.weights);
  const malicious: ClientUpdateInput[] = [];
  const own = base.updates.slice(honest);
  if (attack.name === "sybil") {
    const result = applyModelAttack(
      "sybil",
      { globalWeights, ownWeights: own[0].weights, numMalicious: attackers },
      { seed },
    );
    result.updates.forEach((weights, i) => {
      malicious.push({ clientId: `attacker-${i}`, weights });
    });
  } else {
    own.forEach((update, i) => {
      const parameters: Record<string, number> = { ...attack.parameters };
      if (attack.name === "gaussian-noise" || attack.name === "free-rider") {
        parameters.seed = seed * 1000 + i;
      }
      const result = applyModelAttack(
        attack.name,
        {
          globalWeights,
          ownWeights: update.weights,
          honestWeights,
          numClients: honest + attackers,
          numMalicious: attackers,
        },
        parameters,
      );
      malicious.push({ clientId: `attacker-${i}`, weights: result.updates[0] });
    });
  }
  return { globalWeights, updates: [...honestUpdates, ...malicious] };
}

/** A case that could not run and its error message, recorded in place of a result. */
interface DetectionFailure {
  attack: string;
  honest: number;
  attackers: number;
  error: string;
}

function measureDetection(): (DetectionResult | DetectionFailure)[] {
  const results: (DetectionResult | DetectionFailure)[] = [];
  for (const group of GROUPS) {
    for (const attack of ATTACK_CASES) {
      try {
        results.push(measureCase(group.honest, group.attackers, attack));
      } catch (error) {
        results.push({
          attack: attack.name,
          honest: group.honest,
          attackers: group.attackers,
          error: (error as Error).message,
        });
      }
    }
  }
  return results;
}

function measureCase(
  honest: number,
  attackers: number,
  attack: (typeof ATTACK_CASES)[number],
): DetectionResult {
  let truePositives = 0;
  let falsePositives = 0;
  let attackerUpdates = 0;
  let honestUpdates = 0;
  let maxHonestScore = 0;
  let minAttackerScore = 1;
  let attackerScoreSum = 0;
  let honestScoreSum = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const random = createRandom(seed);
    const globalWeights = randomWeights(random);
    const detector = new RoundDetector({ seed });
    for (let round = 0; round < ROUNDS; round++) {
      const input = attackedRound(
        random,
        globalWeights,
        honest,
        attackers,
        attack,
        seed * ROUNDS + round,
      );
      for (const r of detector.scoreRound(input).results) {
        if (r.clientId.startsWith("attacker")) {
          attackerUpdates++;
          attackerScoreSum += r.score;
          minAttackerScore = Math.min(minAttackerScore, r.score);
          if (r.isAnomalous) truePositives++;
        } else {
          honestUpdates++;
          honestScoreSum += r.score;
          maxHonestScore = Math.max(maxHonestScore, r.score);
          if (r.isAnomalous) falsePositives++;
        }
      }
    }
  }
  return {
    attack: attack.name,
    honest,
    attackers,
    seeds: SEEDS,
    rounds: ROUNDS,
    attackerUpdates,
    honestUpdates,
    truePositiveRate: truePositives / attackerUpdates,
    falsePositiveRate: falsePositives / honestUpdates,
    meanHonestScore: honestScoreSum / honestUpdates,
    maxHonestScore,
    minAttackerScore,
    meanAttackerScore: attackerScoreSum / attackerUpdates,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function timeMs(run: () => void): number {
  const samples: number[] = [];
  run();
  for (let i = 0; i < TIMING_RUNS; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function mnistRound(clients: number, seed: number): RoundInput {
  const random = createRandom(seed);
  const globalWeights: Weights = MNIST_MANIFEST.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    return {
      name: spec.name,
      shape: [...spec.shape],
      data: Float32Array.from({ length: size }, () => random.gaussian() * 0.05),
    };
  });
  const updates = Array.from({ length: clients }, (_, c) => ({
    clientId: `client-${c}`,
    weights: globalWeights.map((t) => ({
      name: t.name,
      shape: [...t.shape],
      data: Float32Array.from(t.data, (v) => v + random.gaussian() * 0.001),
    })),
  }));
  return { globalWeights, updates };
}

function measureTiming() {
  return [10, 50].map((clients) => {
    const round = mnistRound(clients, clients);
    const featuresMs = timeMs(() => computeRoundFeatures(round));
    const scoreRoundMs = timeMs(() => scoreRound(round));
    const scores = scoreRound(round);
    const explainer = new SHAPExplainer(scores.detector);
    const explainMs = timeMs(() => explainer.explain(scores.results[0].features));
    const forestJsonBytes = JSON.stringify(scores.detector.toJSON()).length;
    return {
      clients,
      parameters: round.globalWeights.reduce((sum, t) => sum + t.data.length, 0),
      detectorFeatures: scores.featureNames.length,
      computeRoundFeaturesMs: featuresMs,
      scoreRoundMs,
      explainOneUpdateMs: explainMs,
      forestJsonBytes,
    };
  });
}

/** Runs the simulation and the timings, prints them and writes the JSON record. */
export function runSyntheticBenchmark(): void {
  const loadAtStart = os.loadavg();
  console.log(
    `node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} x ${os.cpus().length}`,
  );
  console.log(
    `round detector defaults: ${JSON.stringify(ROUND_DETECTOR_DEFAULTS)}, ${SEEDS} seeds x ${ROUNDS} rounds per case`,
  );

  const detection = measureDetection();
  console.log(
    "\nattack            honest+att  TPR     FPR     mean honest  max honest  min attacker  mean attacker",
  );
  for (const r of detection) {
    const label = `${r.attack.padEnd(18)}${`${r.honest}+${r.attackers}`.padEnd(12)}`;
    if ("error" in r) {
      console.log(`${label}failed: ${r.error}`);
      continue;
    }
    console.log(
      `${label}${r.truePositiveRate.toFixed(3).padEnd(8)}${r.falsePositiveRate.toFixed(3).padEnd(8)}${r.meanHonestScore.toFixed(3).padEnd(13)}${r.maxHonestScore.toFixed(3).padEnd(12)}${r.minAttackerScore.toFixed(3).padEnd(14)}${r.meanAttackerScore.toFixed(3)}`,
    );
  }

  const timing = measureTiming();
  console.log("\nclients  parameters  features ms  scoreRound ms  explain ms  forest JSON bytes");
  for (const t of timing) {
    console.log(
      `${String(t.clients).padEnd(9)}${String(t.parameters).padEnd(12)}${t.computeRoundFeaturesMs.toFixed(1).padEnd(13)}${t.scoreRoundMs.toFixed(1).padEnd(15)}${t.explainOneUpdateMs.toFixed(2).padEnd(12)}${t.forestJsonBytes}`,
    );
  }

  const record = {
    generatedAt: new Date().toISOString(),
    command: "npm run bench:detection -- --synthetic",
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      logicalCpus: os.cpus().length,
      loadAverageAtStart: loadAtStart.map((v) => Number(v.toFixed(2))),
      loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))),
    },
    method: {
      roundDetector: ROUND_DETECTOR_DEFAULTS,
      seeds: SEEDS,
      roundsPerSeed: ROUNDS,
      honestModel: "294 parameters; delta = shared N(0, 0.01^2) direction + N(0, 0.005^2) noise",
      attacks: "lib/attacks applyModelAttack defaults; scaling with lambda 10",
      timingModel:
        "784-128-10 dense, honest deltas N(0, 0.001^2), median of 5 runs after 1 warm-up",
    },
    detection,
    timing,
  };

  mkdirSync(path.dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, OUTPUT)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runSyntheticBenchmark();
}
