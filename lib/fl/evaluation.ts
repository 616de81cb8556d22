/**
 * The server's evaluation of each new global model on a validation split it holds: 20% of the
 * mnist package's 10,000 digits (seeded split). Clients train only on the other 80%
 * (`mnistTrainingSplit`), so the test accuracy is measured on digits no client saw.
 */
import { logger } from "../logger";
import {
  type Dataset,
  evaluateModel,
  initTensorFlow,
  loadMnist,
  splitTrainValidation,
} from "../ml";
import type { ModelEvaluator } from "./rounds";

export const VALIDATION_FRACTION = 0.2;
export const VALIDATION_SPLIT_SEED = 0;

let split: { train: Dataset; validation: Dataset } | undefined;

function mnistSplit(): { train: Dataset; validation: Dataset } {
  split ??= splitTrainValidation(loadMnist(), VALIDATION_FRACTION, VALIDATION_SPLIT_SEED);
  return split;
}

/** Returns the digits clients may train on: the mnist package minus the server's validation split. */
export function mnistTrainingSplit(): Dataset {
  return mnistSplit().train;
}

export function mnistValidationSplit(): Dataset {
  return mnistSplit().validation;
}

/** Returns an evaluator over the validation split, or undefined when TensorFlow.js fails to load. */
export async function createServerEvaluator(): Promise<ModelEvaluator | undefined> {
  try {
    const backend = await initTensorFlow();
    const validation = mnistValidationSplit();
    logger.info({ backend, samples: validation.labels.length }, "model evaluator ready");
    return async (modelSpec, weights) => {
      const result = await evaluateModel(
        modelSpec as Parameters<typeof evaluateModel>[0],
        weights,
        validation,
      );
      return { accuracy: result.accuracy, loss: result.loss };
    };
  } catch (error) {
    logger.error(
      { err: error },
      "TensorFlow.js could not be loaded; rounds publish without test accuracy",
    );
    return undefined;
  }
}
