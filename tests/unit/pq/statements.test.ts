import { describe, expect, it } from "vitest";
import {
  type ClientCredential,
  DilithiumSigner,
  decodeCredential,
  decodeEnrollmentProof,
  decodeKeyRotation,
  decodeModelStatement,
  decodeReceipt,
  decodeSignedModel,
  type EnrollmentProof,
  encodeCredential,
  encodeEnrollmentProof,
  encodeKeyRotation,
  encodeModelStatement,
  encodeReceipt,
  encodeSignedModel,
  type KeyRotation,
  type ProtocolErrorCode,
  sha256,
  signCredential,
  signEnrollmentProof,
  signKeyRotation,
  signModel,
  signReceipt,
  toHex,
  type UpdateReceipt,
  verifyCredential,
  verifyEnrollmentProof,
  verifyKeyRotation,
  verifyReceipt,
  verifySignedModel,
  XWingKem,
} from "@/lib/pq";
import type { Weights } from "@/lib/tensors";
import { hex } from "./fixtures";

const server = DilithiumSigner.generateKeypair(hex("22".repeat(32)));
const client = DilithiumSigner.generateKeypair(hex("33".repeat(32)));
const clientKem = XWingKem.generateKeypair(hex("44".repeat(32)));

function errorCode(run: () => unknown): ProtocolErrorCode | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: ProtocolErrorCode }).code;
  }
  return undefined;
}

function globalModel(): Weights {
  return [
    { name: "dense/kernel", shape: [2, 2], data: Float32Array.of(0.5, -1, 2, 0.25) },
    { name: "dense/bias", shape: [2], data: Float32Array.of(0, 1) },
  ];
}

describe("signed global model", () => {
  const signed = signModel(
    { federationId: "fed-mnist", version: 4, weights: globalModel() },
    server.secretKey,
  );

  it("verifies and returns the weights", () => {
    const weights = verifySignedModel(signed, server.publicKey);
    expect(weights.map((t) => [...t.data])).toEqual(globalModel().map((t) => [...t.data]));
    expect(toHex(signed.statement.weightsDigest)).toBe(toHex(sha256(signed.payload)));
  });

  it("round-trips the download encoding", () => {
    const decoded = decodeSignedModel(encodeSignedModel(signed));
    expect(decoded.statement.federationId).toBe("fed-mnist");
    expect(decoded.statement.version).toBe(4);
    expect(decoded.statement.manifest).toEqual(signed.statement.manifest);
    expect(verifySignedModel(decoded, server.publicKey).length).toBe(2);
  });

  it("rejects modified weights", () => {
    const payload = signed.payload.slice();
    payload[3] ^= 0x40;
    expect(errorCode(() => verifySignedModel({ ...signed, payload }, server.publicKey))).toBe(
      "digest_mismatch",
    );
  });

  it("rejects a modified statement", () => {
    const statement = { ...signed.statement, version: 5 };
    expect(errorCode(() => verifySignedModel({ ...signed, statement }, server.publicKey))).toBe(
      "bad_signature",
    );
  });

  it("rejects another server key", () => {
    expect(errorCode(() => verifySignedModel(signed, client.publicKey))).toBe("bad_signature");
  });

  it("rejects an unexpected manifest", () => {
    const expected = [
      { name: "dense/kernel", shape: [4] },
      { name: "dense/bias", shape: [2] },
    ];
    expect(errorCode(() => verifySignedModel(signed, server.publicKey, expected))).toBe(
      "manifest_mismatch",
    );
  });

  it("rejects non-finite weights", () => {
    const weights = globalModel();
    weights[1].data[1] = Number.NaN;
    const poisoned = signModel(
      { federationId: "fed-mnist", version: 4, weights },
      server.secretKey,
    );
    expect(errorCode(() => verifySignedModel(poisoned, server.publicKey))).toBe("non_finite");
  });

  it("rejects trailing bytes in the download", () => {
    const bytes = encodeSignedModel(signed);
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    expect(errorCode(() => decodeSignedModel(padded))).toBe("malformed");
    expect(errorCode(() => decodeSignedModel(bytes.subarray(0, bytes.length - 1)))).toBe(
      "malformed",
    );
  });

  it("round-trips the statement encoding", () => {
    const decoded = decodeModelStatement(encodeModelStatement(signed.statement));
    expect(decoded.federationId).toBe("fed-mnist");
    expect(toHex(decoded.weightsDigest)).toBe(toHex(signed.statement.weightsDigest));
  });
});

describe("enrollment proof of possession", () => {
  const proof: EnrollmentProof = {
    tokenId: "token-1",
    clientId: "client-7",
    signingPublicKey: client.publicKey,
    kemPublicKey: clientKem.publicKey,
  };

  it("verifies under the enclosed key", () => {
    const signature = signEnrollmentProof(proof, client.secretKey);
    expect(verifyEnrollmentProof(proof, signature)).toBe(true);
  });

  it("rejects a proof signed by another key", () => {
    const other = DilithiumSigner.generateKeypair();
    expect(verifyEnrollmentProof(proof, signEnrollmentProof(proof, other.secretKey))).toBe(false);
  });

  it("rejects a changed client id", () => {
    const signature = signEnrollmentProof(proof, client.secretKey);
    expect(verifyEnrollmentProof({ ...proof, clientId: "client-8" }, signature)).toBe(false);
  });

  it("round-trips with and without a KEM key", () => {
    const decoded = decodeEnrollmentProof(encodeEnrollmentProof(proof));
    expect(decoded.tokenId).toBe("token-1");
    expect(toHex(decoded.kemPublicKey ?? new Uint8Array(0))).toBe(toHex(clientKem.publicKey));
    const withoutKem = decodeEnrollmentProof(
      encodeEnrollmentProof({ ...proof, kemPublicKey: null }),
    );
    expect(withoutKem.kemPublicKey).toBeNull();
  });

  it("rejects an invalid presence byte", () => {
    const bytes = encodeEnrollmentProof({ ...proof, kemPublicKey: null });
    bytes[bytes.length - 1] = 2;
    expect(errorCode(() => decodeEnrollmentProof(bytes))).toBe("malformed");
  });
});

describe("client credential", () => {
  const credential: ClientCredential = {
    serial: 42n,
    clientId: "client-7",
    signingPublicKey: client.publicKey,
    kemPublicKey: null,
    issuedAtMs: 1_750_000_000_000,
    expiresAtMs: 1_781_536_000_000,
  };
  const signature = signCredential(credential, server.secretKey);

  it("verifies under the server key", () => {
    expect(verifyCredential(credential, signature, server.publicKey)).toBe(true);
    expect(verifyCredential(credential, signature, client.publicKey)).toBe(false);
  });

  it("rejects a changed expiry or serial", () => {
    expect(
      verifyCredential(
        { ...credential, expiresAtMs: 1_900_000_000_000 },
        signature,
        server.publicKey,
      ),
    ).toBe(false);
    expect(verifyCredential({ ...credential, serial: 43n }, signature, server.publicKey)).toBe(
      false,
    );
  });

  it("round-trips the encoding", () => {
    const decoded = decodeCredential(encodeCredential(credential));
    expect(decoded.serial).toBe(42n);
    expect(decoded.issuedAtMs).toBe(credential.issuedAtMs);
    expect(decoded.expiresAtMs).toBe(credential.expiresAtMs);
  });

  it("requires expiry after issue", () => {
    expect(() => encodeCredential({ ...credential, expiresAtMs: credential.issuedAtMs })).toThrow(
      "expiresAtMs: 1750000000000 must be after issuedAtMs 1750000000000",
    );
  });

  it("signs under the credential context only", () => {
    const body = encodeCredential(credential);
    expect(DilithiumSigner.verify(body, signature, server.publicKey, "qsfl-caad/receipt/v1")).toBe(
      false,
    );
  });
});

describe("key rotation", () => {
  const next = DilithiumSigner.generateKeypair();
  const rotation: KeyRotation = {
    clientId: "client-7",
    oldKeyFingerprint: sha256(client.publicKey),
    newSigningPublicKey: next.publicKey,
    newKemPublicKey: null,
    timestampMs: 1_750_000_000_000,
  };

  it("verifies under the old key", () => {
    const signature = signKeyRotation(rotation, client.secretKey);
    expect(verifyKeyRotation(rotation, signature, client.publicKey)).toBe(true);
  });

  it("rejects a rotation signed with the new key", () => {
    const signature = signKeyRotation(rotation, next.secretKey);
    expect(verifyKeyRotation(rotation, signature, next.publicKey)).toBe(false);
    expect(verifyKeyRotation(rotation, signature, client.publicKey)).toBe(false);
  });

  it("round-trips the encoding", () => {
    const decoded = decodeKeyRotation(encodeKeyRotation(rotation));
    expect(toHex(decoded.newSigningPublicKey)).toBe(toHex(next.publicKey));
    expect(decoded.timestampMs).toBe(rotation.timestampMs);
  });
});

describe("update receipt", () => {
  const receipt: UpdateReceipt = {
    updateId: "3f8e2a4c-0b7d-4c1e-9a52-6d1f0e7b9c21",
    clientId: "client-7",
    roundId: "round-0003",
    payloadDigest: sha256(new Uint8Array(84)),
    receivedAtMs: 1_750_000_000_500,
  };

  it("verifies under the server key", () => {
    const signature = signReceipt(receipt, server.secretKey);
    expect(verifyReceipt(receipt, signature, server.publicKey)).toBe(true);
    expect(verifyReceipt({ ...receipt, roundId: "round-0004" }, signature, server.publicKey)).toBe(
      false,
    );
  });

  it("round-trips the encoding", () => {
    const decoded = decodeReceipt(encodeReceipt(receipt));
    expect(decoded.updateId).toBe(receipt.updateId);
    expect(toHex(decoded.payloadDigest)).toBe(toHex(receipt.payloadDigest));
  });

  it("rejects another statement type", () => {
    expect(
      errorCode(() =>
        decodeReceipt(
          encodeKeyRotation({
            clientId: "client-7",
            oldKeyFingerprint: new Uint8Array(32),
            newSigningPublicKey: client.publicKey,
            newKemPublicKey: null,
            timestampMs: 0,
          }),
        ),
      ),
    ).toBe("malformed");
  });
});
