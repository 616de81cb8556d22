/**
 * Reader for the MNIST distribution files in IDX format (LeCun and Cortes, "The MNIST database of
 * handwritten digits"): big-endian headers followed by unsigned bytes.
 *
 *   images  magic 0x00000803 (2051), count, rows, columns (u32 each), then count x rows x columns
 *           pixels, row-major, 0 to 255
 *   labels  magic 0x00000801 (2049), count (u32), then count labels 0 to 9
 *
 * Files may be gzip-compressed (`.gz`), as they are distributed. Both the standard names
 * (`train-images-idx3-ubyte`) and the dotted variant some mirrors use (`train-images.idx3-ubyte`)
 * are found. The reader checks the magic number, the 28 x 28 size the models expect, the exact
 * file length and the label range, and every error names the file.
 */

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { Dataset } from "./data";
import { INPUT_SIZE, NUM_CLASSES } from "./spec";

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;
const IMAGE_SIDE = 28;

export class IdxFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "IdxFormatError";
  }
}

export type IdxSplit = "train" | "test";

/**
 * Reads the training (`train-*`) or test (`t10k-*`) images and labels from `dir`, scaling pixels
 * to [0, 1]. Throws IdxFormatError naming the file for a missing file, a wrong magic number,
 * another image size, a truncated or overlong file, an out-of-range label or a count mismatch.
 */
export function loadMnistIdx(dir: string, options: { split?: IdxSplit } = {}): Dataset {
  if (typeof dir !== "string" || dir.length === 0) {
    throw new TypeError(`dir: expected a folder path, got ${JSON.stringify(dir)}`);
  }
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test") {
    throw new RangeError(`options.split: expected "train" or "test", got ${JSON.stringify(split)}`);
  }
  const prefix = split === "train" ? "train" : "t10k";
  const imagesFile = findIdxFile(dir, `${prefix}-images`, "idx3-ubyte");
  const labelsFile = findIdxFile(dir, `${prefix}-labels`, "idx1-ubyte");
  const images = parseImages(readIdxFile(imagesFile), imagesFile);
  const labels = parseLabels(readIdxFile(labelsFile), labelsFile);
  if (images.length !== labels.length * INPUT_SIZE) {
    throw new IdxFormatError(
      labelsFile,
      `holds ${labels.length} labels, but ${imagesFile} holds ${images.length / INPUT_SIZE} images`,
    );
  }
  return { images, labels };
}

function findIdxFile(dir: string, stem: string, kind: string): string {
  const names = [`${stem}-${kind}`, `${stem}.${kind}`];
  const candidates = names.flatMap((name) => [name, `${name}.gz`]);
  for (const name of candidates) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new IdxFormatError(
    path.join(dir, names[0]),
    `not found; expected one of ${candidates.join(", ")} in ${dir}`,
  );
}

function readIdxFile(file: string): Uint8Array {
  const bytes = readFileSync(file);
  if (!file.endsWith(".gz")) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  try {
    const inflated = gunzipSync(bytes);
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
  } catch (error) {
    throw new IdxFormatError(file, `is not valid gzip (${(error as Error).message})`);
  }
}

function parseImages(bytes: Uint8Array, file: string): Float32Array {
  const view = header(bytes, file, 16, IDX_IMAGES_MAGIC, "images (idx3-ubyte)");
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const columns = view.getUint32(12);
  if (rows !== IMAGE_SIDE || columns !== IMAGE_SIDE) {
    throw new IdxFormatError(
      file,
      `images are ${rows} x ${columns} pixels, expected ${IMAGE_SIDE} x ${IMAGE_SIDE}`,
    );
  }
  checkLength(bytes, file, 16 + count * rows * columns, `${count} images`);
  const images = new Float32Array(count * INPUT_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = bytes[16 + i] / 255;
  return images;
}

function parseLabels(bytes: Uint8Array, file: string): Uint8Array {
  const view = header(bytes, file, 8, IDX_LABELS_MAGIC, "labels (idx1-ubyte)");
  const count = view.getUint32(4);
  checkLength(bytes, file, 8 + count, `${count} labels`);
  const labels = bytes.slice(8, 8 + count);
  const bad = labels.findIndex((label) => label >= NUM_CLASSES);
  if (bad !== -1) {
    throw new IdxFormatError(
      file,
      `label ${bad} is ${labels[bad]}, expected a digit 0 to ${NUM_CLASSES - 1}`,
    );
  }
  return labels;
}

function header(
  bytes: Uint8Array,
  file: string,
  length: number,
  magic: number,
  kind: string,
): DataView {
  if (bytes.length < length) {
    throw new IdxFormatError(
      file,
      `truncated: ${bytes.length} bytes, shorter than the ${length}-byte IDX header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const found = view.getUint32(0);
  if (found !== magic) {
    throw new IdxFormatError(
      file,
      `magic number is 0x${hex(found)}, expected 0x${hex(magic)} (${magic}) for MNIST ${kind}`,
    );
  }
  return view;
}

function checkLength(bytes: Uint8Array, file: string, expected: number, content: string): void {
  if (bytes.length < expected) {
    throw new IdxFormatError(
      file,
      `truncated: ${bytes.length} bytes, the header announces ${content} in ${expected} bytes`,
    );
  }
  if (bytes.length > expected) {
    throw new IdxFormatError(
      file,
      `${bytes.length - expected} bytes after the ${content} the header announces`,
    );
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}
