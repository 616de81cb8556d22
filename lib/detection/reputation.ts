/**
 * Client reputation, influence weights and quarantine, updated once per round from each
 * client's anomaly score.
 *
 * Policy:
 * - Reputation is an exponential moving average of (1 - anomaly score):
 *   rep ← (1 - alpha) · rep + alpha · (1 - score), starting at `initialReputation`.
 * - Influence weight = clamp((rep - influenceFloor) / (1 - influenceFloor), 0, 1)^influenceExponent.
 *   It is a non-decreasing function of reputation, and 0 while the client is quarantined.
 * - A client is quarantined when its reputation falls below `quarantineThreshold`, or after
 *   `consecutiveAnomalyLimit` consecutive scores above `anomalyThreshold`.
 * - A quarantined client is on probation. It is released after `probationRounds` consecutive
 *   clean rounds (score at or below `anomalyThreshold`), and a dirty round resets the count.
 *   An operator can release it at any time. On release its reputation is raised to at least
 *   `releaseReputation`, so that a low average does not quarantine it again at the next round.
 * - Reputation keeps being updated while a client is quarantined.
 *
 * The defaults assume scores from the round detector (threshold 0.575). In the simulation of
 * `npm run bench:detection -- --synthetic`, honest updates averaged scores of 0.42 to 0.50, which gives a
 * reputation of about 0.5 to 0.58.
 */

import { assertInRange, assertInteger, assertNonEmptyString, describeValue } from "./checks";

export type RoundId = string | number;

export type QuarantineReason = "reputation" | "consecutive_anomalies" | "operator";

export interface ReputationOptions {
  /** Reputation of a client before its first score, default 0.5. */
  initialReputation?: number;
  /** Weight of the newest observation in the moving average, in (0, 1], default 0.3. */
  alpha?: number;
  /** A score strictly above this counts as an anomaly, default 0.575. */
  anomalyThreshold?: number;
  /** Reputation strictly below this quarantines the client, default 0.4. */
  quarantineThreshold?: number;
  /** Consecutive anomalies that quarantine the client, default 3. */
  consecutiveAnomalyLimit?: number;
  /** Consecutive clean rounds that release a quarantined client, default 3. */
  probationRounds?: number;
  /** Reputation at or below which the influence weight is 0, in [0, 1), default 0.3. */
  influenceFloor?: number;
  /** Exponent applied to the normalised reputation, > 0, default 1. */
  influenceExponent?: number;
  /** Minimum reputation after a release, default 0.5. */
  releaseReputation?: number;
}

export type ResolvedReputationOptions = Required<ReputationOptions>;

export interface ClientReputationState {
  reputation: number;
  consecutiveAnomalies: number;
  quarantined: boolean;
  quarantineReason: QuarantineReason | null;
  /** Round of the latest quarantine, when the score that caused it came with a round id. */
  quarantinedAtRound: RoundId | null;
  /** Clean rounds in a row since the quarantine began, or 0 when not quarantined. */
  cleanRoundsOnProbation: number;
  /** Round id of the latest score, to reject a second score for the same round. */
  lastRoundId: RoundId | null;
  roundsObserved: number;
  /** Source of the latest release: "probation" or the operator's id. */
  releasedBy: string | null;
}

export interface ReputationUpdate {
  clientId: string;
  reputation: number;
  influenceWeight: number;
  quarantined: boolean;
  newlyQuarantined: boolean;
  released: boolean;
  consecutiveAnomalies: number;
  cleanRoundsOnProbation: number;
  quarantineReason: QuarantineReason | null;
}

export interface SerializedReputationManager {
  format: 1;
  options: ResolvedReputationOptions;
  clients: Record<string, ClientReputationState>;
}

export function resolveReputationOptions(
  options: ReputationOptions = {},
): ResolvedReputationOptions {
  const resolved: ResolvedReputationOptions = {
    initialReputation: options.initialReputation ?? 0.5,
    alpha: options.alpha ?? 0.3,
    anomalyThreshold: options.anomalyThreshold ?? 0.575,
    quarantineThreshold: options.quarantineThreshold ?? 0.4,
    consecutiveAnomalyLimit: options.consecutiveAnomalyLimit ?? 3,
    probationRounds: options.probationRounds ?? 3,
    influenceFloor: options.influenceFloor ?? 0.3,
    influenceExponent: options.influenceExponent ?? 1,
    releaseReputation: options.releaseReputation ?? 0.5,
  };
  assertInRange(resolved.initialReputation, "options.initialReputation", 0, 1);
  assertInRange(resolved.alpha, "options.alpha", 0, 1);
  if (resolved.alpha === 0) throw new RangeError("options.alpha must be in (0, 1], got 0");
  assertInRange(resolved.anomalyThreshold, "options.anomalyThreshold", 0, 1);
  assertInRange(resolved.quarantineThreshold, "options.quarantineThreshold", 0, 1);
  assertInteger(resolved.consecutiveAnomalyLimit, "options.consecutiveAnomalyLimit", 1);
  assertInteger(resolved.probationRounds, "options.probationRounds", 1);
  assertInRange(resolved.influenceFloor, "options.influenceFloor", 0, 1);
  if (resolved.influenceFloor === 1) {
    throw new RangeError("options.influenceFloor must be in [0, 1), got 1");
  }
  assertInRange(resolved.influenceExponent, "options.influenceExponent", 0, Infinity, true);
  assertInRange(resolved.releaseReputation, "options.releaseReputation", 0, 1);
  return resolved;
}

export class ClientReputationManager {
  readonly options: ResolvedReputationOptions;
  private readonly clients = new Map<string, ClientReputationState>();

  constructor(options: ReputationOptions = {}) {
    this.options = resolveReputationOptions(options);
  }

  /**
   * Records one round's anomaly score for a client and applies the quarantine and probation
   * rules. Throws if `roundId` equals the round of the client's previous score.
   */
  updateReputation(clientId: string, anomalyScore: number, roundId?: RoundId): ReputationUpdate {
    assertNonEmptyString(clientId, "clientId");
    assertInRange(anomalyScore, "anomalyScore", 0, 1);
    if (roundId !== undefined) checkRoundId(roundId);
    const state = this.clients.get(clientId) ?? this.newState();
    if (roundId !== undefined && state.lastRoundId === roundId) {
      throw new RangeError(
        `client ${clientId} already has a score for round ${describeValue(roundId)}`,
      );
    }

    const { alpha, anomalyThreshold } = this.options;
    const anomalous = anomalyScore > anomalyThreshold;
    state.reputation = (1 - alpha) * state.reputation + alpha * (1 - anomalyScore);
    state.consecutiveAnomalies = anomalous ? state.consecutiveAnomalies + 1 : 0;
    state.lastRoundId = roundId ?? null;
    state.roundsObserved++;
    this.clients.set(clientId, state);

    let newlyQuarantined = false;
    let released = false;
    if (state.quarantined) {
      state.cleanRoundsOnProbation = anomalous ? 0 : state.cleanRoundsOnProbation + 1;
      if (state.cleanRoundsOnProbation >= this.options.probationRounds) {
        this.release(state, "probation");
        released = true;
      }
    } else {
      const reason = this.quarantineReasonOf(state);
      if (reason) {
        this.quarantine(state, reason, roundId);
        newlyQuarantined = true;
      }
    }
    return this.report(clientId, state, newlyQuarantined, released);
  }

  /** Returns the client's reputation, or `initialReputation` for a client never scored. */
  getReputation(clientId: string): number {
    assertNonEmptyString(clientId, "clientId");
    return this.clients.get(clientId)?.reputation ?? this.options.initialReputation;
  }

  /** Returns the client's influence weight in [0, 1], which is 0 while it is quarantined. */
  getInfluenceWeight(clientId: string): number {
    assertNonEmptyString(clientId, "clientId");
    const state = this.clients.get(clientId);
    if (state?.quarantined) return 0;
    return this.influenceWeightOf(state?.reputation ?? this.options.initialReputation);
  }

  isQuarantined(clientId: string): boolean {
    assertNonEmptyString(clientId, "clientId");
    return this.clients.get(clientId)?.quarantined ?? false;
  }

  /** Returns a copy of the client's state, or undefined for a client never scored. */
  getState(clientId: string): ClientReputationState | undefined {
    assertNonEmptyString(clientId, "clientId");
    const state = this.clients.get(clientId);
    return state ? { ...state } : undefined;
  }

  clientIds(): string[] {
    return [...this.clients.keys()];
  }

  /** Maps a reputation to an influence weight with the configured floor and exponent. */
  influenceWeightOf(reputation: number): number {
    assertInRange(reputation, "reputation", 0, 1);
    const { influenceFloor, influenceExponent } = this.options;
    const normalised = Math.min(
      1,
      Math.max(0, (reputation - influenceFloor) / (1 - influenceFloor)),
    );
    return normalised ** influenceExponent;
  }

  /**
   * Releases a quarantined client on an operator's decision. Returns false when the client was
   * not quarantined.
   */
  releaseClient(clientId: string, by = "operator"): boolean {
    assertNonEmptyString(clientId, "clientId");
    assertNonEmptyString(by, "by");
    const state = this.clients.get(clientId);
    if (!state?.quarantined) return false;
    this.release(state, by);
    return true;
  }

  /**
   * Quarantines a client on an operator's decision. The same probation rule then applies.
   * Returns false when the client was already quarantined.
   */
  quarantineClient(clientId: string, roundId?: RoundId): boolean {
    assertNonEmptyString(clientId, "clientId");
    if (roundId !== undefined) checkRoundId(roundId);
    const state = this.clients.get(clientId) ?? this.newState();
    this.clients.set(clientId, state);
    if (state.quarantined) return false;
    this.quarantine(state, "operator", roundId);
    return true;
  }

  toJSON(): SerializedReputationManager {
    const clients: Record<string, ClientReputationState> = {};
    for (const [clientId, state] of this.clients) clients[clientId] = { ...state };
    return { format: 1, options: { ...this.options }, clients };
  }

  static fromJSON(json: SerializedReputationManager): ClientReputationManager {
    if (json == null || typeof json !== "object" || json.format !== 1) {
      throw new RangeError(
        `json must be a serialised reputation manager of format 1, got ${describeValue(json?.format ?? json)}`,
      );
    }
    const manager = new ClientReputationManager(json.options);
    if (json.clients == null || typeof json.clients !== "object") {
      throw new TypeError(`json.clients must be an object, got ${describeValue(json.clients)}`);
    }
    for (const [clientId, state] of Object.entries(json.clients)) {
      manager.clients.set(clientId, checkState(clientId, state));
    }
    return manager;
  }

  private newState(): ClientReputationState {
    return {
      reputation: this.options.initialReputation,
      consecutiveAnomalies: 0,
      quarantined: false,
      quarantineReason: null,
      quarantinedAtRound: null,
      cleanRoundsOnProbation: 0,
      lastRoundId: null,
      roundsObserved: 0,
      releasedBy: null,
    };
  }

  private quarantineReasonOf(state: ClientReputationState): QuarantineReason | null {
    if (state.consecutiveAnomalies >= this.options.consecutiveAnomalyLimit) {
      return "consecutive_anomalies";
    }
    if (state.reputation < this.options.quarantineThreshold) return "reputation";
    return null;
  }

  private quarantine(
    state: ClientReputationState,
    reason: QuarantineReason,
    roundId: RoundId | undefined,
  ): void {
    state.quarantined = true;
    state.quarantineReason = reason;
    state.quarantinedAtRound = roundId ?? null;
    state.cleanRoundsOnProbation = 0;
  }

  private release(state: ClientReputationState, by: string): void {
    state.quarantined = false;
    state.quarantineReason = null;
    state.cleanRoundsOnProbation = 0;
    state.consecutiveAnomalies = 0;
    state.reputation = Math.max(state.reputation, this.options.releaseReputation);
    state.releasedBy = by;
  }

  private report(
    clientId: string,
    state: ClientReputationState,
    newlyQuarantined: boolean,
    released: boolean,
  ): ReputationUpdate {
    return {
      clientId,
      reputation: state.reputation,
      influenceWeight: state.quarantined ? 0 : this.influenceWeightOf(state.reputation),
      quarantined: state.quarantined,
      newlyQuarantined,
      released,
      consecutiveAnomalies: state.consecutiveAnomalies,
      cleanRoundsOnProbation: state.cleanRoundsOnProbation,
      quarantineReason: state.quarantineReason,
    };
  }
}

function checkRoundId(roundId: unknown): void {
  const ok =
    (typeof roundId === "string" && roundId.length > 0) ||
    (typeof roundId === "number" && Number.isFinite(roundId));
  if (!ok) {
    throw new TypeError(
      `roundId must be a non-empty string or a finite number, got ${describeValue(roundId)}`,
    );
  }
}

function checkState(clientId: string, state: ClientReputationState): ClientReputationState {
  const name = `json.clients[${JSON.stringify(clientId)}]`;
  if (state == null || typeof state !== "object") {
    throw new TypeError(`${name} must be a client state, got ${describeValue(state)}`);
  }

  assertInRange(state.reputation, `${name}.reputation`, 0, 1);
  assertInteger(state.consecutiveAnomalies, `${name}.consecutiveAnomalies`, 0);
  assertInteger(state.cleanRoundsOnProbation, `${name}.cleanRoundsOnProbation`, 0);
  assertInteger(state.roundsObserved, `${name}.roundsObserved`, 0);

  if (typeof state.quarantined !== "boolean") {
    throw new TypeError(
      `${name}.quarantined must be a boolean, got ${describeValue(state.quarantined)}`,
    );
  }
  const reasons: (QuarantineReason | null)[] = [
    "reputation",
    "consecutive_anomalies",
    "operator",
    null,
  ];
  if (!reasons.includes(state.quarantineReason)) {
    throw new RangeError(
      `${name}.quarantineReason must be one of ${reasons.join(", ")}, got ${describeValue(state.quarantineReason)}`,
    );
  }

  for (const key of ["quarantinedAtRound", "lastRoundId"] as const) {
    if (state[key] !== null) checkRoundId(state[key]);
  }

  if (state.releasedBy !== null && typeof state.releasedBy !== "string") {
    throw new TypeError(
      `${name}.releasedBy must be a string or null, got ${describeValue(state.releasedBy)}`,
    );
  }
  return {
    reputation: state.reputation,
    consecutiveAnomalies: state.consecutiveAnomalies,
    quarantined: state.quarantined,
    quarantineReason: state.quarantineReason,
    quarantinedAtRound: state.quarantinedAtRound,
    cleanRoundsOnProbation: state.cleanRoundsOnProbation,
    lastRoundId: state.lastRoundId,
    roundsObserved: state.roundsObserved,
    releasedBy: state.releasedBy,
  };
}
