import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  IdxFormatError,
  loadMnist,
  loadMnistIdx,
  selectSamples,
  splitTrainValidation,
} from "@/lib/ml";

describe("loadMnist", () => {
  const data = loadMnist();

  it("returns the package's 10,000 digits", () => {
    expect(data.labels.length).toBe(10_000);
    expect(data.images.length).toBe(10_000 * 784);
    const perClass = new Array(10).fill(0);
    for (const label of data.labels) perClass[label]++;
    expect(perClass).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const value of data.images) {
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it("returns the same order every call", () => {
    const again = loadMnist();
    expect(again.labels).toEqual(data.labels);
    expect(again.images.subarray(0, 784 * 5)).toEqual(data.images.subarray(0, 784 * 5));
    expect(loadMnist({ seed: 1 }).labels).not.toEqual(data.labels);
  });

  it("mixes classes in any prefix", () => {
    expect(new Set(data.labels.subarray(0, 50)).size).toBe(10);
  });
});

describe("splitTrainValidation", () => {
  const data = loadMnist();

  it("splits disjointly by fraction", () => {
    const tagged = { images: data.images.slice(0, 784 * 100), labels: data.labels.slice(0, 100) };
    // Tag each sample by writing its index into its first pixel.
    for (let i = 0; i < 100; i++) tagged.images[i * 784] = i;
    const { train, validation } = splitTrainValidation(tagged, 0.2, 3);
    expect(validation.labels.length).toBe(20);
    expect(train.labels.length).toBe(80);
    const ids = (set: typeof train) =>
      Array.from({ length: set.labels.length }, (_, i) => set.images[i * 784]);
    const all = [...ids(train), ...ids(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const [i, id] of ids(train).entries()) expect(train.labels[i]).toBe(tagged.labels[id]);
    expect(splitTrainValidation(tagged, 0.2, 3).validation).toEqual(validation);
    expect(splitTrainValidation(tagged, 0.2, 4).validation).not.toEqual(validation);
  });

  it("rejects a fraction outside (0, 1)", () => {
    expect(() => splitTrainValidation(data, 1, 0)).toThrow(
      /validationFraction: expected a number in \(0, 1\), got 1/,
    );
    expect(() => splitTrainValidation(selectSamples(data, [0]), 0.5, 0)).toThrow(
      /leaves no training samples/,
    );
  });
});

describe("loadMnistIdx", () => {
  const images = [0, 255, 128].map((value) => new Uint8Array(784).fill(value));
  const labels = [7, 0, 9];

  function imagesFile(count = images.length, magic = 0x803, side = 28): Buffer {
    const header = Buffer.alloc(16);
    header.writeUInt32BE(magic, 0);
    header.writeUInt32BE(count, 4);
    header.writeUInt32BE(side, 8);
    header.writeUInt32BE(side, 12);
    return Buffer.concat([header, ...images.map((image) => Buffer.from(image))]);
  }

  function labelsFile(values = labels, magic = 0x801): Buffer {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(magic, 0);
    header.writeUInt32BE(values.length, 4);
    return Buffer.concat([header, Buffer.from(values)]);
  }

  function folder(files: Record<string, Buffer>): string {
    const dir = mkdtempSync(path.join(tmpdir(), "qsfl-idx-"));
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
    return dir;
  }

  it("reads plain files", () => {
    const dir = folder({
      "train-images-idx3-ubyte": imagesFile(),
      "train-labels-idx1-ubyte": labelsFile(),
    });
    const data = loadMnistIdx(dir);
    expect(Array.from(data.labels)).toEqual(labels);
    expect(data.images.length).toBe(3 * 784);
    expect(data.images[0]).toBe(0);
    expect(data.images[784]).toBe(1);
    expect(data.images[2 * 784 + 5]).toBeCloseTo(128 / 255, 6);
  });

  it("reads gzip files of the test split", () => {
    const dir = folder({
      "t10k-images-idx3-ubyte.gz": gzipSync(imagesFile()),
      "t10k-labels.idx1-ubyte.gz": gzipSync(labelsFile()),
    });
    expect(Array.from(loadMnistIdx(dir, { split: "test" }).labels)).toEqual(labels);
  });

  it("rejects a wrong magic number", () => {
    const dir = folder({
      "train-images-idx3-ubyte": imagesFile(3, 0x801),
      "train-labels-idx1-ubyte": labelsFile(),
    });
    expect(() => loadMnistIdx(dir)).toThrow(IdxFormatError);
    expect(() => loadMnistIdx(dir)).toThrow(
      /train-images-idx3-ubyte: magic number is 0x00000801, expected 0x00000803 \(2051\)/,
    );
  });

  it("rejects a truncated file", () => {
    const dir = folder({
      "train-images-idx3-ubyte": imagesFile(4),
      "train-labels-idx1-ubyte": labelsFile(),
    });
    expect(() => loadMnistIdx(dir)).toThrow(
      /train-images-idx3-ubyte: truncated: 2368 bytes, the header announces 4 images in 3152 bytes/,
    );
    const short = folder({
      "train-images-idx3-ubyte": imagesFile(),
      "train-labels-idx1-ubyte": labelsFile().subarray(0, 6),
    });
    expect(() => loadMnistIdx(short)).toThrow(/shorter than the 8-byte IDX header/);
  });

  it("rejects trailing bytes", () => {
    const dir = folder({
      "train-images-idx3-ubyte": imagesFile(2),
      "train-labels-idx1-ubyte": labelsFile(),
    });
    expect(() => loadMnistIdx(dir)).toThrow(/784 bytes after the 2 images/);
  });

  it("rejects another image size", () => {
    const dir = folder({
      "train-images-idx3-ubyte": imagesFile(3, 0x803, 14),
      "train-labels-idx1-ubyte": labelsFile(),
    });
    expect(() => loadMnistIdx(dir)).toThrow(/14 x 14 pixels, expected 28 x 28/);
  });

  it("rejects mismatched counts and bad labels", () => {
    const mismatch = folder({
      "train-images-idx3-ubyte": imagesFile(),
      "train-labels-idx1-ubyte": labelsFile([1, 2]),
    });
    expect(() => loadMnistIdx(mismatch)).toThrow(/holds 2 labels, but .* holds 3 images/);
    const badLabel = folder({
      "train-images-idx3-ubyte": imagesFile(),
      "train-labels-idx1-ubyte": labelsFile([1, 12, 3]),
    });
    expect(() => loadMnistIdx(badLabel)).toThrow(/label 1 is 12, expected a digit 0 to 9/);
  });

  it("names a missing file", () => {
    const dir = folder({ "train-images-idx3-ubyte": imagesFile() });
    expect(() => loadMnistIdx(dir)).toThrow(
      /train-labels-idx1-ubyte: not found; expected one of train-labels-idx1-ubyte, train-labels-idx1-ubyte.gz/,
    );
  });

  it("rejects a corrupt gzip file", () => {
    const dir = folder({
      "train-images-idx3-ubyte.gz": imagesFile(),
      "train-labels-idx1-ubyte": labelsFile(),
    });
    expect(() => loadMnistIdx(dir)).toThrow(/train-images-idx3-ubyte.gz: is not valid gzip/);
  });
});
