/**
 * The participant loop of a federated client: poll the federation's round, and for each open
 * round this client has not handled yet, download and verify the round's base model, train on
 * the local data and submit the update. The loop ends when the federation is completed or
 * stopped, when `maxRounds` updates were sent, or when the caller aborts.
 *
 * A simulated attacker is a client with `attack` set to a name from the lib/attacks registry.
 * Its data stage (label flipping, backdoor trigger) runs on the local data before training, and
 * its model stage (scaling, sign flip, noise) runs on the trained weights before submission. The
 * earlier system's malicious client is "malicious-client": 20% of labels moved to (y + 1) mod 10,
 * then the trained weights scaled by 1.5 plus Gaussian noise with sigma 0.05. Attacks that need
 * the honest clients' updates (alie, ipm, min-max, min-sum) or submit several updates (sybil)
 * cannot run inside one client and are rejected before the loop starts.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  AttackError,
  applyDataAttack,
  applyModelAttack,
  getAttack,
  type ParameterValue,
  resolveParameters,
} from "../attacks";
import {
  type Dataset,
  type ModelSpec,
  type ModelSpecInput,
  manifestForSpec,
  parseModelSpec,
  trainLocal,
} from "../ml";
import type { Weights } from "../tensors";
import { SINGLE_CLIENT_UNSUPPORTED } from "./attack-support";
import { ServerRejectedError } from "./errors";
import type { FederationStatus, QSFLClient, RoundInfo, RoundStatus } from "./sdk";

export interface AttackConfig {
  /** A name from the lib/attacks registry, such as "malicious-client" or "label-flip". */
  name: string;
  /** Overrides of the attack's default parameters. */
  parameters?: Readonly<Record<string, ParameterValue>>;
}

export type ProgressEvent =
  | {
      type: "waiting";
      federationStatus: FederationStatus;
      roundNumber: number | null;
      roundStatus: RoundStatus | null;
    }
  | {
      type: "trained";
      round: number;
      roundId: string;
      baseModelVersion: number;
      loss: number;
      accuracy: number;
      numSamples: number;
      trainMs: number;
      attack: string | null;
    }
  | {
      type: "submitted";
      round: number;
      roundId: string;
      status: "accepted" | "duplicate";
      updateId: string | null;
      uploadMs: number;
      attempts: number;
    }
  | { type: "skipped"; round: number; roundId: string; code: string; message: string }
  | { type: "finished"; federationStatus: FederationStatus | "aborted"; roundsSubmitted: number };

export interface ParticipantOptions {
  federationId: string;
  /** The client's local training data. */
  data: Dataset;
  /** The model spec to train; Federation.modelSpec from the round endpoint when absent. */
  spec?: ModelSpecInput;
  /** Local epochs per round; the spec's localEpochs when absent. */
  epochs?: number;
  /** Samples per gradient step; the spec's batchSize when absent. */
  batchSize?: number;
  attack?: AttackConfig;
  /** Seed of training and attacks; round n trains with seed + n. */
  seed: number;
  /** Milliseconds between two polls of the round; 1,000 by default. */
  pollIntervalMs?: number;
  /** Stop after this many rounds were submitted; no limit when absent. */
  maxRounds?: number;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ParticipantSummary {
  federationStatus: FederationStatus | "aborted";
  roundsSubmitted: number;
}

/** Rejections that end this client's part in one round without stopping the loop. */
const ROUND_SKIP_CODES = new Set(["round_closed", "stale_model", "round_mismatch"]);

/**
 * Runs the client loop described in the module comment and returns why it stopped. Throws on
 * failures that polling again cannot fix: transport errors after the retries, rejections other
 * than a closed or mismatched round, a model that fails verification, or an invalid model spec.
 */
export async function runParticipant(
  client: QSFLClient,
  options: ParticipantOptions,
): Promise<ParticipantSummary> {
  const settings = checkOptions(options);
  const emit = options.onProgress ?? (() => {});
  const handledRounds = new Set<string>();
  let roundsSubmitted = 0;
  let lastWaiting = "";

  const finish = (federationStatus: ParticipantSummary["federationStatus"]) => {
    emit({ type: "finished", federationStatus, roundsSubmitted });
    return { federationStatus, roundsSubmitted };
  };

  for (;;) {
    if (options.signal?.aborted) return finish("aborted");
    const info = await client.getRound(options.federationId);
    if (info.federationStatus === "completed" || info.federationStatus === "stopped") {
      return finish(info.federationStatus);
    }

    const round = info.round;
    const open =
      round !== null &&
      (round.status === "open" || round.status === "collecting") &&
      round.deadlineMs > Date.now() &&
      !handledRounds.has(round.roundId);
    if (open) {
      handledRounds.add(round.roundId);
      const submitted = await participate(client, info, settings, emit);
      if (submitted) roundsSubmitted++;
      if (options.maxRounds !== undefined && roundsSubmitted >= options.maxRounds) {
        return finish(info.federationStatus);
      }
      continue;
    }

    const waiting = `${info.federationStatus}/${round?.roundId}/${round?.status}`;
    if (waiting !== lastWaiting) {
      lastWaiting = waiting;
      emit({
        type: "waiting",
        federationStatus: info.federationStatus,
        roundNumber: round?.number ?? null,
        roundStatus: round?.status ?? null,
      });
    }
    try {
      await sleep(settings.pollIntervalMs, undefined, { signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) return finish("aborted");
      throw error;
    }
  }
}

interface Settings {
  options: ParticipantOptions;
  spec: ModelSpec | undefined;
  attack: AttackConfig | undefined;
  pollIntervalMs: number;
}

/** Trains and submits for one round; returns whether the update was sent. */
async function participate(
  client: QSFLClient,
  info: RoundInfo,
  settings: Settings,
  emit: (event: ProgressEvent) => void,
): Promise<boolean> {
  const { options, attack } = settings;
  const round = info.round as NonNullable<RoundInfo["round"]>;
  const spec = settings.spec ?? parseModelSpec(info.modelSpec);
  const roundSeed = options.seed + round.number;
  const model = await client.downloadModel(
    options.federationId,
    round.baseModelVersion,
    manifestForSpec(spec),
  );

  const kind = attack === undefined ? undefined : getAttack(attack.name).kind;
  const parameters =
    attack === undefined ? {} : attackParameters(attack, options.seed, round.number);
  let data = options.data;
  if (attack !== undefined && (kind === "data" || kind === "both")) {
    const poisoned = applyDataAttack(attack.name, data, parameters);
    data = { images: poisoned.images ?? data.images, labels: Uint8Array.from(poisoned.labels) };
  }

  const started = performance.now();
  const trained = await trainLocal(spec, model.weights, data, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    seed: roundSeed,
  });
  let weights: Weights = trained.weights;
  if (attack !== undefined && (kind === "model" || kind === "both")) {
    const result = applyModelAttack(
      attack.name,
      { globalWeights: model.weights, ownWeights: trained.weights },
      parameters,
    );
    weights = result.updates[0];
  }
  emit({
    type: "trained",
    round: round.number,
    roundId: round.roundId,
    baseModelVersion: model.version,
    loss: trained.loss,
    accuracy: trained.accuracy,
    numSamples: trained.numSamples,
    trainMs: Math.round(performance.now() - started),
    attack: attack?.name ?? null,
  });

  try {
    const result = await client.submitUpdate({
      federationId: options.federationId,
      roundId: round.roundId,
      baseModelVersion: model.version,
      numSamples: trained.numSamples,
      weights,
    });
    emit({
      type: "submitted",
      round: round.number,
      roundId: round.roundId,
      status: result.status,
      updateId: result.updateId,
      uploadMs: result.uploadMs,
      attempts: result.attempts,
    });
    return true;
  } catch (error) {
    if (error instanceof ServerRejectedError && ROUND_SKIP_CODES.has(error.code)) {
      emit({
        type: "skipped",
        round: round.number,
        roundId: round.roundId,
        code: error.code,
        message: error.serverMessage,
      });
      return false;
    }
    throw error;
  }
}

/**
 * Returns the attack's parameters for one round. An attack with a "seed" parameter gets
 * (its seed, or the participant's seed) + round number, so its random draws differ per round.
 */
function attackParameters(
  attack: AttackConfig,
  seed: number,
  roundNumber: number,
): Record<string, ParameterValue> {
  const parameters: Record<string, ParameterValue> = { ...attack.parameters };
  if ("seed" in getAttack(attack.name).parameters) {
    const base = typeof parameters.seed === "number" ? parameters.seed : seed;
    parameters.seed = base + roundNumber;
  }
  return parameters;
}

function checkOptions(options: ParticipantOptions): Settings {
  if (options === null || typeof options !== "object") {
    throw new TypeError("options: expected { federationId, data, seed, ... }");
  }
  if (typeof options.federationId !== "string" || options.federationId.length === 0) {
    throw new TypeError(
      `options.federationId: expected a federation id, got ${JSON.stringify(options.federationId)}`,
    );
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new RangeError(`options.seed: expected a safe integer, got ${String(options.seed)}`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (!Number.isSafeInteger(pollIntervalMs) || pollIntervalMs < 1) {
    throw new RangeError(
      `options.pollIntervalMs: expected an integer >= 1, got ${String(options.pollIntervalMs)}`,
    );
  }
  if (
    options.maxRounds !== undefined &&
    (!Number.isSafeInteger(options.maxRounds) || options.maxRounds < 1)
  ) {
    throw new RangeError(
      `options.maxRounds: expected an integer >= 1, got ${String(options.maxRounds)}`,
    );
  }
  const attack = options.attack;
  if (attack !== undefined) {
    getAttack(attack.name);
    const unsupported = SINGLE_CLIENT_UNSUPPORTED[attack.name];
    if (unsupported !== undefined) {
      throw new AttackError(
        `attack "${attack.name}" ${unsupported}, so one client cannot run it; use it in a simulation of the whole round`,
      );
    }
    const resolved = resolveParameters(attack.name, attack.parameters);
    if (attack.name === "model-replacement" && resolved.numClients === undefined) {
      throw new AttackError(
        'attack "model-replacement" needs the numClients parameter, the number of clients per round',
      );
    }
  }
  return {
    options,
    spec: options.spec === undefined ? undefined : parseModelSpec(options.spec),
    attack,
    pollIntervalMs,
  };
}
