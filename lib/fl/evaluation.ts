/**
 * The server's evaluation of each new global model on a validation split it holds.
 */
import { logger } from "../logger";
import type { ModelEvaluator } from "./rounds";

// NOTE: until lib/ml (TensorFlow.js models and MNIST) is wired in, rounds publish without test
// accuracy or loss.
export async function createServerEvaluator(): Promise<ModelEvaluator | undefined> {
  logger.debug("no model evaluator configured");
  return undefined;
}
