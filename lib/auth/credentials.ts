/**
 * Credentials after enrollment: looking up a client's valid credential, key rotation, revocation,
 * and the earlier system's service names (CredentialManager, RevocationManager,
 * AuthenticationService).
 */
import type { Credential, PrismaClient } from "../generated/prisma/client";
import {
  AUTH_CONTEXT,
  DilithiumSigner,
  decodeKeyRotation,
  ML_DSA_65,
  publicKeyFingerprint,
  verifyKeyRotation,
  X_WING,
  XWingKem,
} from "../pq";
import { createCredential, type IssuedCredential } from "./enrollment";
import { reject } from "./rejection";
import type { ServerKeys } from "./server-keys";

export type CredentialState = "valid" | "revoked" | "expired" | "missing";

export class CredentialManager {
  constructor(private readonly prisma: PrismaClient) {}

  /** Returns the client's newest credential and whether it is usable at `now`. */
  async getCurrent(
    clientId: string,
    now = new Date(),
  ): Promise<{ state: CredentialState; credential?: Credential }> {
    const credential = await this.prisma.credential.findFirst({
      where: { clientId, replacedById: null },
      orderBy: { serial: "desc" },
    });
    if (!credential) return { state: "missing" };
    if (credential.revokedAt) return { state: "revoked", credential };
    if (credential.expiresAt.getTime() <= now.getTime()) return { state: "expired", credential };
    return { state: "valid", credential };
  }

  /**
   * Replaces the client's key pair: the rotation statement names the old key's fingerprint and
   * the new keys, and is signed with the old key. The old credential is marked replaced.
   */
  async rotateKeys(
    serverKeys: ServerKeys,
    input: {
      clientId: string;
      rotation: Uint8Array;
      signature: Uint8Array;
      skewMs: number;
      lifetimeDays: number;
      now?: Date;
    },
  ): Promise<IssuedCredential> {
    const now = input.now ?? new Date();
    let rotation: ReturnType<typeof decodeKeyRotation>;
    try {
      rotation = decodeKeyRotation(input.rotation);
    } catch (error) {
      throw reject(
        400,
        "malformed",
        `the key rotation statement is malformed: ${(error as Error).message}`,
        {
          clientId: input.clientId,
        },
      );
    }
    if (rotation.clientId !== input.clientId) {
      throw reject(
        400,
        "client_mismatch",
        `the rotation names client "${rotation.clientId}", the request "${input.clientId}"`,
        {
          clientId: input.clientId,
        },
      );
    }
    const current = await this.getCurrent(input.clientId, now);
    if (!current.credential)
      throw reject(401, "unknown_client", `client "${input.clientId}" has no credential`, {
        clientId: input.clientId,
      });
    if (current.state === "revoked")
      throw reject(403, "credential_revoked", "the credential is revoked", {
        clientId: input.clientId,
        severity: "high",
      });
    if (current.state === "expired") {
      throw reject(
        403,
        "credential_expired",
        "the credential has expired; rotation must happen before expiry, so enroll again",
        {
          clientId: input.clientId,
        },
      );
    }
    const oldKey = new Uint8Array(current.credential.signingPublicKey);
    if (publicKeyFingerprint(oldKey) !== Buffer.from(rotation.oldKeyFingerprint).toString("hex")) {
      throw reject(
        409,
        "stale_rotation",
        "the rotation names a key that is not the client's current key",
        { clientId: input.clientId },
      );
    }
    if (Math.abs(now.getTime() - rotation.timestampMs) > input.skewMs) {
      throw reject(
        409,
        "stale_timestamp",
        "the rotation's timestamp is outside the accepted clock skew",
        { clientId: input.clientId },
      );
    }
    if (!verifyKeyRotation(rotation, input.signature, oldKey)) {
      throw reject(401, "bad_signature", "the rotation is not signed by the client's current key", {
        clientId: input.clientId,
        severity: "high",
      });
    }
    if (rotation.newSigningPublicKey.length !== ML_DSA_65.publicKeyBytes) {
      throw reject(
        400,
        "invalid_key",
        `newSigningPublicKey is ${rotation.newSigningPublicKey.length} bytes, expected ${ML_DSA_65.publicKeyBytes}`,
      );
    }
    if (rotation.newKemPublicKey && rotation.newKemPublicKey.length !== X_WING.publicKeyBytes) {
      throw reject(
        400,
        "invalid_key",
        `newKemPublicKey is ${rotation.newKemPublicKey.length} bytes, expected ${X_WING.publicKeyBytes}`,
      );
    }
    const previousId = current.credential.id;
    return this.prisma.$transaction(async (tx) => {
      const issued = await createCredential(tx as unknown as PrismaClient, serverKeys, {
        clientId: input.clientId,
        signingPublicKey: rotation.newSigningPublicKey,
        kemPublicKey: rotation.newKemPublicKey,
        lifetimeDays: input.lifetimeDays,
        now,
      });
      await tx.credential.update({
        where: { id: previousId },
        data: { replacedById: issued.credentialId },
      });
      return issued;
    });
  }
}

export class RevocationManager {
  constructor(private readonly prisma: PrismaClient) {}

  /** Revokes every credential of the client and marks the client revoked. */
  async revokeCredential(clientId: string, reason: string, now = new Date()): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const client = await tx.client.findUnique({ where: { id: clientId } });
      if (!client) throw new RangeError(`client "${clientId}" not found`);
      const result = await tx.credential.updateMany({
        where: { clientId, revokedAt: null },
        data: { revokedAt: now, revocationReason: reason },
      });
      await tx.client.update({
        where: { id: clientId },
        data: { status: "revoked", statusReason: reason, statusChangedAt: now, influenceWeight: 0 },
      });
      return result.count;
    });
  }

  async isRevoked(clientId: string): Promise<boolean> {
    const client = await this.prisma.client.findUnique({
      where: { id: clientId },
      select: { status: true },
    });
    return client?.status === "revoked";
  }
}

export interface SimulatedClientKeys {
  clientId: string;
  signingPublicKey: Uint8Array;
  signingSecretKey: Uint8Array;
  kemPublicKey: Uint8Array;
  kemSecretKey: Uint8Array;
  credential: IssuedCredential;
  issuedAt: Date;
  expiresAt: Date;
}

/** The earlier system's authentication API, kept for library users and the demos. */
export class AuthenticationService {
  readonly credentials: CredentialManager;
  readonly revocations: RevocationManager;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly serverKeys: ServerKeys,
    private readonly options: { allowServerGeneratedKeys: boolean; credentialLifetimeDays: number },
  ) {
    this.credentials = new CredentialManager(prisma);
    this.revocations = new RevocationManager(prisma);
  }

  /**
   * Generates a client's key pairs ON THE SERVER and returns the private keys. Only for local
   * demos and tests: it is refused unless security.allowServerGeneratedKeys is true, because the
   * server then knows secrets that should never leave the client. Real clients enroll with a
   * token and keep their keys (enrollClient).
   */
  async registerClient(
    clientId: string,
    federationId?: string | null,
  ): Promise<SimulatedClientKeys> {
    if (!this.options.allowServerGeneratedKeys) {
      throw new Error(
        "registerClient generates client keys on the server and is disabled; set security.allowServerGeneratedKeys: true for local demos and tests, or enroll clients with a token",
      );
    }
    const signing = DilithiumSigner.generateKeypair();
    const kem = XWingKem.generateKeypair();
    const now = new Date();
    const credential = await this.prisma.$transaction(async (tx) => {
      const existing = await tx.client.findUnique({ where: { id: clientId } });
      if (existing?.status === "revoked")
        throw new Error(`client "${clientId}" is revoked and cannot register again`);
      if (!existing)
        await tx.client.create({ data: { id: clientId, federationId: federationId ?? null } });
      await tx.credential.updateMany({
        where: { clientId, replacedById: null, revokedAt: null },
        data: { revokedAt: now, revocationReason: "replaced by registerClient" },
      });
      return createCredential(tx as unknown as PrismaClient, this.serverKeys, {
        clientId,
        signingPublicKey: signing.publicKey,
        kemPublicKey: kem.publicKey,
        lifetimeDays: this.options.credentialLifetimeDays,
        now,
        serverGeneratedKeys: true,
      });
    });
    return {
      clientId,
      signingPublicKey: signing.publicKey,
      signingSecretKey: signing.secretKey,
      kemPublicKey: kem.publicKey,
      kemSecretKey: kem.secretKey,
      credential,
      issuedAt: now,
      expiresAt: new Date(credential.credential.expiresAtMs),
    };
  }

  /**
   * Returns whether `signature` is the client's ML-DSA-65 signature (auth context) over
   * `message`, made with its current, unrevoked, unexpired credential.
   */
  async authenticateClient(
    clientId: string,
    signature: Uint8Array,
    message: Uint8Array,
  ): Promise<boolean> {
    const client = await this.prisma.client.findUnique({
      where: { id: clientId },
      select: { status: true },
    });
    if (!client || client.status === "revoked") return false;
    const current = await this.credentials.getCurrent(clientId);
    if (current.state !== "valid" || !current.credential) return false;
    return DilithiumSigner.verify(
      message,
      signature,
      new Uint8Array(current.credential.signingPublicKey),
      AUTH_CONTEXT,
    );
  }

  async revokeClient(clientId: string, reason = "revoked by operator"): Promise<void> {
    await this.revocations.revokeCredential(clientId, reason);
  }
}
