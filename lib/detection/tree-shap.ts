/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent individualized feature
 * attribution for tree ensembles", 2018, Algorithm 2) over isolation trees.
 *
 * The explained output of a tree is its path length h(x): each leaf's value is
 * depth + c(leaf cover), the quantity the anomaly score is built from. A feature outside the
 * coalition S is handled by the path-dependent conditional expectation: at a node that splits on
 * it, both children are followed and weighted by their share of the node's training cover.
 * `conditionalExpectation` computes that expectation directly and `bruteForceShapley` sums it over
 * every subset. Both exist to check the polynomial-time algorithm.
 *
 * The forest's output is the mean path length over the trees. Shapley values are linear in the
 * model, so the forest's SHAP values are the mean of the trees' values, and its expected value
 * is the mean of the root values. Local accuracy holds exactly:
 * expectedValue + sum(shapValues) = E[h(x)].
 *
 * A path holds one element per distinct feature split on above the current node, plus a first
 * element without a feature. Each element stores the fraction of "zero" paths (feature not in S,
 * weighted by cover) and "one" paths (feature in S, x follows the branch) that flow through, and
 * the permutation weight of each coalition size. EXTEND adds a feature, and UNWIND removes one
 * to undo a repeated split or to read the weight of the coalitions that exclude it.
 */

import type { FeatureRow } from "./checks";
import { toFeatureVector } from "./checks";
import type { IsolationForestDetector, IsolationTree } from "./isolation-forest";

interface PathElement {
  feature: number;
  zeroFraction: number;
  oneFraction: number;
  weight: number;
}

export interface TreeShapResult {
  /** Mean over the trees of the cover-weighted mean path length of the training rows. */
  expectedValue: number;
  /** One value per feature, with expectedValue + their sum = output. */
  shapValues: Float64Array;
  /** E[h(x)], the mean path length of the row. */
  output: number;
}

/** Computes the SHAP values of one tree's path length h(x), added into `phi`. */
export function addTreeShapValues(
  tree: IsolationTree,
  x: ArrayLike<number>,
  phi: Float64Array,
): void {
  const recurse = (
    node: number,
    parentPath: readonly PathElement[],
    zeroFraction: number,
    oneFraction: number,
    feature: number,
  ): void => {
    const path = extendPath(parentPath, zeroFraction, oneFraction, feature);
    const split = tree.feature[node];
    if (split < 0) {
      for (let i = 1; i < path.length; i++) {
        const weight = unwoundWeightSum(path, i);
        const element = path[i];
        phi[element.feature] +=
          weight * (element.oneFraction - element.zeroFraction) * tree.value[node];
      }
      return;
    }

    const goesLeft = x[split] <= tree.threshold[node];
    const hot = goesLeft ? tree.left[node] : tree.right[node];
    const cold = goesLeft ? tree.right[node] : tree.left[node];
    let incomingZero = 1;
    let incomingOne = 1;
    let current = path;
    // A feature already on the path is taken out and re-entered with the product of its
    // fractions, so each feature appears once however often it is split on.
    const previous = path.findIndex((element, i) => i > 0 && element.feature === split);
    if (previous >= 0) {
      incomingZero = path[previous].zeroFraction;
      incomingOne = path[previous].oneFraction;
      current = unwindPath(path, previous);
    }
    const cover = tree.cover[node];
    recurse(hot, current, (incomingZero * tree.cover[hot]) / cover, incomingOne, split);
    recurse(cold, current, (incomingZero * tree.cover[cold]) / cover, 0, split);
  };
  recurse(0, [], 1, 1, -1);
}

/** Computes exact SHAP values of the forest's mean path length E[h(x)] for `row`. */
export function forestTreeShap(detector: IsolationForestDetector, row: FeatureRow): TreeShapResult {
  const trees = detector.trees;
  if (trees.length === 0) {
    throw new Error("IsolationForestDetector is not fitted: call fit(rows) before TreeSHAP");
  }
  const x = toFeatureVector(row, "row", detector.numFeatures);
  const phi = new Float64Array(detector.numFeatures);
  let expectedValue = 0;
  let output = 0;
  for (const tree of trees) {
    addTreeShapValues(tree, x, phi);
    expectedValue += tree.value[0];
    output += treeOutput(tree, x);
  }
  for (let j = 0; j < phi.length; j++) phi[j] /= trees.length;
  return {
    expectedValue: expectedValue / trees.length,
    shapValues: phi,
    output: output / trees.length,
  };
}

/**
 * Returns E[h(x) | x_S] under the path-dependent rule: follow x at splits on features in
 * `coalition`, and average both children by cover at splits on other features.
 */
export function conditionalExpectation(
  tree: IsolationTree,
  x: ArrayLike<number>,
  coalition: ReadonlySet<number>,
  node = 0,
): number {
  const split = tree.feature[node];
  if (split < 0) return tree.value[node];
  const left = tree.left[node];
  const right = tree.right[node];
  if (coalition.has(split)) {
    return conditionalExpectation(
      tree,
      x,
      coalition,
      x[split] <= tree.threshold[node] ? left : right,
    );
  }
  const leftValue = conditionalExpectation(tree, x, coalition, left);
  const rightValue = conditionalExpectation(tree, x, coalition, right);
  return (tree.cover[left] * leftValue + tree.cover[right] * rightValue) / tree.cover[node];
}

/**
 * Computes Shapley values of the forest's mean path length by enumerating all 2^M coalitions
 * of the M features. Exponential: meant for checking TreeSHAP on at most about 12 features.
 */
export function bruteForceShapley(
  detector: IsolationForestDetector,
  row: FeatureRow,
): Float64Array {
  const numFeatures = detector.numFeatures;
  if (numFeatures > 16) {
    throw new RangeError(
      `bruteForceShapley enumerates 2^M coalitions and accepts at most 16 features, got ${numFeatures}`,
    );
  }

  const x = toFeatureVector(row, "row", numFeatures);
  const subsetCount = 1 << numFeatures;
  // Value of every coalition, indexed by its bit mask.
  const values = new Float64Array(subsetCount);
  for (let mask = 0; mask < subsetCount; mask++) {
    const coalition = new Set<number>();
    for (let j = 0; j < numFeatures; j++) if (mask & (1 << j)) coalition.add(j);
    let total = 0;
    for (const tree of detector.trees) total += conditionalExpectation(tree, x, coalition);
    values[mask] = total / detector.trees.length;
  }

  const factorial = [1];
  for (let k = 1; k <= numFeatures; k++) factorial.push(factorial[k - 1] * k);
  const phi = new Float64Array(numFeatures);
  for (let mask = 0; mask < subsetCount; mask++) {
    let size = 0;
    for (let j = 0; j < numFeatures; j++) if (mask & (1 << j)) size++;
    const weight = (factorial[size] * factorial[numFeatures - size - 1]) / factorial[numFeatures];
    for (let j = 0; j < numFeatures; j++) {
      if (mask & (1 << j)) continue;
      phi[j] += weight * (values[mask | (1 << j)] - values[mask]);
    }
  }
  return phi;
}

function treeOutput(tree: IsolationTree, x: ArrayLike<number>): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    node = x[tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
  }
  return tree.value[node];
}

/** EXTEND: returns a copy of `path` with the feature appended and the weights updated. */
function extendPath(
  path: readonly PathElement[],
  zeroFraction: number,
  oneFraction: number,
  feature: number,
): PathElement[] {
  const length = path.length;
  const out = path.map((element) => ({ ...element }));
  out.push({ feature, zeroFraction, oneFraction, weight: length === 0 ? 1 : 0 });
  for (let i = length - 1; i >= 0; i--) {
    out[i + 1].weight += (oneFraction * out[i].weight * (i + 1)) / (length + 1);
    out[i].weight = (zeroFraction * out[i].weight * (length - i)) / (length + 1);
  }
  return out;
}

/** UNWIND: returns a copy of `path` without element `index`, inverting its EXTEND. */
function unwindPath(path: readonly PathElement[], index: number): PathElement[] {
  const length = path.length;
  const { zeroFraction, oneFraction } = path[index];
  const out = path.slice(0, length - 1).map((element) => ({ ...element }));
  let carry = path[length - 1].weight;
  for (let j = length - 2; j >= 0; j--) {
    if (oneFraction !== 0) {
      const saved = out[j].weight;
      out[j].weight = (carry * length) / ((j + 1) * oneFraction);
      carry = saved - (out[j].weight * zeroFraction * (length - j - 1)) / length;
    } else {
      out[j].weight = (out[j].weight * length) / (zeroFraction * (length - j - 1));
    }
  }
  for (let j = index; j < length - 1; j++) {
    out[j].feature = path[j + 1].feature;
    out[j].zeroFraction = path[j + 1].zeroFraction;
    out[j].oneFraction = path[j + 1].oneFraction;
  }
  return out;
}

/** Returns the sum of the weights of `path` after unwinding element `index`. */
function unwoundWeightSum(path: readonly PathElement[], index: number): number {
  let total = 0;
  for (const element of unwindPath(path, index)) total += element.weight;
  return total;
}
