import { readFileSync } from "node:fs";
import { fromHex } from "@/lib/pq";

/** Reads a JSON file from tests/fixtures/pq. */
export function loadFixture<T>(name: string): T {
  const url = new URL(`../../fixtures/pq/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as T;
}

export const hex = (value: string): Uint8Array => fromHex(value);
