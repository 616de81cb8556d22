import type { Weights } from "@/lib/tensors";

/**
 * Returns null when `actual` equals `expected` bit for bit, otherwise the first difference. The
 * tests compare weights with it because a failing toEqual on 100k floats takes minutes to print.
 */
export function firstDifference(actual: Weights, expected: Weights): string | null {
  if (actual.length !== expected.length) {
    return `${actual.length} tensors, expected ${expected.length}`;
  }
  for (let t = 0; t < expected.length; t++) {
    const a = actual[t];
    const e = expected[t];
    if (a.name !== e.name) return `tensor ${t} is "${a.name}", expected "${e.name}"`;
    if (a.shape.join(",") !== e.shape.join(",")) {
      return `${e.name} has shape [${a.shape}], expected [${e.shape}]`;
    }
    if (a.data.length !== e.data.length) {
      return `${e.name} has ${a.data.length} values, expected ${e.data.length}`;
    }
    for (let k = 0; k < e.data.length; k++) {
      if (!Object.is(a.data[k], e.data[k])) {
        return `${e.name}[${k}] is ${a.data[k]}, expected ${e.data[k]}`;
      }
    }
  }
  return null;
}
