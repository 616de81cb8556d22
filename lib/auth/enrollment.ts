/**
 * Enrollment: an operator issues a one-time token; a client that holds it sends its own public
 * keys with a proof-of-possession signature and receives a credential signed by the server.
 *
 * A token is `<tokenId>.<secret>`. Only SHA-256(secret) is stored, so a database leak does not
 * reveal usable tokens. A token is single use and expires after security.enrollmentTokenTtlMinutes.
 * The client's private keys never reach the server.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client";
import {
  type ClientCredential,
  ML_DSA_65,
  publicKeyFingerprint,
  signCredential,
  verifyEnrollmentProof,
  X_WING,
} from "../pq";
import { reject } from "./rejection";
import type { ServerKeys } from "./server-keys";

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface IssuedToken {
  tokenId: string;
  /** The whole token to hand to the client; shown once. */
  token: string;
  expiresAt: Date;
  clientId: string | null;
}

export async function issueEnrollmentToken(
  prisma: PrismaClient,
  options: {
    ttlMinutes: number;
    clientId?: string | null;
    federationId?: string | null;
    createdById?: string | null;
    now?: Date;
  },
): Promise<IssuedToken> {
  if (!Number.isFinite(options.ttlMinutes) || options.ttlMinutes <= 0) {
    throw new RangeError(`ttlMinutes must be a positive number, got ${options.ttlMinutes}`);
  }
  if (options.clientId != null && !CLIENT_ID_PATTERN.test(options.clientId)) {
    throw new RangeError(
      `invalid client id "${options.clientId}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  const tokenId = randomUUID();
  const secret = randomBytes(32).toString("base64url");
  const now = options.now ?? new Date();
  const expiresAt = new Date(now.getTime() + options.ttlMinutes * 60_000);
  await prisma.enrollmentToken.create({
    data: {
      id: tokenId,
      tokenHash: hashSecret(secret),
      clientId: options.clientId ?? null,
      federationId: options.federationId ?? null,
      expiresAt,
      createdById: options.createdById ?? null,
    },
  });
  return { tokenId, token: `${tokenId}.${secret}`, expiresAt, clientId: options.clientId ?? null };
}

export interface EnrollmentRequest {
  token: string;
  clientId: string;
  signingPublicKey: Uint8Array;
  kemPublicKey: Uint8Array | null;
  /** ML-DSA-65 signature (enroll context) over the enrollment proof. */
  proofSignature: Uint8Array;
}

export interface IssuedCredential {
  credential: ClientCredential;
  serverSignature: Uint8Array;
  credentialId: string;
}

/** Checks the token and the proof, then creates the client (if new) and its credential. */
export async function enrollClient(
  prisma: PrismaClient,
  serverKeys: ServerKeys,
  request: EnrollmentRequest,
  options: { credentialLifetimeDays: number; now?: Date },
): Promise<IssuedCredential> {
  const now = options.now ?? new Date();
  const { tokenId, secret } = splitToken(request.token);
  const clientId = request.clientId;
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw reject(
      400,
      "invalid_client_id",
      `invalid client id "${clientId.slice(0, 80)}": use 1-64 letters, digits, '.', '_' or '-'`,
    );
  }
  assertKeyLength(request.signingPublicKey, ML_DSA_65.publicKeyBytes, "signingPublicKey", clientId);
  if (request.kemPublicKey)
    assertKeyLength(request.kemPublicKey, X_WING.publicKeyBytes, "kemPublicKey", clientId);

  const proof = {
    tokenId,
    clientId,
    signingPublicKey: request.signingPublicKey,
    kemPublicKey: request.kemPublicKey,
  };
  if (!verifyEnrollmentProof(proof, request.proofSignature)) {
    throw reject(
      401,
      "bad_signature",
      "the proof-of-possession signature does not verify with the submitted key",
      {
        clientId,
        severity: "high",
      },
    );
  }

  return prisma.$transaction(async (tx) => {
    // Lock the token row so two concurrent enrollments cannot both use it.
    const rows = await tx.$queryRaw<
      {
        id: string;
        tokenHash: string;
        clientId: string | null;
        federationId: string | null;
        expiresAt: Date;
        usedAt: Date | null;
      }[]
    >`SELECT id, "tokenHash", "clientId", "federationId", "expiresAt", "usedAt" FROM "EnrollmentToken" WHERE id = ${tokenId} FOR UPDATE`;
    const token = rows[0];
    if (!token || !secretMatches(secret, token.tokenHash)) {
      throw reject(401, "invalid_token", "the enrollment token is not valid", {
        clientId,
        severity: "high",
      });
    }
    if (token.usedAt) {
      throw reject(
        401,
        "token_used",
        `the enrollment token ${tokenId} was already used; ask an operator for a new one`,
        {
          clientId,
          severity: "high",
        },
      );
    }
    if (token.expiresAt.getTime() <= now.getTime()) {
      throw reject(
        401,
        "token_expired",
        `the enrollment token ${tokenId} expired at ${token.expiresAt.toISOString()}; ask an operator for a new one`,
        {
          clientId,
        },
      );
    }
    if (token.clientId && token.clientId !== clientId) {
      throw reject(
        403,
        "token_client_mismatch",
        `the enrollment token was issued for client "${token.clientId}", not "${clientId}"`,
        {
          clientId,
          severity: "high",
        },
      );
    }
    const existing = await tx.client.findUnique({ where: { id: clientId } });
    if (existing?.status === "revoked") {
      throw reject(
        403,
        "client_revoked",
        `client "${clientId}" is revoked and cannot enroll again`,
        { clientId, severity: "high" },
      );
    }

    // An enrolled client id can only be enrolled again with a token an operator issued for
    // that id. Otherwise any holder of an unbound token could take over an existing client.
    if (existing && token.clientId !== clientId) {
      throw reject(
        409,
        "client_exists",
        `client "${clientId}" is already enrolled; to enroll it again, ask an operator for a token issued for that client id`,
        { clientId, severity: "high" },
      );
    }

    await tx.enrollmentToken.update({
      where: { id: tokenId },
      data: { usedAt: now, usedByClientId: clientId },
    });
    if (existing) {
      // Re-enrollment replaces the client's keys: its earlier credentials stop working.
      await tx.credential.updateMany({
        where: { clientId, revokedAt: null },
        data: { revokedAt: now, revocationReason: "replaced by re-enrollment" },
      });
    }
    if (!existing) {
      await tx.client.create({ data: { id: clientId, federationId: token.federationId } });
    } else if (token.federationId && existing.federationId !== token.federationId) {
      await tx.client.update({
        where: { id: clientId },
        data: { federationId: token.federationId },
      });
    }
    return createCredential(tx as unknown as PrismaClient, serverKeys, {
      clientId,
      signingPublicKey: request.signingPublicKey,
      kemPublicKey: request.kemPublicKey,
      lifetimeDays: options.credentialLifetimeDays,
      now,
    });
  });
}

/** Stores and signs a new credential. Callers run it inside their transaction. */
export async function createCredential(
  prisma: PrismaClient,
  serverKeys: ServerKeys,
  input: {
    clientId: string;
    signingPublicKey: Uint8Array;
    kemPublicKey: Uint8Array | null;
    lifetimeDays: number;
    now: Date;
    serverGeneratedKeys?: boolean;
  },
): Promise<IssuedCredential> {
  const issuedAtMs = input.now.getTime();
  const expiresAtMs = issuedAtMs + input.lifetimeDays * 86_400_000;
  // The serial comes from the table's sequence; the signature is added once it is known.
  const row = await prisma.credential.create({
    data: {
      clientId: input.clientId,
      signingPublicKey: Buffer.from(input.signingPublicKey),
      kemPublicKey: input.kemPublicKey ? Buffer.from(input.kemPublicKey) : null,
      fingerprint: publicKeyFingerprint(input.signingPublicKey),
      issuedAt: new Date(issuedAtMs),
      expiresAt: new Date(expiresAtMs),
      serverSignature: Buffer.alloc(0),
      serverGeneratedKeys: input.serverGeneratedKeys ?? false,
    },
  });
  const credential: ClientCredential = {
    serial: row.serial,
    clientId: input.clientId,
    signingPublicKey: input.signingPublicKey,
    kemPublicKey: input.kemPublicKey,
    issuedAtMs,
    expiresAtMs,
  };
  const serverSignature = signCredential(credential, serverKeys.signing.secretKey);
  await prisma.credential.update({
    where: { id: row.id },
    data: { serverSignature: Buffer.from(serverSignature) },
  });
  return { credential, serverSignature, credentialId: row.id };
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function secretMatches(secret: string, storedHash: string): boolean {
  const computed = Buffer.from(hashSecret(secret), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return computed.length === stored.length && timingSafeEqual(computed, stored);
}

function splitToken(token: string): { tokenId: string; secret: string } {
  const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(token);
  if (!match) {
    throw reject(
      400,
      "malformed_token",
      "the enrollment token is malformed: expected <token id>.<secret> as issued by an operator",
    );
  }
  return { tokenId: match[1], secret: match[2] };
}

function assertKeyLength(key: Uint8Array, expected: number, name: string, clientId: string): void {
  if (key.length !== expected) {
    throw reject(400, "invalid_key", `${name} is ${key.length} bytes, expected ${expected}`, {
      clientId,
    });
  }
}
