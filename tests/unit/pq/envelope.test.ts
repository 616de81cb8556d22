import { describe, expect, it } from "vitest";
import {
  aes256GcmEncrypt,
  assertManifest,
  DilithiumSigner,
  deriveUpdateKey,
  type EnvelopeErrorCode,
  MODEL_CONTEXT,
  openUpdatePayload,
  type ParsedUpdateEnvelope,
  parseUpdateEnvelope,
  randomBytes,
  type SignatureContext,
  sealUpdate,
  sha256,
  toHex,
  UPDATE_CONTEXT,
  verifyAndOpenUpdate,
  verifyUpdateSignature,
} from "@/lib/pq";
import type { Weights } from "@/lib/tensors";
import { hex } from "./fixtures";

const client = DilithiumSigner.generateKeypair(hex("11".repeat(32)));
const sessionKey = randomBytes(32);
const sessionId = randomBytes(16);
const maxBytes = 1 << 20;

const ids = { clientId: "client-7", federationId: "fed-mnist", roundId: "round-0003" };

function model(): Weights {
  const tensor = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: size }, (_, i) => (i - size / 2) / 7);
    return { name, shape, data };
  };
  return [tensor("dense/kernel", [4, 3]), tensor("dense/bias", [3]), tensor("out/kernel", [3, 2])];
}

function seal(weights: Weights = model(), signingSecretKey = client.secretKey): Uint8Array {
  return sealUpdate({
    ...ids,
    baseModelVersion: 2,
    numSamples: 600,
    weights,
    sessionId,
    sessionKey,
    signingSecretKey,
    timestampMs: 1_750_000_000_000,
  });
}

const parse = (bytes: Uint8Array) => parseUpdateEnvelope(bytes, { maxBytes });
const check = (bytes: Uint8Array) =>
  verifyAndOpenUpdate(parse(bytes), { clientPublicKey: client.publicKey, sessionKey });

function errorCode(run: () => unknown): EnvelopeErrorCode | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: EnvelopeErrorCode }).code;
  }
  return undefined;
}

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= 0x01;
  return copy;
}

// Offsets inside the header, from the layout in docs/protocol.md.
const idsLength = 2 + ids.clientId.length + 2 + ids.federationId.length + 2 + ids.roundId.length;
const BASE_VERSION_OFFSET = 5 + idsLength;
const NUM_SAMPLES_OFFSET = BASE_VERSION_OFFSET + 4;
const DIGEST_OFFSET = NUM_SAMPLES_OFFSET + 4 + 16 + 8 + 4;
const FIRST_DTYPE_OFFSET = DIGEST_OFFSET + 32 + 2 + 2 + "dense/kernel".length;

/**
 * Re-encrypts and re-signs an envelope around new header bytes, the way a client holding the
 * session key and its signing key could: for tests of checks behind the signature.
 */
function forge(
  parsed: ParsedUpdateEnvelope,
  headerBytes: Uint8Array,
  payload: Uint8Array,
  context: SignatureContext = UPDATE_CONTEXT,
): Uint8Array {
  const key = deriveUpdateKey(sessionKey, parsed.sessionId, parsed.header.nonce);
  const ciphertext = aes256GcmEncrypt(key, new Uint8Array(12), payload, headerBytes);
  const signed = new Uint8Array(headerBytes.length + 16 + 32);
  signed.set(headerBytes, 0);
  signed.set(parsed.sessionId, headerBytes.length);
  signed.set(sha256(ciphertext), headerBytes.length + 16);
  const signature = DilithiumSigner.sign(signed, client.secretKey, context);
  const out = new Uint8Array(headerBytes.length + 16 + ciphertext.length + signature.length);
  out.set(headerBytes, 0);
  out.set(parsed.sessionId, headerBytes.length);
  out.set(ciphertext, headerBytes.length + 16);
  out.set(signature, headerBytes.length + 16 + ciphertext.length);
  return out;
}

function payloadOf(weights: Weights): Uint8Array {
  const values = new Float32Array(weights.flatMap((tensor) => [...tensor.data]));
  return new Uint8Array(values.buffer);
}

describe("update envelope round trip", () => {
  const bytes = seal();
  const parsed = parse(bytes);

  it("parses the header fields", () => {
    expect(parsed.version).toBe(1);
    expect(parsed.header.clientId).toBe("client-7");
    expect(parsed.header.federationId).toBe("fed-mnist");
    expect(parsed.header.roundId).toBe("round-0003");
    expect(parsed.header.baseModelVersion).toBe(2);
    expect(parsed.header.numSamples).toBe(600);
    expect(parsed.header.timestampMs).toBe(1_750_000_000_000);
    expect(parsed.header.payloadLength).toBe(21 * 4);
    expect(parsed.header.manifest).toEqual([
      { name: "dense/kernel", shape: [4, 3] },
      { name: "dense/bias", shape: [3] },
      { name: "out/kernel", shape: [3, 2] },
    ]);
    expect(toHex(parsed.sessionId)).toBe(toHex(sessionId));
  });

  it("has the documented total length", () => {
    expect(bytes.length).toBe(parsed.headerBytes.length + 16 + 21 * 4 + 16 + 3309);
  });

  it("verifies and opens to the sealed weights", () => {
    expect(verifyUpdateSignature(parsed, client.publicKey)).toBe(true);
    const weights = check(bytes);
    const expected = model();
    expect(weights.map((t) => t.name)).toEqual(expected.map((t) => t.name));
    for (const [i, tensor] of weights.entries()) {
      expect(tensor.shape).toEqual(expected[i].shape);
      expect([...tensor.data]).toEqual([...expected[i].data]);
    }
  });

  it("stores the plaintext digest in the header", () => {
    expect(toHex(parsed.header.payloadDigest)).toBe(toHex(sha256(payloadOf(model()))));
  });

  it("uses a fresh nonce per seal", () => {
    expect(toHex(parse(seal()).header.nonce)).not.toBe(toHex(parsed.header.nonce));
  });
});

describe("update envelope tampering", () => {
  const bytes = seal();
  const headerLength = parse(bytes).headerBytes.length;

  it("rejects a flipped bit in the header", () => {
    const tampered = flip(bytes, BASE_VERSION_OFFSET);
    expect(errorCode(() => check(tampered))).toBe("bad_signature");
    expect(errorCode(() => openUpdatePayload(parse(tampered), sessionKey))).toBe(
      "decryption_failed",
    );
  });

  it("rejects a flipped bit in the session id", () => {
    const tampered = flip(bytes, headerLength + 3);
    expect(errorCode(() => check(tampered))).toBe("bad_signature");
    expect(errorCode(() => openUpdatePayload(parse(tampered), sessionKey))).toBe(
      "decryption_failed",
    );
  });

  it("rejects a flipped bit in the AEAD ciphertext", () => {
    const tampered = flip(bytes, headerLength + 16 + 10);
    expect(errorCode(() => check(tampered))).toBe("bad_signature");
    expect(errorCode(() => openUpdatePayload(parse(tampered), sessionKey))).toBe(
      "decryption_failed",
    );
  });

  it("rejects a flipped bit in the GCM tag", () => {
    const tampered = flip(bytes, headerLength + 16 + 21 * 4 + 5);
    expect(errorCode(() => openUpdatePayload(parse(tampered), sessionKey))).toBe(
      "decryption_failed",
    );
  });

  it("rejects a flipped bit in the signature", () => {
    const tampered = flip(bytes, bytes.length - 100);
    expect(errorCode(() => check(tampered))).toBe("bad_signature");
  });

  it("rejects a signature by another key", () => {
    const other = DilithiumSigner.generateKeypair();
    expect(errorCode(() => check(seal(model(), other.secretKey)))).toBe("bad_signature");
  });

  it("rejects a signature under another context", () => {
    const parsed = parse(bytes);
    const forged = forge(parsed, parsed.headerBytes.slice(), payloadOf(model()), MODEL_CONTEXT);
    expect(errorCode(() => check(forged))).toBe("bad_signature");
    const control = forge(parsed, parsed.headerBytes.slice(), payloadOf(model()));
    expect(errorCode(() => check(control))).toBeUndefined();
  });

  it("rejects another session key", () => {
    const parsed = parse(bytes);
    expect(errorCode(() => openUpdatePayload(parsed, randomBytes(32)))).toBe("decryption_failed");
  });

  it("rejects a payload that differs from the signed digest", () => {
    const parsed = parse(bytes);
    const header = parsed.headerBytes.slice();
    header[DIGEST_OFFSET] ^= 0x01;
    expect(errorCode(() => check(forge(parsed, header, payloadOf(model()))))).toBe(
      "digest_mismatch",
    );
  });
});

describe("update envelope structure", () => {
  const bytes = seal();

  it("rejects truncated input", () => {
    expect(errorCode(() => parse(bytes.subarray(0, bytes.length - 1)))).toBe("malformed");
    expect(errorCode(() => parse(bytes.subarray(0, 40)))).toBe("malformed");
    expect(errorCode(() => parse(new Uint8Array(0)))).toBe("malformed");
  });

  it("rejects trailing bytes", () => {
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    expect(errorCode(() => parse(padded))).toBe("malformed");
  });

  it("rejects a wrong magic or version", () => {
    expect(errorCode(() => parse(flip(bytes, 0)))).toBe("malformed");
    const version = bytes.slice();
    version[4] = 2;
    expect(errorCode(() => parse(version))).toBe("malformed");
  });

  it("rejects input over maxBytes", () => {
    expect(errorCode(() => parseUpdateEnvelope(bytes, { maxBytes: bytes.length - 1 }))).toBe(
      "malformed",
    );
    expect(parseUpdateEnvelope(bytes, { maxBytes: bytes.length }).header.clientId).toBe("client-7");
  });

  it("rejects non-canonical fields", () => {
    const invalidUtf8 = bytes.slice();
    invalidUtf8[7] = 0xff; // first byte of the client id
    const control = bytes.slice();
    control[7] = 0x0a;
    const noSamples = bytes.slice();
    noSamples.fill(0, NUM_SAMPLES_OFFSET, NUM_SAMPLES_OFFSET + 4);
    const dtype = bytes.slice();
    dtype[FIRST_DTYPE_OFFSET] = 2;
    for (const input of [invalidUtf8, control, noSamples, dtype]) {
      expect(errorCode(() => parse(input))).toBe("malformed");
    }
  });

  it("rejects a payload length that disagrees with the manifest", () => {
    const parsed = parse(bytes);
    const header = parsed.headerBytes.slice();
    new DataView(header.buffer).setUint32(DIGEST_OFFSET - 4, 22 * 4, true);
    const longer = new Uint8Array(22 * 4);
    longer.set(payloadOf(model()));
    expect(errorCode(() => parse(forge(parsed, header, longer)))).toBe("malformed");
  });

  it("requires maxBytes", () => {
    expect(() => parseUpdateEnvelope(bytes, {} as { maxBytes: number })).toThrow(
      "options.maxBytes: expected an integer in [1, 9007199254740991], got undefined",
    );
  });
});

describe("update envelope values", () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    it(`rejects ${bad} in the payload`, () => {
      const weights = model();
      weights[2].data[4] = bad;
      let message = "";
      try {
        check(seal(weights));
      } catch (error) {
        expect((error as { code?: string }).code).toBe("non_finite");
        message = (error as Error).message;
      }
      expect(message).toContain(`value ${bad} at flat index 19 (tensor "out/kernel")`);
    });
  }
});

describe("update envelope manifest", () => {
  const parsed = parse(seal());
  const expected = model().map((t) => ({ name: t.name, shape: t.shape }));

  it("accepts the federation's layout", () => {
    expect(() => assertManifest(parsed.header.manifest, expected)).not.toThrow();
    const weights = verifyAndOpenUpdate(parsed, {
      clientPublicKey: client.publicKey,
      sessionKey,
      expectedManifest: expected,
    });
    expect(weights.length).toBe(3);
  });

  it("rejects another layout", () => {
    const renamed = expected.map((s, i) => (i === 1 ? { ...s, name: "dense/b" } : s));
    const reshaped = expected.map((s, i) => (i === 0 ? { ...s, shape: [3, 4] } : s));
    const shorter = expected.slice(0, 2);
    for (const layout of [renamed, reshaped, shorter]) {
      expect(errorCode(() => assertManifest(parsed.header.manifest, layout))).toBe(
        "manifest_mismatch",
      );
      expect(
        errorCode(() =>
          verifyAndOpenUpdate(parsed, {
            clientPublicKey: client.publicKey,
            sessionKey,
            expectedManifest: layout,
          }),
        ),
      ).toBe("manifest_mismatch");
    }
  });

  it("names the first difference", () => {
    const reshaped = expected.map((s, i) => (i === 0 ? { ...s, shape: [3, 4] } : s));
    expect(() => assertManifest(parsed.header.manifest, reshaped)).toThrow(
      'update manifest: tensor "dense/kernel" has shape [4, 3], expected [3, 4]',
    );
  });
});

describe("sealUpdate input checks", () => {
  const base = {
    ...ids,
    baseModelVersion: 2,
    numSamples: 600,
    weights: model(),
    sessionId,
    sessionKey,
    signingSecretKey: client.secretKey,
  };

  it("names the invalid argument", () => {
    expect(() => sealUpdate({ ...base, numSamples: 0 })).toThrow(
      "numSamples: expected an integer in [1, 4294967295], got 0",
    );
    expect(() => sealUpdate({ ...base, clientId: "" })).toThrow(
      "clientId: expected 1 to 128 UTF-8 bytes, got 0",
    );
    expect(() => sealUpdate({ ...base, roundId: "round\n3" })).toThrow(
      'roundId: must not contain control characters, got "round\\n3"',
    );
    expect(() => sealUpdate({ ...base, sessionKey: new Uint8Array(16) })).toThrow(
      "sessionKey: expected 32 bytes, got 16",
    );
    expect(() => sealUpdate({ ...base, weights: [] })).toThrow(
      "weights: expected 1 to 4096 tensors, got 0 tensors",
    );
  });
});
