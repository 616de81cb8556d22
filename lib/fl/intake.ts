/**
 * The server side of the client protocol: opening a post-quantum session from a signed X-Wing
 * handshake, and receiving an encrypted, signed update envelope.
 *
 * Checks run cheapest first, so that garbage costs little: size (enforced while the body is
 * read, in the route), parse, client known and not revoked, credential valid, round open and
 * matching, timestamp within the skew, nonce never seen, session usable, signature, manifest,
 * decryption, digest, finite values. Every failure is a ClientRejection that names the reason;
 * nothing is written for a rejected update. An accepted update is stored with its metadata in one
 * transaction and acknowledged with a receipt signed by the server.
 */
import { randomUUID } from "node:crypto";
import { CredentialManager } from "../auth/credentials";
import { ClientRejection, reject } from "../auth/rejection";
import type { ServerKeys } from "../auth/server-keys";
import type { PrismaClient } from "../generated/prisma/client";
import { Prisma } from "../generated/prisma/client";
import {
  acceptHandshake,
  assertManifest,
  checkSessionUsable,
  EnvelopeError,
  openSecret,
  openUpdatePayload,
  type ParsedUpdateEnvelope,
  ProtocolError,
  parseHandshake,
  parseUpdateEnvelope,
  sealSecret,
  signReceipt,
  toHex,
  type UpdateReceipt,
  verifyUpdateSignature,
} from "../pq";
import type { TensorSpec, Weights } from "../tensors";

export interface IntakeContext {
  prisma: PrismaClient;
  serverKeys: ServerKeys;
  masterKey: Uint8Array;
  limits: {
    maxUpdateBytes: number;
    timestampSkewMs: number;
    sessionLifetimeMs: number;
    sessionMaxUpdates: number;
  };
}

export interface OpenedSession {
  sessionId: string;
  expiresAt: Date;
  maxUpdates: number;
}

const SESSION_KEY_LABEL = "session-key";

/** Largest sample count an update may claim: the database column is a 32-bit integer. */
export const MAX_NUM_SAMPLES = 2_147_483_647;

/** Verifies a client's handshake and stores the session key, sealed under the master key. */
export async function openSession(
  ctx: IntakeContext,
  message: Uint8Array,
  now = new Date(),
): Promise<OpenedSession> {
  let parsed: ReturnType<typeof parseHandshake>;
  try {
    parsed = parseHandshake(message);
  } catch (error) {
    throw reject(400, "malformed", `malformed handshake: ${(error as Error).message}`, {
      type: "cryptographic",
    });
  }
  const clientId = parsed.clientId;
  const { credential } = await requireUsableCredential(ctx.prisma, clientId, now);

  let session: ReturnType<typeof acceptHandshake>;
  try {
    session = acceptHandshake(parsed, {
      serverSecretKey: ctx.serverKeys.kem.secretKey,
      serverPublicKey: ctx.serverKeys.kem.publicKey,
      clientPublicKey: new Uint8Array(credential.signingPublicKey),
      nowMs: now.getTime(),
      maxClockSkewMs: ctx.limits.timestampSkewMs,
    });
  } catch (error) {
    throw handshakeRejection(error, clientId);
  }

  const sessionId = toHex(session.sessionId);
  const expiresAt = new Date(now.getTime() + ctx.limits.sessionLifetimeMs);
  try {
    await ctx.prisma.keySession.create({
      data: {
        id: sessionId,
        clientId,
        credentialId: credential.id,
        encryptedSessionKey: Buffer.from(
          sealSecret(ctx.masterKey, session.sessionKey, SESSION_KEY_LABEL),
        ),
        createdAt: now,
        expiresAt,
        maxUpdates: ctx.limits.sessionMaxUpdates,
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw reject(409, "replayed_handshake", "this handshake was already used; start a new one", {
        clientId,
        severity: "high",
        type: "cryptographic",
      });
    }
    throw error;
  }
  session.sessionKey.fill(0);
  await ctx.prisma.client.update({ where: { id: clientId }, data: { lastSeenAt: now } });
  return { sessionId, expiresAt, maxUpdates: ctx.limits.sessionMaxUpdates };
}

export interface AcceptedUpdate {
  updateId: string;
  clientId: string;
  roundId: string;
  receipt: UpdateReceipt;
  receiptSignature: Uint8Array;
  weights: Weights;
}

/** Checks and stores one update envelope; throws ClientRejection for any failure. */
export async function receiveUpdateEnvelope(
  ctx: IntakeContext,
  body: Uint8Array,
  now = new Date(),
): Promise<AcceptedUpdate> {
  let parsed: ParsedUpdateEnvelope;
  try {
    parsed = parseUpdateEnvelope(body, { maxBytes: ctx.limits.maxUpdateBytes });
  } catch (error) {
    throw reject(400, "malformed", `malformed update envelope: ${(error as Error).message}`, {
      type: "cryptographic",
    });
  }
  const { header } = parsed;
  const clientId = header.clientId;

  const { credential, federationId } = await requireUsableCredential(ctx.prisma, clientId, now);
  // NOTE: a client enrolled with a token that names no federation may submit to any federation.
  if (federationId && federationId !== header.federationId) {
    throw reject(
      403,
      "wrong_federation",
      `client "${clientId}" is enrolled in another federation than ${header.federationId}`,
      {
        clientId,
        severity: "high",
      },
    );
  }
  if (header.numSamples > MAX_NUM_SAMPLES) {
    throw reject(
      422,
      "invalid_num_samples",
      `numSamples ${header.numSamples} is above the limit of ${MAX_NUM_SAMPLES}`,
      {
        clientId,
      },
    );
  }

  const round = await ctx.prisma.round.findUnique({
    where: { id: header.roundId },
    include: { baseModelVersion: true },
  });
  if (!round || round.federationId !== header.federationId) {
    throw reject(
      409,
      "round_mismatch",
      `round ${header.roundId} does not exist in federation ${header.federationId}`,
      {
        clientId,
      },
    );
  }
  if (round.status !== "open" && round.status !== "collecting") {
    throw reject(
      409,
      "round_closed",
      `round ${round.number} is ${round.status} and takes no more updates`,
      { clientId, severity: "low" },
    );
  }
  if (round.deadline.getTime() <= now.getTime()) {
    throw reject(
      409,
      "round_closed",
      `round ${round.number} passed its deadline at ${round.deadline.toISOString()}`,
      {
        clientId,
        severity: "low",
      },
    );
  }
  const baseVersion = round.baseModelVersion?.version ?? 0;
  if (header.baseModelVersion !== baseVersion) {
    throw reject(
      409,
      "stale_model",
      `the update was trained from model version ${header.baseModelVersion}, round ${round.number} uses version ${baseVersion}`,
      {
        clientId,
        severity: "low",
      },
    );
  }
  const skew = Math.abs(now.getTime() - header.timestampMs);
  if (skew > ctx.limits.timestampSkewMs) {
    throw reject(
      409,
      "stale_timestamp",
      `the update's timestamp is ${Math.round(skew / 1000)} s off the server clock, limit ${Math.round(ctx.limits.timestampSkewMs / 1000)} s`,
      {
        clientId,
        severity: "high",
        type: "cryptographic",
      },
    );
  }
  const nonce = Buffer.from(header.nonce);
  const seen = await ctx.prisma.modelUpdate.findUnique({
    where: { clientId_nonce: { clientId, nonce } },
    select: { id: true },
  });
  if (seen) {
    throw replayedNonce(header.nonce, clientId);
  }

  const sessionId = toHex(parsed.sessionId);
  const session = await ctx.prisma.keySession.findUnique({ where: { id: sessionId } });
  if (!session || session.clientId !== clientId || session.closedAt) {
    throw reject(
      401,
      "unknown_session",
      `session ${sessionId} is unknown for ${clientId}; open a new session`,
      {
        clientId,
        type: "cryptographic",
      },
    );
  }
  const usable = checkSessionUsable(
    { establishedAtMs: session.createdAt.getTime(), updatesUsed: session.updatesUsed },
    {
      maxAgeMs: session.expiresAt.getTime() - session.createdAt.getTime(),
      maxUpdates: session.maxUpdates,
    },
    now.getTime(),
  );
  if (!usable.usable) {
    throw reject(
      401,
      "session_expired",
      `session ${sessionId} can protect no more updates (${usable.reason}); open a new session`,
      {
        clientId,
        severity: "low",
        type: "cryptographic",
      },
    );
  }

  if (!verifyUpdateSignature(parsed, new Uint8Array(credential.signingPublicKey))) {
    throw reject(
      401,
      "bad_signature",
      `the update's ML-DSA-65 signature does not verify under ${clientId}'s key`,
      {
        clientId,
        severity: "high",
        type: "cryptographic",
      },
    );
  }

  const expected = round.baseModelVersion?.manifest as unknown as TensorSpec[] | undefined;
  if (expected) {
    try {
      assertManifest(header.manifest, expected);
    } catch (error) {
      throw reject(422, "manifest_mismatch", (error as Error).message, { clientId });
    }
  }

  const sessionKey = openSecret(
    ctx.masterKey,
    new Uint8Array(session.encryptedSessionKey),
    SESSION_KEY_LABEL,
  );
  let weights: Weights;
  try {
    weights = openUpdatePayload(parsed, sessionKey);
  } catch (error) {
    throw envelopeRejection(error, clientId);
  } finally {
    sessionKey.fill(0);
  }

  const updateId = randomUUID();
  const receipt: UpdateReceipt = {
    updateId,
    clientId,
    roundId: round.id,
    payloadDigest: header.payloadDigest,
    receivedAtMs: now.getTime(),
  };
  const receiptSignature = signReceipt(receipt, ctx.serverKeys.signing.secretKey);
  const payload = body.subarray(
    body.length - parsed.signature.length - parsed.ciphertext.length,
    body.length,
  );
  void payload;
  try {
    await ctx.prisma.$transaction(async (tx) => {
      const claimed = await tx.keySession.updateMany({
        where: { id: sessionId, updatesUsed: { lt: session.maxUpdates } },
        data: { updatesUsed: { increment: 1 } },
      });
      if (claimed.count === 0) {
        throw reject(
          401,
          "session_expired",
          `session ${sessionId} reached its update limit; open a new session`,
          {
            clientId,
            severity: "low",
            type: "cryptographic",
          },
        );
      }
      await tx.modelUpdate.create({
        data: {
          id: updateId,
          roundId: round.id,
          clientId,
          nonce,
          digest: toHex(header.payloadDigest),
          sizeBytes: body.length,
          baseModelVersion: header.baseModelVersion,
          payload: Buffer.from(plaintextPayload(weights)),
          numSamples: header.numSamples,
          metadata: { timestampMs: header.timestampMs, sessionId },
          receivedAt: now,
        },
      });
      if (round.status === "open") {
        await tx.round.updateMany({
          where: { id: round.id, status: "open" },
          data: { status: "collecting" },
        });
      }
      await tx.client.update({ where: { id: clientId }, data: { lastSeenAt: now } });
    });
  } catch (error) {
    if (error instanceof ClientRejection) throw error;
    if (isUniqueViolation(error)) {
      const target = String((error as { meta?: { target?: unknown } }).meta?.target ?? "");
      if (target.includes("nonce")) {
        throw replayedNonce(header.nonce, clientId);
      }
      throw reject(
        409,
        "duplicate_update",
        `${clientId} already submitted an update for round ${round.number}`,
        { clientId, severity: "low" },
      );
    }
    throw error;
  }
  return { updateId, clientId, roundId: round.id, receipt, receiptSignature, weights };
}

/** Little-endian float32 values in manifest order, as stored for aggregation. */
export function plaintextPayload(weights: Weights): Uint8Array {
  let total = 0;
  for (const t of weights) total += t.data.length;
  const out = new Float32Array(total);
  let offset = 0;
  for (const t of weights) {
    out.set(t.data, offset);
    offset += t.data.length;
  }
  return new Uint8Array(out.buffer);
}

/** Returns the client's usable credential and federation, or throws the rejection that applies. */
async function requireUsableCredential(prisma: PrismaClient, clientId: string, now: Date) {
  const client = await prisma.client.findUnique({
    where: { id: clientId },
    select: { status: true, federationId: true },
  });
  if (!client) {
    throw reject(401, "unknown_client", `client "${clientId}" is not enrolled`, {
      clientId,
      severity: "high",
    });
  }
  if (client.status === "revoked") {
    throw reject(403, "client_revoked", `client "${clientId}" is revoked`, {
      clientId,
      severity: "high",
    });
  }
  const current = await new CredentialManager(prisma).getCurrent(clientId, now);
  if (current.state === "missing" || !current.credential) {
    throw reject(401, "unknown_client", `client "${clientId}" has no credential`, {
      clientId,
      severity: "high",
    });
  }
  if (current.state === "revoked") {
    throw reject(403, "credential_revoked", `the credential of "${clientId}" is revoked`, {
      clientId,
      severity: "high",
    });
  }
  if (current.state === "expired") {
    throw reject(
      403,
      "credential_expired",
      `the credential of "${clientId}" expired at ${current.credential.expiresAt.toISOString()}; enroll again`,
      {
        clientId,
      },
    );
  }
  return { credential: current.credential, federationId: client.federationId };
}

function replayedNonce(nonce: Uint8Array, clientId: string): ClientRejection {
  return reject(409, "replayed_nonce", `nonce ${toHex(nonce)} was already used by ${clientId}`, {
    clientId,
    severity: "high",
    type: "cryptographic",
  });
}

function handshakeRejection(error: unknown, clientId: string): ClientRejection {
  if (!(error instanceof ProtocolError)) throw error;
  const event = { clientId, type: "cryptographic" as const, severity: "high" as const };
  switch (error.code) {
    case "bad_signature":
      return reject(401, "bad_signature", error.message, event);
    case "stale_timestamp":
      return reject(409, "stale_timestamp", error.message, event);
    case "wrong_server_key":
      return reject(409, "wrong_server_key", `${error.message}; fetch /api/v1/server-keys again`, {
        ...event,
        severity: "medium",
      });
    default:
      return reject(400, error.code, error.message, event);
  }
}

function envelopeRejection(error: unknown, clientId: string): ClientRejection {
  if (!(error instanceof EnvelopeError)) throw error;
  const event = { clientId, type: "cryptographic" as const, severity: "high" as const };
  switch (error.code) {
    case "decryption_failed":
      return reject(400, "decryption_failed", error.message, event);
    case "digest_mismatch":
      return reject(422, "digest_mismatch", error.message, event);
    case "non_finite":
      return reject(422, "non_finite", error.message, { ...event, type: "anomaly_detection" });
    case "manifest_mismatch":
      return reject(422, "manifest_mismatch", error.message, { ...event, severity: "medium" });
    default:
      return reject(400, error.code, error.message, event);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}
