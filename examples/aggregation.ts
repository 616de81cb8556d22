/**
 * Reputation-weighted aggregation: ModelAggregator's "reputation" rule weights each client's delta
 * by its influence weight from ClientReputationManager, compared with the same rule at equal
 * weights.
 *
 * Three honest clients, one suspicious client whose delta drifts from theirs, and one malicious
 * client that sends large noise. Their reputations come from one anomaly score each (0.1, 0.6 and
 * 0.9, as in the earlier system's example). The malicious client's reputation falls below the
 * quarantine threshold, so it is filtered out before aggregation, as the server does.
 *
 * Success: the malicious client is quarantined, the suspicious client gets a smaller share of
 * the aggregate than each honest client, and the reputation-weighted model lies closer to the
 * honest clients' mean than the equally weighted one.
 */
import { type ClientUpdate, ModelAggregator } from "@/lib/aggregation";
import { ClientReputationManager } from "@/lib/detection";
import { createRandom } from "@/lib/random";
import { flattenWeights, type Weights } from "@/lib/tensors";
import { fixed, heading, isEntryPoint, runExample, SuccessChecks } from "./support";
import { gaussianWeights, NORMAL_DISTRIBUTION } from "./synthetic-updates";

interface SimulatedClient {
  clientId: string;
  kind: "honest" | "suspicious" | "malicious";
  anomalyScore: number;
}

const CLIENTS: SimulatedClient[] = [
  { clientId: "honest_1", kind: "honest", anomalyScore: 0.1 },
  { clientId: "honest_2", kind: "honest", anomalyScore: 0.1 },
  { clientId: "honest_3", kind: "honest", anomalyScore: 0.1 },
  { clientId: "suspicious_1", kind: "suspicious", anomalyScore: 0.6 },
  { clientId: "malicious_1", kind: "malicious", anomalyScore: 0.9 },
];

/** Adds a per-client step to every weight: shared direction, drift and noise by client kind. */
function trainedWeights(
  global: Weights,
  kind: SimulatedClient["kind"],
  direction: Float32Array,
  random: ReturnType<typeof createRandom>,
): Weights {
  let offset = 0;
  return global.map((tensor) => {
    const data = new Float32Array(tensor.data.length);
    for (let k = 0; k < data.length; k++) {
      const honestStep = direction[offset + k] + 0.005 * random.gaussian();
      let step = honestStep;
      if (kind === "suspicious") step = honestStep + 0.05 + 0.02 * random.gaussian();
      if (kind === "malicious") step = 0.5 + random.gaussian();
      data[k] = tensor.data[k] + step;
    }
    offset += tensor.data.length;
    return { ...tensor, data };
  });
}

/** Returns the L2 distance between two models, over all tensors. */
function distance(a: Weights, b: Weights): number {
  const x = flattenWeights(a);
  const y = flattenWeights(b);
  let sum = 0;
  for (let k = 0; k < x.length; k++) sum += (x[k] - y[k]) ** 2;
  return Math.sqrt(sum);
}

function meanOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export async function main(): Promise<number> {
  const checks = new SuccessChecks();
  const random = createRandom(21);
  const global = gaussianWeights(random, NORMAL_DISTRIBUTION);
  const size = flattenWeights(global).length;
  const direction = Float32Array.from({ length: size }, () => 0.02 * random.gaussian());
  const updates: ClientUpdate[] = CLIENTS.map((client) => ({
    clientId: client.clientId,
    weights: trainedWeights(global, client.kind, direction, random),
    numSamples: 100,
  }));
  console.log(`Created ${updates.length} client updates of ${size} parameters each.`);

  heading("Client reputations");
  const reputation = new ClientReputationManager();
  for (const client of CLIENTS) {
    reputation.updateReputation(client.clientId, client.anomalyScore, "demo_round");
  }
  for (const client of CLIENTS) {
    const quarantined = reputation.isQuarantined(client.clientId);
    console.log(
      `  ${client.kind.padEnd(10)} ${client.clientId.padEnd(13)} score ${fixed(client.anomalyScore, 1)} ` +
        `reputation ${fixed(reputation.getReputation(client.clientId))} ` +
        `influence ${fixed(reputation.getInfluenceWeight(client.clientId))} ` +
        `${quarantined ? "QUARANTINED" : "active"}`,
    );
  }
  checks.check(reputation.isQuarantined("malicious_1"), "malicious_1 is quarantined");

  heading("Aggregation");
  const active = updates.filter((u) => !reputation.isQuarantined(u.clientId));
  console.log(`Total updates: ${updates.length}, active (not quarantined): ${active.length}`);
  const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
  const influence = Object.fromEntries(
    active.map((u) => [u.clientId, reputation.getInfluenceWeight(u.clientId)]),
  );
  const weighted = aggregator.aggregate(global, active, influence);
  const equalWeights = Object.fromEntries(active.map((u) => [u.clientId, 1]));
  const equal = aggregator.aggregate(global, active, equalWeights);
  const unfiltered = aggregator.aggregate(
    global,
    updates,
    Object.fromEntries(updates.map((u) => [u.clientId, 1])),
  );

  console.log("\nShare of each client in the reputation-weighted aggregate:");
  for (const record of weighted.clients) {
    console.log(
      `  ${record.clientId.padEnd(13)} ${fixed((record.effectiveWeight ?? 0) * 100, 1)}%  ` +
        `(delta norm ${fixed(record.deltaNorm)})`,
    );
  }
  const share = (id: string) =>
    weighted.clients.find((c) => c.clientId === id)?.effectiveWeight ?? Number.NaN;
  checks.check(
    ["honest_1", "honest_2", "honest_3"].every((id) => share("suspicious_1") < share(id)),
    "suspicious_1 gets a smaller share than each honest client",
  );

  console.log("\nAggregated model, per tensor:");
  for (const tensor of weighted.weights) {
    const std = Math.sqrt(meanOf(tensor.data.map((v) => (v - meanOf(tensor.data)) ** 2)));
    console.log(
      `  ${tensor.name.padEnd(7)} shape [${tensor.shape.join(", ")}] mean ${fixed(meanOf(tensor.data), 4)} std ${fixed(std, 4)}`,
    );
  }

  heading("Comparison with equal weights");
  const honest = updates.filter((u) => u.clientId.startsWith("honest"));
  const honestMean = aggregator.aggregate(
    global,
    honest,
    Object.fromEntries(honest.map((u) => [u.clientId, 1])),
  ).weights;
  for (let t = 0; t < weighted.weights.length; t++) {
    const name = weighted.weights[t].name;
    const w = meanOf(weighted.weights[t].data);
    const e = meanOf(equal.weights[t].data);
    console.log(
      `  ${name.padEnd(7)} reputation-weighted mean ${fixed(w, 6)}, equal-weighted mean ${fixed(e, 6)}, difference ${fixed(Math.abs(w - e), 6)}`,
    );
  }
  const weightedDistance = distance(weighted.weights, honestMean);
  const equalDistance = distance(equal.weights, honestMean);
  const unfilteredDistance = distance(unfiltered.weights, honestMean);
  console.log("\nL2 distance from the honest clients' mean model:");
  console.log(`  reputation-weighted, quarantined client left out: ${fixed(weightedDistance, 5)}`);
  console.log(`  equal weights, quarantined client left out:       ${fixed(equalDistance, 5)}`);
  console.log(
    `  equal weights, every client included:             ${fixed(unfilteredDistance, 5)}`,
  );
  checks.check(
    weightedDistance < equalDistance,
    "reputation-weighted model is closer to the honest mean than the equal-weighted one",
  );
  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
