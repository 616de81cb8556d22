import { describe, expect, it } from "vitest";
import {
  DilithiumSigner,
  KyberKeyExchange,
  ML_KEM_768,
  SIGNATURE_CONTEXTS,
  sha256,
  toHex,
  UPDATE_CONTEXT,
  XWingKem,
} from "@/lib/pq";
import { hex, loadFixture } from "./fixtures";

interface Vectors<T> {
  source: string;
  cases: T[];
}

const mlKem =
  loadFixture<Vectors<{ seed: string; ek: string; c: string; K: string }>>("ml-kem-768.json");
const mlDsa =
  loadFixture<
    Vectors<{ privateSeed: string; publicKey: string; msg: string; ctx: string; sig: string }>
  >("ml-dsa-65.json");
const xWing =
  loadFixture<
    Vectors<{ seed: string; sk: string; pk: string; eseed: string; ct: string; ss: string }>
  >("x-wing.json");
const pins = loadFixture<{
  message: string;
  privateSeed: string;
  signatureSha256: Record<string, string>;
}>("context-pins.json");

describe("ML-KEM-768 known answers", () => {
  for (const vector of mlKem.cases) {
    it("derives the published encapsulation key from the seed", () => {
      const { publicKey } = KyberKeyExchange.generateKeypair(hex(vector.seed));
      expect(toHex(publicKey)).toBe(vector.ek);
    });

    it("decapsulates to the published shared secret", () => {
      const { secretKey } = KyberKeyExchange.generateKeypair(hex(vector.seed));
      const sharedSecret = KyberKeyExchange.decapsulate(hex(vector.c), secretKey);
      expect(toHex(sharedSecret)).toBe(vector.K);
    });
  }

  for (const [index, vector] of xWing.cases.entries()) {
    it(`encapsulates to the X-Wing vector ${index} ciphertext`, () => {
      const publicKey = hex(vector.pk).subarray(0, ML_KEM_768.publicKeyBytes);
      const m = hex(vector.eseed).subarray(0, ML_KEM_768.randomnessBytes);
      const { ciphertext } = KyberKeyExchange.encapsulate(publicKey, m);
      expect(toHex(ciphertext)).toBe(vector.ct.slice(0, ML_KEM_768.ciphertextBytes * 2));
    });
  }
});

describe("X-Wing known answers", () => {
  for (const [index, vector] of xWing.cases.entries()) {
    it(`matches draft vector ${index} end to end`, () => {
      const keys = XWingKem.generateKeypair(hex(vector.seed));
      expect(toHex(keys.publicKey)).toBe(vector.pk);
      expect(toHex(keys.secretKey)).toBe(vector.sk);

      const encapsulated = XWingKem.encapsulate(keys.publicKey, hex(vector.eseed));
      expect(toHex(encapsulated.ciphertext)).toBe(vector.ct);
      expect(toHex(encapsulated.sharedSecret)).toBe(vector.ss);

      const sharedSecret = XWingKem.decapsulate(hex(vector.ct), hex(vector.sk));
      expect(toHex(sharedSecret)).toBe(vector.ss);
      expect(toHex(XWingKem.getPublicKey(hex(vector.sk)))).toBe(vector.pk);
    });
  }
});

describe("ML-DSA-65 known answers", () => {
  for (const vector of mlDsa.cases) {
    const keys = DilithiumSigner.generateKeypair(hex(vector.privateSeed));
    const context = hex(vector.ctx);

    it("derives the published public key from the seed", () => {
      expect(toHex(keys.publicKey)).toBe(vector.publicKey);
    });

    it("signs deterministically to the published signature", () => {
      const signature = DilithiumSigner.sign(hex(vector.msg), keys.secretKey, context, {
        deterministic: true,
      });
      expect(toHex(signature)).toBe(vector.sig);
    });

    it("verifies the published signature", () => {
      const valid = DilithiumSigner.verify(
        hex(vector.msg),
        hex(vector.sig),
        hex(vector.publicKey),
        context,
      );
      expect(valid).toBe(true);
    });

    it("rejects the published signature under another context", () => {
      const valid = DilithiumSigner.verify(
        hex(vector.msg),
        hex(vector.sig),
        hex(vector.publicKey),
        UPDATE_CONTEXT,
      );
      expect(valid).toBe(false);
    });
  }
});

describe("signature context pins", () => {
  const keys = DilithiumSigner.generateKeypair(hex(pins.privateSeed));
  const message = new TextEncoder().encode(pins.message);
  const contexts = Object.values(SIGNATURE_CONTEXTS);

  it("covers every exported context", () => {
    expect(Object.keys(pins.signatureSha256).sort()).toEqual([...contexts].sort());
  });

  for (const context of contexts) {
    it(`pins ${context}`, () => {
      const signature = DilithiumSigner.sign(message, keys.secretKey, context, {
        deterministic: true,
      });
      expect(toHex(sha256(signature))).toBe(pins.signatureSha256[context]);
      expect(DilithiumSigner.verify(message, signature, keys.publicKey, context)).toBe(true);
      for (const other of contexts) {
        if (other === context) continue;
        expect(DilithiumSigner.verify(message, signature, keys.publicKey, other), other).toBe(
          false,
        );
      }
    });
  }
});
