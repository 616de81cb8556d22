/**
 * The attack registry: every attack by name with its kind, parameters and defaults, and two
 * functions that apply an attack by name, so that a demo or a benchmark can take the attack
 * from a command-line flag.
 *
 * A "data" attack runs before local training (applyDataAttack), a "model" attack after it
 * (applyModelAttack), and a "both" attack has one stage in each. Model attacks receive full
 * weights in the tensors layout and return full weights; the deltas they compute internally are
 * taken against the round's global model.
 */

import {
  assertSameLayout,
  flattenWeights,
  manifestOf,
  type TensorSpec,
  unflattenWeights,
  type Weights,
} from "../tensors";
import { AttackError } from "./common";
import {
  flipLabels,
  type LabelFlipMode,
  poisonWithTrigger,
  type TriggerCorner,
} from "./data-attacks";
import { poisonMaliciousClientLabels, poisonMaliciousClientWeights } from "./malicious-client";
import {
  aLittleIsEnough,
  colludingSybils,
  freeRider,
  gaussianNoise,
  innerProductManipulation,
  minMax,
  minSum,
  modelReplacement,
  type PerturbationDirection,
  scaleDelta,
  signFlip,
} from "./model-attacks";

export type AttackKind = "data" | "model" | "both";
export type ParameterValue = number | string | boolean;

export interface AttackParameter {
  /** Value used when the caller gives none; absent when it comes from the attack context. */
  default?: ParameterValue;
  /** The accepted values of a string parameter. */
  choices?: readonly string[];
  description: string;
}

export interface AttackDefinition {
  kind: AttackKind;
  description: string;
  parameters: Readonly<Record<string, AttackParameter>>;
}

const SEED: AttackParameter = { default: 1, description: "seed of the random stream" };
const DIRECTION: AttackParameter = {
  default: "std",
  choices: ["unit", "std", "sign"],
  description: "perturbation: inverse unit vector, inverse standard deviation or inverse sign",
};
const GAMMA_INIT: AttackParameter = { default: 10, description: "first gamma of the search" };
const TOLERANCE: AttackParameter = { default: 1e-5, description: "precision of gamma" };
const IMAGE_PARAMETERS: Record<string, AttackParameter> = {
  height: { default: 28, description: "image height in pixels" },
  width: { default: 28, description: "image width in pixels" },
  channels: { default: 1, description: "channels per pixel" },
};

export const ATTACKS = {
  "sign-flip": {
    kind: "model",
    description: "submits -scale * delta, pushing the model the opposite way",
    parameters: { scale: { default: 1, description: "factor applied after negation" } },
  },
  scaling: {
    kind: "model",
    description: "submits lambda * delta, multiplying the delta's norm by lambda",
    parameters: { lambda: { default: 10, description: "scaling factor" } },
  },
  "gaussian-noise": {
    kind: "model",
    description: "adds N(0, sigma^2) noise to the delta, or submits the noise alone",
    parameters: {
      sigma: { default: 0.1, description: "noise standard deviation" },
      replace: { default: false, description: "submit only the noise instead of delta + noise" },
      seed: SEED,
    },
  },
  alie: {
    kind: "model",
    description:
      "A little is enough (Baruch et al., 2019): mean - z * std of the honest deltas; needs honestWeights",
    parameters: {
      z: {
        description:
          "deviation in standard deviations; computed from numClients and numMalicious when absent",
      },
    },
  },
  ipm: {
    kind: "model",
    description:
      "inner-product manipulation (Xie et al., 2020): -epsilon * mean of the honest deltas; needs honestWeights",
    parameters: { epsilon: { default: 0.5, description: "factor on the negated honest mean" } },
  },
  "min-max": {
    kind: "model",
    description:
      "min-max (Shejwalkar and Houmansadr, 2021): mean + gamma * p with the max distance to honest deltas kept within the honest max; needs honestWeights",
    parameters: { direction: DIRECTION, gammaInit: GAMMA_INIT, tolerance: TOLERANCE },
  },
  "min-sum": {
    kind: "model",
    description:
      "min-sum (Shejwalkar and Houmansadr, 2021): mean + gamma * p with the sum of distances to honest deltas kept within the honest max sum; needs honestWeights",
    parameters: { direction: DIRECTION, gammaInit: GAMMA_INIT, tolerance: TOLERANCE },
  },
  "model-replacement": {
    kind: "model",
    description:
      "model replacement (Bagdasaryan et al., 2020): the backdoored delta scaled by numClients / eta",
    parameters: {
      eta: { default: 1, description: "server learning rate of the FedAvg step" },
      numClients: { description: "clients in the round; taken from the context when absent" },
    },
  },
  sybil: {
    kind: "model",
    description: "colluding Sybils: count copies of the delta, each with tiny seeded noise",
    parameters: {
      count: { description: "number of Sybils; the context's numMalicious when absent" },
      sigma: { default: 1e-5, description: "noise standard deviation per Sybil" },
      seed: SEED,
    },
  },
  "free-rider": {
    kind: "model",
    description: "free rider: the global model plus small Gaussian noise, without training",
    parameters: { sigma: { default: 1e-3, description: "noise standard deviation" }, seed: SEED },
  },
  "label-flip": {
    kind: "data",
    description: "moves a fraction of the training labels to another class",
    parameters: {
      fraction: { default: 0.2, description: "share of labels flipped" },
      mode: {
        default: "random",
        choices: ["random", "next", "reverse"],
        description: "random other class, (y + 1) mod numClasses, or numClasses - 1 - y",
      },
      numClasses: { default: 10, description: "number of classes" },
      seed: SEED,
    },
  },
  "backdoor-trigger": {
    kind: "data",
    description:
      "stamps a square pixel trigger on a fraction of the training images and relabels them to the target class",
    parameters: {
      fraction: { default: 0.1, description: "share of samples poisoned" },
      targetClass: { default: 0, description: "label given to triggered samples" },
      size: { default: 3, description: "side of the square trigger in pixels" },
      corner: {
        default: "bottom-right",
        choices: ["top-left", "top-right", "bottom-left", "bottom-right"],
        description: "corner holding the trigger",
      },
      margin: { default: 0, description: "pixels between the trigger and the image edges" },
      value: { default: 1, description: "pixel value of the trigger (1 = white)" },
      numClasses: { default: 10, description: "number of classes" },
      ...IMAGE_PARAMETERS,
      seed: SEED,
    },
  },
  "malicious-client": {
    kind: "both",
    description:
      "the earlier system's malicious client: flipFraction of labels flipped before training, then the trained weights scaled and noised",
    parameters: {
      flipFraction: { default: 0.2, description: "share of labels flipped" },
      flipMode: {
        default: "next",
        choices: ["random", "next", "reverse"],
        description: "how flipped labels are chosen",
      },
      numClasses: { default: 10, description: "number of classes" },
      scale: { default: 1.5, description: "factor applied to the trained weights" },
      sigma: { default: 0.05, description: "noise standard deviation added to the weights" },
      seed: SEED,
    },
  },
} as const satisfies Record<string, AttackDefinition>;

export type AttackName = keyof typeof ATTACKS;

export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];

export interface ModelAttackContext {
  /** The global model of the round. */
  globalWeights: Weights;
  /** The attacker's own trained weights (the backdoored model for model replacement). */
  ownWeights?: Weights;
  /** Honest clients' trained weights of the round, for the omniscient attacks. */
  honestWeights?: readonly Weights[];
  /** Clients in the round, attackers included. */
  numClients?: number;
  /** Malicious clients in the round. */
  numMalicious?: number;
}

export interface ModelAttackResult {
  /** The weights to submit: one set, or `count` sets for the Sybil attack. */
  updates: Weights[];
  /** Values the attack computed, such as z or gamma. */
  details: Record<string, number>;
}

export interface TrainingData {
  /** Images N x height x width x channels; needed by the trigger attack. */
  images?: Float32Array;
  labels: ArrayLike<number>;
}

export interface DataAttackResult {
  images?: Float32Array;
  labels: Int32Array;
  /** Indices of the samples changed, ascending. */
  poisonedIndices: Int32Array;
}

/** Throws unless `name` is a registered attack; returns its definition. */
export function getAttack(name: string): AttackDefinition {
  if (!Object.hasOwn(ATTACKS, name)) {
    throw new AttackError(`unknown attack "${name}", expected one of ${ATTACK_NAMES.join(", ")}`);
  }
  return ATTACKS[name as AttackName];
}

/**
 * Returns `parameters` merged over the attack's defaults. Throws for an unknown parameter, a
 * value of the wrong type or a string outside the parameter's choices.
 */
export function resolveParameters(
  name: string,
  parameters: Readonly<Record<string, ParameterValue>> = {},
): Record<string, ParameterValue | undefined> {
  const definition = getAttack(name);
  const known = Object.keys(definition.parameters);
  for (const key of Object.keys(parameters)) {
    if (!known.includes(key)) {
      throw new AttackError(
        `attack "${name}" has no parameter "${key}", expected one of ${known.join(", ") || "none"}`,
      );
    }
  }
  const resolved: Record<string, ParameterValue | undefined> = {};
  for (const [key, spec] of Object.entries(definition.parameters)) {
    const value = parameters[key] ?? spec.default;
    const expectedType = spec.default === undefined ? "number" : typeof spec.default;
    if (value !== undefined && typeof value !== expectedType) {
      throw new AttackError(
        `attack "${name}": parameter "${key}" must be a ${expectedType}, got ${JSON.stringify(value)}`,
      );
    }
    if (spec.choices && !spec.choices.includes(value as string)) {
      throw new AttackError(
        `attack "${name}": parameter "${key}" must be one of ${spec.choices.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
    resolved[key] = value;
  }
  return resolved;
}

/**
 * Applies the data stage of attack `name` ("data" or "both" kind) to a client's training data.
 * Returns copies; the inputs are not modified.
 */
export function applyDataAttack(
  name: string,
  data: TrainingData,
  parameters?: Readonly<Record<string, ParameterValue>>,
): DataAttackResult {
  const definition = getAttack(name);
  if (definition.kind === "model") {
    throw new AttackError(`attack "${name}" is a model attack: use applyModelAttack`);
  }
  const p = resolveParameters(name, parameters);
  if (data == null || data.labels == null) throw new AttackError("data.labels is missing");
  switch (name as AttackName) {
    case "label-flip":
      return flipLabels(data.labels, {
        fraction: p.fraction as number,
        mode: p.mode as LabelFlipMode,
        numClasses: p.numClasses as number,
        seed: p.seed as number,
      });
    case "backdoor-trigger": {
      if (data.images === undefined) {
        throw new AttackError('attack "backdoor-trigger" needs data.images');
      }
      return poisonWithTrigger(data.images, data.labels, {
        fraction: p.fraction as number,
        targetClass: p.targetClass as number,
        seed: p.seed as number,
        size: p.size as number,
        corner: p.corner as TriggerCorner,
        margin: p.margin as number,
        value: p.value as number,
        numClasses: p.numClasses as number,
        height: p.height as number,
        width: p.width as number,
        channels: p.channels as number,
      });
    }
    case "malicious-client": {
      const result = poisonMaliciousClientLabels(data.labels, maliciousOptions(p));
      return { images: data.images?.slice(), ...result };
    }
    default:
      throw new AttackError(`attack "${name}" has no data stage`);
  }
}

/**
 * Applies the model stage of attack `name` ("model" or "both" kind). Returns the weights to
 * submit, in the global model's layout, and the values the attack computed.
 */
export function applyModelAttack(
  name: string,
  context: ModelAttackContext,
  parameters?: Readonly<Record<string, ParameterValue>>,
): ModelAttackResult {
  const definition = getAttack(name);
  if (definition.kind === "data") {
    throw new AttackError(`attack "${name}" is a data attack: use applyDataAttack`);
  }
  const p = resolveParameters(name, parameters);
  if (context == null || !Array.isArray(context.globalWeights)) {
    throw new AttackError("context.globalWeights is missing");
  }
  const specs = manifestOf(context.globalWeights);
  const global = flattenWeights(context.globalWeights);
  const toWeights = (delta: Float32Array): Weights => unflattenWeights(addTo(global, delta), specs);

  switch (name as AttackName) {
    case "sign-flip":
      return single(toWeights(signFlip(ownDelta(context, specs, global), p.scale as number)));
    case "scaling":
      return single(toWeights(scaleDelta(ownDelta(context, specs, global), p.lambda as number)));
    case "gaussian-noise": {
      const delta = ownDelta(context, specs, global);
      const noisy = gaussianNoise(delta, p.sigma as number, p.seed as number, p.replace as boolean);
      return single(toWeights(noisy));
    }
    case "alie": {
      const honest = honestDeltas(context, specs, global);
      const numMalicious = context.numMalicious;
      const numClients = context.numClients ?? honest.length + (numMalicious ?? 0);
      const result = aLittleIsEnough(honest, {
        z: p.z as number | undefined,
        numClients,
        numMalicious,
      });
      return single(toWeights(result.delta), { z: result.z });
    }
    case "ipm": {
      const delta = innerProductManipulation(
        honestDeltas(context, specs, global),
        p.epsilon as number,
      );
      return single(toWeights(delta));
    }
    case "min-max":
    case "min-sum": {
      const attack = name === "min-max" ? minMax : minSum;
      const result = attack(honestDeltas(context, specs, global), {
        direction: p.direction as PerturbationDirection,
        gammaInit: p.gammaInit as number,
        tolerance: p.tolerance as number,
      });
      return single(toWeights(result.delta), {
        gamma: result.gamma,
        threshold: result.threshold,
        distance: result.distance,
      });
    }
    case "model-replacement": {
      const numClients = (p.numClients as number | undefined) ?? context.numClients;
      if (numClients === undefined) {
        throw new AttackError(
          'attack "model-replacement" needs numClients, as a parameter or in the context',
        );
      }
      const delta = modelReplacement(ownDelta(context, specs, global), numClients, p.eta as number);
      return single(toWeights(delta), { factor: numClients / (p.eta as number) });
    }
    case "sybil": {
      const count = (p.count as number | undefined) ?? context.numMalicious;
      if (count === undefined) {
        throw new AttackError(
          'attack "sybil" needs count, as a parameter or numMalicious in the context',
        );
      }
      const deltas = colludingSybils(
        ownDelta(context, specs, global),
        count,
        p.sigma as number,
        p.seed as number,
      );
      return { updates: deltas.map(toWeights), details: { count } };
    }
    case "free-rider":
      return single(
        unflattenWeights(freeRider(global, p.sigma as number, p.seed as number), specs),
      );
    case "malicious-client": {
      const own = requireOwnWeights(context, specs);
      const poisoned = poisonMaliciousClientWeights(flattenWeights(own), maliciousOptions(p));
      return single(unflattenWeights(poisoned, specs));
    }
    default:
      throw new AttackError(`attack "${name}" has no model stage`);
  }
}

function single(weights: Weights, details: Record<string, number> = {}): ModelAttackResult {
  return { updates: [weights], details };
}

function maliciousOptions(p: Record<string, ParameterValue | undefined>) {
  return {
    seed: p.seed as number,
    flipFraction: p.flipFraction as number,
    flipMode: p.flipMode as LabelFlipMode,
    numClasses: p.numClasses as number,
    scale: p.scale as number,
    sigma: p.sigma as number,
  };
}

function addTo(global: Float32Array, delta: Float32Array): Float32Array {
  const out = new Float32Array(global.length);
  for (let k = 0; k < out.length; k++) out[k] = global[k] + delta[k];
  return out;
}

function subtract(weights: Float32Array, global: Float32Array): Float32Array {
  const out = new Float32Array(global.length);
  for (let k = 0; k < out.length; k++) out[k] = weights[k] - global[k];
  return out;
}

function requireOwnWeights(context: ModelAttackContext, specs: TensorSpec[]): Weights {
  if (context.ownWeights === undefined) {
    throw new AttackError("this attack needs context.ownWeights, the attacker's trained weights");
  }
  assertSameLayout(context.ownWeights, specs, "ownWeights");
  return context.ownWeights;
}

function ownDelta(
  context: ModelAttackContext,
  specs: TensorSpec[],
  global: Float32Array,
): Float32Array {
  return subtract(flattenWeights(requireOwnWeights(context, specs)), global);
}

function honestDeltas(
  context: ModelAttackContext,
  specs: TensorSpec[],
  global: Float32Array,
): Float32Array[] {
  const honest = context.honestWeights;
  if (honest === undefined || honest.length === 0) {
    throw new AttackError(
      "this attack needs context.honestWeights, the honest clients' trained weights",
    );
  }
  return honest.map((weights, i) => {
    assertSameLayout(weights, specs, `honestWeights[${i}]`);
    return subtract(flattenWeights(weights), global);
  });
}
