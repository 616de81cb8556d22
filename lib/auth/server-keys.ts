/**
 * The server's long-term keys: an ML-DSA-65 key that signs credentials, receipts and global
 * models, and an X-Wing key that clients encapsulate session keys to. They are created on first
 * use and stored with the secret key sealed by AES-256-GCM under the master key
 * (QSFL_MASTER_KEY, 32 bytes hex, which `npm start` generates into <home>/secrets.json with mode
 * 0600 when it is not set). The public keys and their SHA-256 fingerprints are served at
 * /api/v1/server-keys so clients can pin them.
 */
import type { PrismaClient, ServerKeyKind } from "../generated/prisma/client";
import { logger } from "../logger";
import {
  DilithiumSigner,
  fromHex,
  openSecret,
  publicKeyFingerprint,
  sealSecret,
  XWingKem,
} from "../pq";

export interface ServerKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  fingerprint: string;
}

export interface ServerKeys {
  signing: ServerKeyPair;
  kem: ServerKeyPair;
}

const KEY_CREATION_LOCK = 0x51534b; // "QSK"

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MasterKeyError";
  }
}

/** Parses the master key from its hex form, throwing an error that explains how to fix it. */
export function parseMasterKey(hex: string | undefined): Uint8Array {
  if (!hex) {
    throw new MasterKeyError(
      "QSFL_MASTER_KEY is not set: `npm start` sets it from <home>/secrets.json, or set it to 64 hex characters",
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new MasterKeyError(
      `QSFL_MASTER_KEY is invalid: expected 64 hex characters (32 bytes), got ${hex.length} characters`,
    );
  }
  return fromHex(hex.toLowerCase());
}

// One entry per Prisma client (that is, per database connection) and master key.
let cache = new WeakMap<PrismaClient, Map<string, Promise<ServerKeys>>>();

/** Returns the active server keys, creating them on first use. Cached per client and key. */
export function getServerKeys(prisma: PrismaClient, masterKey: Uint8Array): Promise<ServerKeys> {
  const cacheKey = Buffer.from(masterKey).toString("hex");
  let perClient = cache.get(prisma);
  if (!perClient) {
    perClient = new Map();
    cache.set(prisma, perClient);
  }
  let entry = perClient.get(cacheKey);
  if (!entry) {
    const entries = perClient;
    entry = loadOrCreate(prisma, masterKey).catch((error) => {
      entries.delete(cacheKey);
      throw error;
    });
    perClient.set(cacheKey, entry);
  }
  return entry;
}

/** Forgets cached keys. */
export function clearServerKeyCache(): void {
  cache = new WeakMap();
}

async function loadOrCreate(prisma: PrismaClient, masterKey: Uint8Array): Promise<ServerKeys> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEY_CREATION_LOCK})`;
    const rows = await tx.serverKey.findMany({ where: { active: true } });
    const load = async (kind: ServerKeyKind): Promise<ServerKeyPair> => {
      const row = rows.find((r) => r.kind === kind);
      if (row) {
        let secretKey: Uint8Array;
        try {
          secretKey = openSecret(
            masterKey,
            new Uint8Array(row.encryptedSecretKey),
            `server-${kind}`,
          );
        } catch (error) {
          throw new MasterKeyError(
            `cannot decrypt the server's ${kind} key ${row.fingerprint.slice(0, 16)}: QSFL_MASTER_KEY ` +
              `is not the key it was sealed with (${(error as Error).message})`,
          );
        }
        return {
          publicKey: new Uint8Array(row.publicKey),
          secretKey,
          fingerprint: row.fingerprint,
        };
      }
      const pair =
        kind === "signing" ? DilithiumSigner.generateKeypair() : XWingKem.generateKeypair();
      const fingerprint = publicKeyFingerprint(pair.publicKey);
      await tx.serverKey.create({
        data: {
          kind,
          publicKey: Buffer.from(pair.publicKey),
          encryptedSecretKey: Buffer.from(sealSecret(masterKey, pair.secretKey, `server-${kind}`)),
          fingerprint,
        },
      });
      logger.info({ kind, fingerprint }, "created server key");
      return { publicKey: pair.publicKey, secretKey: pair.secretKey, fingerprint };
    };
    return { signing: await load("signing"), kem: await load("kem") };
  });
}
