import { describe, expect, it } from "vitest";
import {
  DilithiumSigner,
  equalBytes,
  KyberKeyExchange,
  MODEL_CONTEXT,
  publicKeyFingerprint,
  sha256,
  toHex,
  UPDATE_CONTEXT,
  XWingKem,
} from "@/lib/pq";

const message = new TextEncoder().encode("round 7 update");

describe("KyberKeyExchange (ML-KEM-768)", () => {
  const keys = KyberKeyExchange.generateKeypair();

  it("has the FIPS 203 sizes", () => {
    const { ciphertext, sharedSecret } = KyberKeyExchange.encapsulate(keys.publicKey);
    expect(keys.publicKey.length).toBe(1184);
    expect(keys.secretKey.length).toBe(2400);
    expect(ciphertext.length).toBe(1088);
    expect(sharedSecret.length).toBe(32);
  });

  it("round-trips a shared secret", () => {
    const { ciphertext, sharedSecret } = KyberKeyExchange.encapsulate(keys.publicKey);
    expect(toHex(KyberKeyExchange.decapsulate(ciphertext, keys.secretKey))).toBe(
      toHex(sharedSecret),
    );
  });

  it("implicitly rejects a modified ciphertext", () => {
    const { ciphertext, sharedSecret } = KyberKeyExchange.encapsulate(keys.publicKey);
    ciphertext[10] ^= 1;
    const recovered = KyberKeyExchange.decapsulate(ciphertext, keys.secretKey);
    expect(recovered.length).toBe(32);
    expect(equalBytes(recovered, sharedSecret)).toBe(false);
  });

  it("names the argument and lengths on bad input", () => {
    expect(() => KyberKeyExchange.encapsulate(keys.publicKey.subarray(1))).toThrow(
      "publicKey: expected 1184 bytes (ML-KEM-768 public key), got 1183",
    );
    expect(() => KyberKeyExchange.decapsulate(new Uint8Array(1087), keys.secretKey)).toThrow(
      "ciphertext: expected 1088 bytes (ML-KEM-768 ciphertext), got 1087",
    );
    expect(() => KyberKeyExchange.decapsulate(new Uint8Array(1088), new Uint8Array(10))).toThrow(
      "secretKey: expected 2400 bytes (ML-KEM-768 secret key), got 10",
    );
    expect(() => KyberKeyExchange.generateKeypair(new Uint8Array(32))).toThrow(
      "seed: expected 64 bytes (ML-KEM d || z), got 32",
    );
    expect(() => KyberKeyExchange.encapsulate("key" as unknown as Uint8Array)).toThrow(
      "publicKey: expected a Uint8Array, got string",
    );
  });

  it("rejects a key failing the modulus check", () => {
    const bad = keys.publicKey.slice();
    bad[0] = 0xff;
    bad[1] = 0xff;
    expect(() => KyberKeyExchange.encapsulate(bad)).toThrow(
      /not a valid ML-KEM-768 encapsulation key/,
    );
  });
});

describe("XWingKem", () => {
  const keys = XWingKem.generateKeypair();

  it("has the draft's sizes", () => {
    const { ciphertext, sharedSecret } = XWingKem.encapsulate(keys.publicKey);
    expect(keys.publicKey.length).toBe(1216);
    expect(keys.secretKey.length).toBe(32);
    expect(ciphertext.length).toBe(1120);
    expect(sharedSecret.length).toBe(32);
  });

  it("round-trips a shared secret", () => {
    const { ciphertext, sharedSecret } = XWingKem.encapsulate(keys.publicKey);
    expect(toHex(XWingKem.decapsulate(ciphertext, keys.secretKey))).toBe(toHex(sharedSecret));
  });

  it("rejects a low-order X25519 share", () => {
    const { ciphertext } = XWingKem.encapsulate(keys.publicKey);
    ciphertext.fill(0, 1088);
    expect(() => XWingKem.decapsulate(ciphertext, keys.secretKey)).toThrow();
  });

  it("names the argument and lengths on bad input", () => {
    expect(() => XWingKem.encapsulate(new Uint8Array(1184))).toThrow(
      "publicKey: expected 1216 bytes (X-Wing public key), got 1184",
    );
    expect(() => XWingKem.decapsulate(new Uint8Array(1120), new Uint8Array(2400))).toThrow(
      "secretKey: expected 32 bytes (X-Wing secret key), got 2400",
    );
    expect(() => XWingKem.encapsulate(keys.publicKey, new Uint8Array(32))).toThrow(
      "randomness: expected 64 bytes (X-Wing eseed), got 32",
    );
  });
});

describe("DilithiumSigner (ML-DSA-65)", () => {
  const keys = DilithiumSigner.generateKeypair();
  const signature = DilithiumSigner.sign(message, keys.secretKey, UPDATE_CONTEXT);

  it("has the FIPS 204 sizes", () => {
    expect(keys.publicKey.length).toBe(1952);
    expect(keys.secretKey.length).toBe(4032);
    expect(signature.length).toBe(3309);
  });

  it("verifies its own signature", () => {
    expect(DilithiumSigner.verify(message, signature, keys.publicKey, UPDATE_CONTEXT)).toBe(true);
    expect(toHex(DilithiumSigner.getPublicKey(keys.secretKey))).toBe(toHex(keys.publicKey));
  });

  it("hedges signatures by default", () => {
    const again = DilithiumSigner.sign(message, keys.secretKey, UPDATE_CONTEXT);
    expect(equalBytes(again, signature)).toBe(false);
  });

  it("rejects another message, key or context", () => {
    const other = DilithiumSigner.generateKeypair();
    const changed = message.slice();
    changed[0] ^= 1;
    expect(DilithiumSigner.verify(changed, signature, keys.publicKey, UPDATE_CONTEXT)).toBe(false);
    expect(DilithiumSigner.verify(message, signature, other.publicKey, UPDATE_CONTEXT)).toBe(false);
    expect(DilithiumSigner.verify(message, signature, keys.publicKey, MODEL_CONTEXT)).toBe(false);
  });

  it("returns false on garbage signatures", () => {
    const flipped = signature.slice();
    flipped[100] ^= 0x80;
    expect(DilithiumSigner.verify(message, flipped, keys.publicKey, UPDATE_CONTEXT)).toBe(false);
    expect(
      DilithiumSigner.verify(message, signature.subarray(1), keys.publicKey, UPDATE_CONTEXT),
    ).toBe(false);
    expect(DilithiumSigner.verify(message, new Uint8Array(0), keys.publicKey, UPDATE_CONTEXT)).toBe(
      false,
    );
    const allOnes = new Uint8Array(3309).fill(0xff);
    expect(DilithiumSigner.verify(message, allOnes, keys.publicKey, UPDATE_CONTEXT)).toBe(false);
  });

  it("rejects unknown context strings", () => {
    const context = "qsfl-caad/other/v1" as typeof UPDATE_CONTEXT;
    expect(() => DilithiumSigner.sign(message, keys.secretKey, context)).toThrow(
      /context: expected one of qsfl-caad\/update\/v1, .*got "qsfl-caad\/other\/v1"/,
    );
    expect(() => DilithiumSigner.sign(message, keys.secretKey, new Uint8Array(256))).toThrow(
      "context: expected at most 255 bytes (FIPS 204), got 256",
    );
  });

  it("names the argument and lengths on bad keys", () => {
    expect(() =>
      DilithiumSigner.verify(message, signature, keys.publicKey.subarray(2), UPDATE_CONTEXT),
    ).toThrow("publicKey: expected 1952 bytes (ML-DSA-65 public key), got 1950");
    expect(() => DilithiumSigner.sign(message, keys.publicKey, UPDATE_CONTEXT)).toThrow(
      "secretKey: expected 4032 bytes (ML-DSA-65 secret key), got 1952",
    );
  });
});

describe("publicKeyFingerprint", () => {
  it("is the SHA-256 of the key in hex", () => {
    const { publicKey } = DilithiumSigner.generateKeypair();
    const fingerprint = publicKeyFingerprint(publicKey);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).toBe(toHex(sha256(publicKey)));
  });

  it("rejects an empty key", () => {
    expect(() => publicKeyFingerprint(new Uint8Array(0))).toThrow(
      "publicKey: expected a non-empty key",
    );
  });
});
