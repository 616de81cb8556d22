/**
 * Training the anomaly detector and scoring updates, in two parts.
 *
 * 1. IsolationForestDetector, as in the earlier system: fitted on 100 normal updates, then
 *    asked for the anomaly score of 20 normal and 10 malicious updates it has not seen. The
 *    rows are lib/detection's per-update features (norms, largest value, layer means and
 *    standard deviations). The score threshold is 0.6 because the forest's default of 0.5 sits
 *    inside the spread of normal scores, where some normal updates land above it.
 * 2. RoundDetector and ClientReputationManager, as the server runs them: four rounds of 8
 *    honest and 2 malicious clients, each round scored against its own median delta, with
 *    reputation, influence weight and quarantine updated after every round.
 *
 * Success: in part 1, at least 90% of the malicious updates are detected with at most 10% false
 * positives. In part 2, every malicious update is flagged, both attackers end up quarantined,
 * and no honest client is.
 */
import { ClientReputationManager, IsolationForestDetector, RoundDetector } from "@/lib/detection";
import { createRandom, shuffleInPlace } from "@/lib/random";
import { fixed, heading, isEntryPoint, runExample, SuccessChecks } from "./support";
import {
  EXAMPLE_LAYOUT,
  gaussianWeights,
  MALICIOUS_DISTRIBUTION,
  NORMAL_DISTRIBUTION,
  perUpdateFeatures,
  roundUpdate,
  sharedDirection,
} from "./synthetic-updates";

const FOREST_THRESHOLD = 0.6;

function trainAndScore(checks: SuccessChecks): void {
  heading("Part 1: isolation forest fitted on normal updates");
  const random = createRandom(11);
  const training = Array.from({ length: 100 }, () => gaussianWeights(random, NORMAL_DISTRIBUTION));
  const { featureNames, rows } = perUpdateFeatures(training);
  const detector = new IsolationForestDetector({ seed: 1, threshold: FOREST_THRESHOLD });
  detector.fit(rows, { featureNames });
  console.log(
    `Fitted ${detector.options.numTrees} trees on ${rows.length} normal updates, ` +
      `${featureNames.length} features each: ${featureNames.join(", ")}`,
  );

  const tests = [
    ...Array.from({ length: 20 }, (_, i) => ({
      clientId: `normal_client_${i}`,
      malicious: false,
      weights: gaussianWeights(random, NORMAL_DISTRIBUTION),
    })),
    ...Array.from({ length: 10 }, (_, i) => ({
      clientId: `malicious_client_${i}`,
      malicious: true,
      weights: gaussianWeights(random, MALICIOUS_DISTRIBUTION),
    })),
  ];
  shuffleInPlace(tests, random);
  const testRows = perUpdateFeatures(tests.map((t) => t.weights)).rows;

  let truePositives = 0;
  let falsePositives = 0;
  console.log(`\nScoring ${tests.length} unseen updates (threshold ${FOREST_THRESHOLD}):`);
  tests.forEach((test, i) => {
    const score = detector.predictAnomalyScore(testRows[i]);
    const flagged = detector.isAnomalous(testRows[i]);
    if (flagged && test.malicious) truePositives += 1;
    if (flagged && !test.malicious) falsePositives += 1;
    let verdict = "correct";
    if (test.malicious) verdict = flagged ? "detected" : "MISSED";
    else if (flagged) verdict = "FALSE POSITIVE";
    console.log(`  ${test.clientId.padEnd(20)} score ${fixed(score)}  ${verdict}`);
  });

  const malicious = tests.filter((t) => t.malicious).length;
  const normal = tests.length - malicious;
  const detectionRate = truePositives / malicious;
  const falsePositiveRate = falsePositives / normal;
  const accuracy = (truePositives + normal - falsePositives) / tests.length;
  console.log(
    `\nDetection rate: ${fixed(detectionRate * 100, 1)}% (${truePositives}/${malicious})`,
  );
  console.log(
    `False positive rate: ${fixed(falsePositiveRate * 100, 1)}% (${falsePositives}/${normal})`,
  );
  console.log(`Overall accuracy: ${fixed(accuracy * 100, 1)}%`);
  checks.check(detectionRate >= 0.9, "forest detects at least 90% of the malicious updates");
  checks.check(falsePositiveRate <= 0.1, "forest flags at most 10% of the normal updates");
}

function scoreRounds(checks: SuccessChecks): void {
  heading("Part 2: round detector and reputation over four rounds");
  const random = createRandom(5);
  const size = EXAMPLE_LAYOUT.reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
  let global = gaussianWeights(random, NORMAL_DISTRIBUTION);
  const honest = Array.from({ length: 8 }, (_, i) => `honest_${i + 1}`);
  // malicious_1 boosts its delta tenfold (model replacement), and malicious_2 flips its sign.
  const attackFactor: Record<string, number> = { malicious_1: 10, malicious_2: -3 };
  const clients = [...honest, ...Object.keys(attackFactor)];

  const detector = new RoundDetector({ seed: 1 });
  const reputation = new ClientReputationManager();
  let missed = 0;
  let falseAlarms = 0;
  for (let round = 1; round <= 4; round++) {
    const direction = sharedDirection(random, size, 0.01);
    const updates = clients.map((clientId) => ({
      clientId,
      weights: roundUpdate(random, global, direction, {
        noise: 0.003,
        factor: attackFactor[clientId] ?? 1,
      }),
    }));
    const scores = detector.scoreRound({ globalWeights: global, updates });
    console.log(`\nRound ${round} (threshold ${detector.options.threshold}):`);
    for (const result of scores.results) {
      const outcome = reputation.updateReputation(result.clientId, result.score, round);
      const attacker = result.clientId in attackFactor;
      if (attacker && !result.isAnomalous) missed += 1;
      if (!attacker && result.isAnomalous) falseAlarms += 1;
      console.log(
        `  ${result.clientId.padEnd(12)} score ${fixed(result.score)} ` +
          `${result.isAnomalous ? "ANOMALOUS" : "normal   "} reputation ${fixed(outcome.reputation)} ` +
          `influence ${fixed(outcome.influenceWeight)}` +
          (outcome.newlyQuarantined ? `  QUARANTINED (${outcome.quarantineReason})` : ""),
      );
    }
    // The next round starts from the honest clients' mean, as an aggregator that left the
    // attackers out would publish it.
    global = global.map((tensor, t) => {
      const data = new Float32Array(tensor.data.length);
      for (const update of updates.slice(0, honest.length)) {
        const values = update.weights[t].data;
        for (let k = 0; k < data.length; k++) data[k] += values[k] / honest.length;
      }
      return { ...tensor, data };
    });
  }

  heading("Reputation after four rounds");
  for (const clientId of clients) {
    console.log(
      `  ${clientId.padEnd(12)} reputation ${fixed(reputation.getReputation(clientId))} ` +
        `influence ${fixed(reputation.getInfluenceWeight(clientId))} ` +
        `quarantined ${reputation.isQuarantined(clientId)}`,
    );
  }
  checks.check(missed === 0, "round detector flags every malicious update");
  checks.check(falseAlarms === 0, "round detector flags no honest update");
  checks.check(
    Object.keys(attackFactor).every((id) => reputation.isQuarantined(id)),
    "both attackers are quarantined",
  );
  checks.check(
    honest.every((id) => !reputation.isQuarantined(id)),
    "no honest client is quarantined",
  );
}

export async function main(): Promise<number> {
  const checks = new SuccessChecks();
  trainAndScore(checks);
  scoreRounds(checks);
  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
