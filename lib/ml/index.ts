/**
 * TensorFlow.js models and MNIST data for federated clients: model specs and their stable tensor
 * layout, local training and evaluation, the MNIST loaders and seeded client partitions.
 */

export { type BackendName, initTensorFlow, type WarningLogger } from "./backend";
export {
  assertDataset,
  type Dataset,
  loadMnist,
  MNIST_ORDER_SEED,
  selectSamples,
  splitTrainValidation,
} from "./data";
export {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  IdxFormatError,
  type IdxSplit,
  loadMnistIdx,
} from "./idx";
export {
  buildModel,
  getModelWeights,
  initialWeights,
  inputShapeOf,
  setModelWeights,
} from "./model";
export {
  DEFAULT_MIN_SAMPLES_PER_CLIENT,
  partitionDirichlet,
  partitionIid,
  sampleDirichlet,
  sampleGamma,
} from "./partition";
export {
  DENSE_DROPOUT_RATE,
  denseLayerWidths,
  INPUT_SIZE,
  type ModelSpec,
  ModelSpecError,
  type ModelSpecInput,
  manifestForSpec,
  modelSpecSchema,
  NUM_CLASSES,
  parseModelSpec,
  type TrainingOptions,
  trainingOptionsOf,
} from "./spec";
export {
  type Evaluation,
  evaluateModel,
  TrainingError,
  type TrainLocalOptions,
  type TrainLocalResult,
  trainLocal,
} from "./train";
