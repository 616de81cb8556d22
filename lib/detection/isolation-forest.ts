/**
 * Isolation forest (Liu, Ting and Zhou, "Isolation Forest", ICDM 2008) over feature rows.
 *
 * Definitions follow the paper, and scikit-learn's IsolationForest where the paper leaves a
 * choice open:
 * - Each tree is grown on ψ = min(subsampleSize, n) rows drawn without replacement, to a maximum
 *   depth of ceil(log2 ψ).
 * - A node splits on a feature drawn uniformly among the features that are not constant on the
 *   node's rows (scikit-learn skips constant features the same way), at a threshold drawn
 *   uniformly in [min, max) of that feature. Rows with `x <= threshold` go left.
 * - A leaf with `size` training rows at depth `depth` gives the path length h = depth + c(size).
 *   c(n) = 2 H(n - 1) - 2 (n - 1) / n, with H(i) = ln(i) + γ, is the average path length of an
 *   unsuccessful search in a binary search tree. c(1) = 0 and c(2) = 1.
 * - The anomaly score is s(x) = 2^(-E[h(x)] / c(ψ)), in (0, 1). It is close to 1 for rows
 *   isolated in few splits, and near or below 0.5 for typical rows.
 *
 * Trees are stored as flat arrays, one entry per node, with the number of training rows that
 * reached each node ("cover"). TreeSHAP uses the covers as the weights of its conditional
 * expectations, and `value` is the expected path length below each node.
 */

import { createRandom, type Random } from "../random";
import {
  assertInRange,
  assertInteger,
  assertNonEmptyString,
  describeValue,
  type FeatureRow,
  toFeatureVector,
} from "./checks";

const EULER_GAMMA = 0.5772156649015329;

/** Format version written by `toJSON`. `fromJSON` accepts only this one. */
export const ISOLATION_FOREST_FORMAT = 1;

export interface IsolationForestOptions {
  /** Number of trees, default 100. */
  numTrees?: number;
  /** Rows drawn for each tree (ψ), default 256, or fewer when the training set is smaller. */
  subsampleSize?: number;
  /** Seed of the subsampling and split draws, default 0. The same seed gives the same trees. */
  seed?: number;
  /** `isAnomalous` returns true when the score is strictly above this, default 0.5. */
  threshold?: number;
}

export type ResolvedIsolationForestOptions = Required<IsolationForestOptions>;

/**
 * One isolation tree as parallel arrays indexed by node id, with the root at 0. At a leaf,
 * `feature`, `left` and `right` are -1 and `threshold` is 0.
 */
export interface IsolationTree {
  feature: Int32Array;
  /** Split value: rows with `row[feature] <= threshold` go to `left`. */
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Number of the tree's training rows that reached the node. */
  cover: Int32Array;
  /** Depth of the node, 0 at the root. */
  depth: Int32Array;
  /**
   * Expected path length of a training row that reaches the node: depth + c(cover) at a leaf,
   * the cover-weighted mean of the children's values at an internal node.
   */
  value: Float64Array;
}

export interface SerializedIsolationTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  cover: number[];
  depth: number[];
  value: number[];
}

export interface SerializedIsolationForest {
  format: typeof ISOLATION_FOREST_FORMAT;
  options: ResolvedIsolationForestOptions;
  numFeatures: number;
  sampleSize: number;
  featureNames?: string[];
  trees: SerializedIsolationTree[];
}

/** Rows of equal length, as plain arrays or typed arrays. */
export type FeatureMatrix = readonly FeatureRow[];

export interface FitOptions {
  /** One name per feature column, kept for explanations and serialisation. */
  featureNames?: readonly string[];
}

/**
 * Returns c(n), the average path length of an unsuccessful search in a binary search tree of n
 * nodes, used to normalise path lengths and to extend leaves cut off by the depth limit.
 */
export function averageUnsuccessfulSearchLength(n: number): number {
  assertInteger(n, "n", 0);
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export function resolveIsolationForestOptions(
  options: IsolationForestOptions = {},
): ResolvedIsolationForestOptions {
  const resolved = {
    numTrees: options.numTrees ?? 100,
    subsampleSize: options.subsampleSize ?? 256,
    seed: options.seed ?? 0,
    threshold: options.threshold ?? 0.5,
  };
  assertInteger(resolved.numTrees, "options.numTrees", 1);
  assertInteger(resolved.subsampleSize, "options.subsampleSize", 2);
  assertInteger(resolved.seed, "options.seed", 0, 0xffffffff);
  assertInRange(resolved.threshold, "options.threshold", 0, 1, true);
  return resolved;
}

export class IsolationForestDetector {
  readonly options: ResolvedIsolationForestOptions;
  private fittedTrees: IsolationTree[] = [];
  private featureCount = 0;
  private psi = 0;
  private names: string[] | undefined;

  constructor(options: IsolationForestOptions = {}) {
    this.options = resolveIsolationForestOptions(options);
  }

  get isFitted(): boolean {
    return this.fittedTrees.length > 0;
  }

  /** The fitted trees, empty before `fit`. */
  get trees(): readonly IsolationTree[] {
    return this.fittedTrees;
  }

  get numFeatures(): number {
    return this.featureCount;
  }

  /** ψ, the number of rows each tree was grown on. */
  get sampleSize(): number {
    return this.psi;
  }

  get featureNames(): readonly string[] | undefined {
    return this.names;
  }

  /**
   * Grows the forest on a feature matrix (at least 2 rows), or on a list of items and a function
   * that returns each item's feature row. Replaces any earlier fit.
   */
  fit(rows: FeatureMatrix, options?: FitOptions): this;
  fit<T>(items: readonly T[], extractFeatures: (item: T) => FeatureRow, options?: FitOptions): this;
  fit<T>(
    data: readonly T[] | FeatureMatrix,
    extractOrOptions?: ((item: T) => FeatureRow) | FitOptions,
    maybeOptions?: FitOptions,
  ): this {
    if (!Array.isArray(data)) {
      throw new TypeError(`rows must be an array of feature rows, got ${describeValue(data)}`);
    }
    let rows: FeatureMatrix;
    let options: FitOptions | undefined;
    if (typeof extractOrOptions === "function") {
      rows = (data as readonly T[]).map((item) => extractOrOptions(item));
      options = maybeOptions;
    } else {
      rows = data as FeatureMatrix;
      options = extractOrOptions;
    }
    if (rows.length < 2) {
      throw new RangeError(`rows must contain at least 2 feature rows, got ${rows.length}`);
    }
    const matrix: Float64Array[] = [];
    for (let i = 0; i < rows.length; i++) {
      matrix.push(toFeatureVector(rows[i], `rows[${i}]`, i === 0 ? undefined : matrix[0].length));
    }
    const numFeatures = matrix[0].length;
    const featureNames = options?.featureNames;
    if (featureNames !== undefined) {
      if (featureNames.length !== numFeatures) {
        throw new RangeError(
          `featureNames has ${featureNames.length} names, the rows have ${numFeatures} features`,
        );
      }
      featureNames.forEach((name, j) => {
        assertNonEmptyString(name, `featureNames[${j}]`);
      });
    }

    const { numTrees, subsampleSize, seed } = this.options;
    const psi = Math.min(subsampleSize, matrix.length);
    const random = createRandom(seed);
    const maxDepth = Math.ceil(Math.log2(psi));
    const indices = new Int32Array(matrix.length);
    const trees: IsolationTree[] = [];
    for (let t = 0; t < numTrees; t++) {
      for (let i = 0; i < indices.length; i++) indices[i] = i;
      for (let i = 0; i < psi; i++) {
        const j = i + random.int(indices.length - i);
        const tmp = indices[i];
        indices[i] = indices[j];
        indices[j] = tmp;
      }
      trees.push(growTree(matrix, indices.slice(0, psi), maxDepth, random));
    }

    this.fittedTrees = trees;
    this.featureCount = numFeatures;
    this.psi = psi;
    this.names = featureNames ? [...featureNames] : undefined;
    return this;
  }

  /** Returns E[h(x)], the path length of `row` averaged over the trees. */
  expectedPathLength(row: FeatureRow): number {
    const x = this.checkRow(row, "row");
    return this.meanPathLength(x);
  }

  /** Returns the standard anomaly score 2^(-E[h(x)] / c(ψ)) of `row`, in (0, 1). */
  predictAnomalyScore(row: FeatureRow): number {
    const x = this.checkRow(row, "row");
    return this.scoreFromPathLength(this.meanPathLength(x));
  }

  isAnomalous(row: FeatureRow): boolean {
    return this.predictAnomalyScore(row) > this.options.threshold;
  }

  /**
   * Returns the anomaly score of each row. Unlike scikit-learn's `score_samples`, which returns
   * the negated score, higher means more anomalous.
   */
  scoreSamples(rows: FeatureMatrix): Float64Array {
    if (!Array.isArray(rows)) {
      throw new TypeError(`rows must be an array of feature rows, got ${describeValue(rows)}`);
    }
    const scores = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const x = this.checkRow(rows[i], `rows[${i}]`);
      scores[i] = this.scoreFromPathLength(this.meanPathLength(x));
    }
    return scores;
  }

  /** Maps an expected path length to the anomaly score 2^(-h / c(ψ)). */
  scoreFromPathLength(pathLength: number): number {
    this.assertFitted();
    return 2 ** (-pathLength / averageUnsuccessfulSearchLength(this.psi));
  }

  toJSON(): SerializedIsolationForest {
    this.assertFitted();
    return {
      format: ISOLATION_FOREST_FORMAT,
      options: { ...this.options },
      numFeatures: this.featureCount,
      sampleSize: this.psi,
      ...(this.names ? { featureNames: [...this.names] } : {}),
      trees: this.fittedTrees.map((tree) => ({
        feature: Array.from(tree.feature),
        threshold: Array.from(tree.threshold),
        left: Array.from(tree.left),
        right: Array.from(tree.right),
        cover: Array.from(tree.cover),
        depth: Array.from(tree.depth),
        value: Array.from(tree.value),
      })),
    };
  }

  /** Rebuilds a fitted detector from `toJSON` output, checking the tree structure. */
  static fromJSON(json: SerializedIsolationForest): IsolationForestDetector {
    if (json == null || typeof json !== "object") {
      throw new TypeError(`json must be a serialised isolation forest, got ${describeValue(json)}`);
    }
    if (json.format !== ISOLATION_FOREST_FORMAT) {
      throw new RangeError(
        `json.format must be ${ISOLATION_FOREST_FORMAT}, got ${describeValue(json.format)}`,
      );
    }
    const detector = new IsolationForestDetector(json.options);
    const numFeatures = assertInteger(json.numFeatures, "json.numFeatures", 1);
    const psi = assertInteger(json.sampleSize, "json.sampleSize", 2);
    if (!Array.isArray(json.trees) || json.trees.length !== detector.options.numTrees) {
      throw new RangeError(
        `json.trees must contain ${detector.options.numTrees} trees, got ${describeValue(json.trees)}`,
      );
    }
    if (json.featureNames !== undefined) {
      if (!Array.isArray(json.featureNames) || json.featureNames.length !== numFeatures) {
        throw new RangeError(
          `json.featureNames must contain ${numFeatures} names, got ${describeValue(json.featureNames)}`,
        );
      }
      json.featureNames.forEach((name, j) => {
        assertNonEmptyString(name, `json.featureNames[${j}]`);
      });
    }
    detector.fittedTrees = json.trees.map((tree, t) => deserializeTree(tree, numFeatures, t));
    detector.featureCount = numFeatures;
    detector.psi = psi;
    detector.names = json.featureNames ? [...json.featureNames] : undefined;
    return detector;
  }

  private meanPathLength(x: Float64Array): number {
    let total = 0;
    for (const tree of this.fittedTrees) total += treePathLength(tree, x);
    return total / this.fittedTrees.length;
  }

  private checkRow(row: FeatureRow, name: string): Float64Array {
    this.assertFitted();
    return toFeatureVector(row, name, this.featureCount);
  }

  private assertFitted(): void {
    if (!this.isFitted) {
      throw new Error("IsolationForestDetector is not fitted: call fit(rows) first");
    }
  }
}

/** Returns h(x) of one tree: the depth of the leaf that `x` reaches plus c(leaf cover). */
export function treePathLength(tree: IsolationTree, x: ArrayLike<number>): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    node = x[tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
  }
  return tree.value[node];
}

interface PendingNode {
  id: number;
  rows: Int32Array;
}

function growTree(
  matrix: readonly Float64Array[],
  rootRows: Int32Array,
  maxDepth: number,
  random: Random,
): IsolationTree {
  const numFeatures = matrix[0].length;
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const cover: number[] = [];
  const depth: number[] = [];
  const addNode = (rows: number, nodeDepth: number): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    cover.push(rows);
    depth.push(nodeDepth);
    return feature.length - 1;
  };

  const candidates = new Int32Array(numFeatures);
  const stack: PendingNode[] = [{ id: addNode(rootRows.length, 0), rows: rootRows }];
  while (stack.length > 0) {
    const { id, rows } = stack.pop() as PendingNode;
    if (rows.length <= 1 || depth[id] >= maxDepth) continue;

    // Drawing features in random order until one varies on the node's rows picks uniformly
    // among the non-constant features, without scanning every feature at every node.
    for (let j = 0; j < numFeatures; j++) candidates[j] = j;
    let split = -1;
    let low = 0;
    let high = 0;
    for (let k = 0; k < numFeatures && split < 0; k++) {
      const pick = k + random.int(numFeatures - k);
      const f = candidates[pick];
      candidates[pick] = candidates[k];
      candidates[k] = f;
      low = Infinity;
      high = -Infinity;
      for (const r of rows) {
        const v = matrix[r][f];
        if (v < low) low = v;
        if (v > high) high = v;
      }
      if (high > low) split = f;
    }
    if (split < 0) continue;

    // low + u (high - low) can round up to `high` for u close to 1, which would leave the right
    // child empty, so such draws are repeated.
    let cut = high;
    while (cut >= high) cut = low + random.next() * (high - low);
    let leftCount = 0;
    for (const r of rows) if (matrix[r][split] <= cut) leftCount++;
    const leftRows = new Int32Array(leftCount);
    const rightRows = new Int32Array(rows.length - leftCount);
    let li = 0;
    let ri = 0;
    for (const r of rows) {
      if (matrix[r][split] <= cut) leftRows[li++] = r;
      else rightRows[ri++] = r;
    }

    feature[id] = split;
    threshold[id] = cut;
    left[id] = addNode(leftRows.length, depth[id] + 1);
    right[id] = addNode(rightRows.length, depth[id] + 1);
    stack.push({ id: right[id], rows: rightRows }, { id: left[id], rows: leftRows });
  }

  const tree: IsolationTree = {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    cover: Int32Array.from(cover),
    depth: Int32Array.from(depth),
    value: new Float64Array(feature.length),
  };
  fillNodeValues(tree);
  return tree;
}

/** Sets `value` bottom-up. Children always have larger ids than their parent. */
function fillNodeValues(tree: IsolationTree): void {
  for (let id = tree.feature.length - 1; id >= 0; id--) {
    if (tree.feature[id] < 0) {
      tree.value[id] = tree.depth[id] + averageUnsuccessfulSearchLength(tree.cover[id]);
    } else {
      const l = tree.left[id];
      const r = tree.right[id];
      tree.value[id] =
        (tree.cover[l] * tree.value[l] + tree.cover[r] * tree.value[r]) / tree.cover[id];
    }
  }
}

function deserializeTree(
  json: SerializedIsolationTree,
  numFeatures: number,
  index: number,
): IsolationTree {
  const name = `json.trees[${index}]`;
  if (json == null || typeof json !== "object" || !Array.isArray(json.feature)) {
    throw new TypeError(`${name} must be a serialised isolation tree, got ${describeValue(json)}`);
  }
  const size = json.feature.length;
  for (const key of ["threshold", "left", "right", "cover", "depth", "value"] as const) {
    if (!Array.isArray(json[key]) || json[key].length !== size) {
      throw new RangeError(
        `${name}.${key} must contain ${size} entries, got ${describeValue(json[key])}`,
      );
    }
  }
  if (size === 0) throw new RangeError(`${name} must have at least one node, got 0`);
  for (let id = 0; id < size; id++) {
    const f = json.feature[id];
    if (f === -1) {
      if (json.left[id] !== -1 || json.right[id] !== -1) {
        throw new RangeError(`${name}: leaf ${id} must have children -1, got ${json.left[id]}`);
      }
      continue;
    }
    assertInteger(f, `${name}.feature[${id}]`, 0, numFeatures - 1);
    assertInteger(json.left[id], `${name}.left[${id}]`, id + 1, size - 1);
    assertInteger(json.right[id], `${name}.right[${id}]`, id + 1, size - 1);
    if (!Number.isFinite(json.threshold[id])) {
      throw new RangeError(
        `${name}.threshold[${id}] must be a finite number, got ${describeValue(json.threshold[id])}`,
      );
    }
  }
  const tree: IsolationTree = {
    feature: Int32Array.from(json.feature),
    threshold: Float64Array.from(json.threshold),
    left: Int32Array.from(json.left),
    right: Int32Array.from(json.right),
    cover: Int32Array.from(json.cover),
    depth: Int32Array.from(json.depth),
    value: new Float64Array(size),
  };
  for (let id = 0; id < size; id++) {
    assertInteger(json.cover[id], `${name}.cover[${id}]`, 1);
    assertInteger(json.depth[id], `${name}.depth[${id}]`, 0);
  }
  // Values are recomputed from depth and cover, so a stored value cannot disagree with them.
  fillNodeValues(tree);
  return tree;
}
