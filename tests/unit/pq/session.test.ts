import { describe, expect, it } from "vitest";
import {
  acceptHandshake,
  checkSessionUsable,
  createHandshake,
  DEFAULT_SESSION_LIMITS,
  DilithiumSigner,
  deriveUpdateKey,
  equalBytes,
  HANDSHAKE_CONTEXT,
  type ProtocolErrorCode,
  parseHandshake,
  toHex,
  XWingKem,
} from "@/lib/pq";

const server = XWingKem.generateKeypair();
const client = DilithiumSigner.generateKeypair();
const now = 1_750_000_000_000;

function handshake(overrides: { timestampMs?: number; serverPublicKey?: Uint8Array } = {}) {
  return createHandshake({
    clientId: "client-7",
    serverPublicKey: overrides.serverPublicKey ?? server.publicKey,
    signingSecretKey: client.secretKey,
    timestampMs: overrides.timestampMs ?? now,
  });
}

function accept(message: Uint8Array, clientPublicKey = client.publicKey) {
  return acceptHandshake(parseHandshake(message), {
    serverSecretKey: server.secretKey,
    serverPublicKey: server.publicKey,
    clientPublicKey,
    nowMs: now + 1000,
  });
}

function protocolCode(run: () => unknown): ProtocolErrorCode | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: ProtocolErrorCode }).code;
  }
  return undefined;
}

describe("session handshake", () => {
  it("gives both sides the same session", () => {
    const { message, session } = handshake();
    const accepted = accept(message);
    expect(session.sessionKey.length).toBe(32);
    expect(session.sessionId.length).toBe(16);
    expect(toHex(accepted.sessionKey)).toBe(toHex(session.sessionKey));
    expect(toHex(accepted.sessionId)).toBe(toHex(session.sessionId));
  });

  it("opens a different session each time", () => {
    const a = handshake().session;
    const b = handshake().session;
    expect(equalBytes(a.sessionKey, b.sessionKey)).toBe(false);
    expect(equalBytes(a.sessionId, b.sessionId)).toBe(false);
  });

  it("parses the signed fields", () => {
    const { message } = handshake();
    const parsed = parseHandshake(message);
    expect(parsed.clientId).toBe("client-7");
    expect(parsed.timestampMs).toBe(now);
    expect(parsed.nonce.length).toBe(16);
    expect(parsed.ciphertext.length).toBe(1120);
    expect(parsed.body.length + parsed.signature.length).toBe(message.length);
  });

  it("rejects a flipped bit in the body", () => {
    const { message } = handshake();
    const tampered = message.slice();
    const ciphertextStart = 4 + 1 + 2 + "client-7".length + 32;
    tampered[ciphertextStart + 100] ^= 1;
    expect(protocolCode(() => accept(tampered))).toBe("bad_signature");
  });

  it("rejects a signature by another client", () => {
    const { message } = handshake();
    const other = DilithiumSigner.generateKeypair();
    expect(protocolCode(() => accept(message, other.publicKey))).toBe("bad_signature");
  });

  it("rejects a handshake to another server key", () => {
    const { message } = handshake({ serverPublicKey: XWingKem.generateKeypair().publicKey });
    expect(protocolCode(() => accept(message))).toBe("wrong_server_key");
  });

  it("rejects a stale timestamp", () => {
    const { message } = handshake({ timestampMs: now - 10 * 60 * 1000 });
    expect(protocolCode(() => accept(message))).toBe("stale_timestamp");
  });

  it("reports a failed decapsulation", () => {
    // A client that signs a ciphertext whose X25519 share is a low-order point.
    const { message } = handshake();
    const parsed = parseHandshake(message);
    const body = parsed.body.slice();
    const x25519Start = body.length - 8 - 16 - 32;
    body.fill(0, x25519Start, x25519Start + 32);
    const signature = DilithiumSigner.sign(body, client.secretKey, HANDSHAKE_CONTEXT);
    const forged = new Uint8Array(body.length + signature.length);
    forged.set(body, 0);
    forged.set(signature, body.length);
    expect(protocolCode(() => accept(forged))).toBe("decapsulation_failed");
  });

  it("rejects truncated, padded or foreign input as malformed", () => {
    const { message } = handshake();
    const padded = new Uint8Array(message.length + 1);
    padded.set(message);
    const wrongMagic = message.slice();
    wrongMagic[0] = 0x00;
    const wrongVersion = message.slice();
    wrongVersion[4] = 2;
    expect(protocolCode(() => parseHandshake(message.subarray(0, message.length - 1)))).toBe(
      "malformed",
    );
    expect(protocolCode(() => parseHandshake(padded))).toBe("malformed");
    expect(protocolCode(() => parseHandshake(wrongMagic))).toBe("malformed");
    expect(protocolCode(() => parseHandshake(wrongVersion))).toBe("malformed");
  });
});

describe("deriveUpdateKey", () => {
  const session = handshake().session;

  it("gives each nonce its own key", () => {
    const a = deriveUpdateKey(session.sessionKey, session.sessionId, new Uint8Array(16));
    const b = deriveUpdateKey(session.sessionKey, session.sessionId, new Uint8Array(16).fill(1));
    const again = deriveUpdateKey(session.sessionKey, session.sessionId, new Uint8Array(16));
    expect(a.length).toBe(32);
    expect(equalBytes(a, b)).toBe(false);
    expect(equalBytes(a, again)).toBe(true);
  });

  it("names the argument on a short nonce", () => {
    expect(() =>
      deriveUpdateKey(session.sessionKey, session.sessionId, new Uint8Array(12)),
    ).toThrow("nonce: expected 16 bytes, got 12");
  });
});

describe("checkSessionUsable", () => {
  const limits = { maxAgeMs: 60_000, maxUpdates: 3 };

  it("allows a fresh session", () => {
    expect(checkSessionUsable({ establishedAtMs: now, updatesUsed: 0 }, limits, now + 1)).toEqual({
      usable: true,
    });
  });

  it("expires at the age limit", () => {
    const usage = { establishedAtMs: now, updatesUsed: 0 };
    expect(checkSessionUsable(usage, limits, now + 59_999).usable).toBe(true);
    expect(checkSessionUsable(usage, limits, now + 60_000)).toEqual({
      usable: false,
      reason: "expired",
    });
  });

  it("stops at the update limit", () => {
    expect(checkSessionUsable({ establishedAtMs: now, updatesUsed: 2 }, limits, now).usable).toBe(
      true,
    );
    expect(checkSessionUsable({ establishedAtMs: now, updatesUsed: 3 }, limits, now)).toEqual({
      usable: false,
      reason: "update_limit",
    });
  });

  it("rejects a session from the future", () => {
    expect(checkSessionUsable({ establishedAtMs: now, updatesUsed: 0 }, limits, now - 1)).toEqual({
      usable: false,
      reason: "not_yet_valid",
    });
  });

  it("validates the limits", () => {
    expect(DEFAULT_SESSION_LIMITS).toEqual({ maxAgeMs: 3_600_000, maxUpdates: 100 });
    expect(() =>
      checkSessionUsable(
        { establishedAtMs: now, updatesUsed: 0 },
        { maxAgeMs: 0, maxUpdates: 1 },
        now,
      ),
    ).toThrow("limits.maxAgeMs: expected an integer in [1, 9007199254740991], got 0");
  });
});
