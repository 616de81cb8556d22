import { describe, expect, it } from "vitest";
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  hkdfSha256,
  openSecret,
  randomBytes,
  sealSecret,
  sha256,
  toHex,
} from "@/lib/pq";
import { hex } from "./fixtures";

describe("sha256", () => {
  it("matches the FIPS 180-4 abc example", () => {
    const digest = sha256(new TextEncoder().encode("abc"));
    expect(toHex(digest)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("hkdfSha256", () => {
  it("matches RFC 5869 test case 1", () => {
    const okm = hkdfSha256(
      hex("0b".repeat(22)),
      hex("000102030405060708090a0b0c"),
      hex("f0f1f2f3f4f5f6f7f8f9"),
      42,
    );
    expect(toHex(okm)).toBe(
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    );
  });

  it("rejects an out-of-range length", () => {
    expect(() => hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 0)).toThrow(
      "length: expected an integer in [1, 8160], got 0",
    );
  });
});

describe("AES-256-GCM", () => {
  const key = randomBytes(32);
  const iv = new Uint8Array(12);
  const aad = new TextEncoder().encode("header");
  const plaintext = randomBytes(1000);

  it("round-trips with a 16-byte tag", () => {
    const sealed = aes256GcmEncrypt(key, iv, plaintext, aad);
    expect(sealed.length).toBe(1016);
    expect(toHex(aes256GcmDecrypt(key, iv, sealed, aad) ?? new Uint8Array(0))).toBe(
      toHex(plaintext),
    );
  });

  it("returns null on any modification", () => {
    const sealed = aes256GcmEncrypt(key, iv, plaintext, aad);
    const flippedBody = sealed.slice();
    flippedBody[5] ^= 1;
    const flippedTag = sealed.slice();
    flippedTag[sealed.length - 1] ^= 1;
    expect(aes256GcmDecrypt(key, iv, flippedBody, aad)).toBeNull();
    expect(aes256GcmDecrypt(key, iv, flippedTag, aad)).toBeNull();
    expect(aes256GcmDecrypt(key, iv, sealed, new TextEncoder().encode("headeR"))).toBeNull();
    expect(aes256GcmDecrypt(randomBytes(32), iv, sealed, aad)).toBeNull();
  });

  it("names the argument on a short key", () => {
    expect(() => aes256GcmEncrypt(new Uint8Array(16), iv, plaintext, aad)).toThrow(
      "key: expected 32 bytes (AES-256 key), got 16",
    );
  });
});

describe("sealSecret and openSecret", () => {
  const master = randomBytes(32);
  const secret = randomBytes(32);

  it("round-trips under the same label", () => {
    const sealed = sealSecret(master, secret, "server-xwing");
    expect(sealed.length).toBe(1 + 12 + 32 + 16);
    expect(sealed[0]).toBe(1);
    expect(toHex(openSecret(master, sealed, "server-xwing"))).toBe(toHex(secret));
  });

  it("uses a fresh IV per seal", () => {
    const a = sealSecret(master, secret, "server-xwing");
    const b = sealSecret(master, secret, "server-xwing");
    expect(toHex(a.subarray(1, 13))).not.toBe(toHex(b.subarray(1, 13)));
  });

  it("rejects another label, key or modified bytes", () => {
    const sealed = sealSecret(master, secret, "server-xwing");
    const flipped = sealed.slice();
    flipped[20] ^= 1;
    expect(() => openSecret(master, sealed, "server-mldsa65")).toThrow(/failed authentication/);
    expect(() => openSecret(randomBytes(32), sealed, "server-xwing")).toThrow(
      /failed authentication/,
    );
    expect(() => openSecret(master, flipped, "server-xwing")).toThrow(/failed authentication/);
  });

  it("rejects an unknown format version", () => {
    const sealed = sealSecret(master, secret, "server-xwing");
    sealed[0] = 2;
    expect(() => openSecret(master, sealed, "server-xwing")).toThrow(
      "sealed: unknown format version 2, expected 1",
    );
  });

  it("requires a 32-byte master key and a label", () => {
    expect(() => sealSecret(new Uint8Array(31), secret, "x")).toThrow(
      "masterKey: expected 32 bytes (AES-256 master key), got 31",
    );
    expect(() => sealSecret(master, secret, "")).toThrow("label: expected a non-empty string");
  });
});
