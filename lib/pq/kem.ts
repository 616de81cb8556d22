/**
 * Key encapsulation: ML-KEM-768 (FIPS 203) and the X-Wing hybrid (draft-connolly-cfrg-xwing-kem),
 * both from @noble/post-quantum 0.7.1.
 *
 * `KyberKeyExchange` keeps the earlier system's name, but it is ML-KEM-768 as standardized in FIPS
 * 203, not the round-3 Kyber submission: the two derive different keys and shared secrets.
 *
 * Sessions use X-Wing, which combines ML-KEM-768 with X25519 through SHA3-256, so a session key
 * stays secret as long as either problem stays hard. An X-Wing secret key is its 32-byte seed, and
 * @noble/post-quantum re-expands the ML-KEM and X25519 keys from it on every decapsulation. One
 * decapsulation therefore costs more than one ML-DSA-65 verify (docs/benchmarks/crypto.json), which
 * is why the protocol decapsulates once per session and not once per update.
 *
 * The optional `seed` and `randomness` arguments make keygen and encapsulation deterministic for
 * known-answer tests. Production callers omit them and get the operating system's CSPRNG; a reused
 * randomness value makes the shared secret predictable.
 */

import { ml_kem768_x25519 } from "@noble/post-quantum/hybrid.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { assertBytes } from "./bytes";

export const ML_KEM_768 = Object.freeze({
  publicKeyBytes: 1184,
  secretKeyBytes: 2400,
  ciphertextBytes: 1088,
  sharedSecretBytes: 32,
  seedBytes: 64,
  randomnessBytes: 32,
});

export const X_WING = Object.freeze({
  publicKeyBytes: 1216,
  secretKeyBytes: 32,
  ciphertextBytes: 1120,
  sharedSecretBytes: 32,
  seedBytes: 32,
  randomnessBytes: 64,
});

export interface KemKeypair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface Encapsulation {
  ciphertext: Uint8Array;
  sharedSecret: Uint8Array;
}

/** ML-KEM-768 (FIPS 203) under the earlier system's name. */
export const KyberKeyExchange = Object.freeze({
  sizes: ML_KEM_768,

  /** Generates a keypair; `seed` (d || z, 64 bytes) is for known-answer tests only. */
  generateKeypair(seed?: Uint8Array): KemKeypair {
    if (seed !== undefined) assertBytes(seed, "seed", ML_KEM_768.seedBytes, "ML-KEM d || z");
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    return { publicKey, secretKey };
  },

  /**
   * Encapsulates a fresh shared secret to `publicKey`. Throws when the key fails the FIPS 203
   * encapsulation-key check (a coefficient at or above q), which only a corrupted or hostile key
   * does. `randomness` (the 32-byte message m) is for known-answer tests only.
   */
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Encapsulation {
    assertBytes(publicKey, "publicKey", ML_KEM_768.publicKeyBytes, "ML-KEM-768 public key");
    if (randomness !== undefined) {
      assertBytes(randomness, "randomness", ML_KEM_768.randomnessBytes, "ML-KEM message m");
    }
    let result: { cipherText: Uint8Array; sharedSecret: Uint8Array };
    try {
      result = ml_kem768.encapsulate(publicKey, randomness);
    } catch (error) {
      throw new RangeError(
        `publicKey: not a valid ML-KEM-768 encapsulation key (${errorText(error)})`,
      );
    }
    return { ciphertext: result.cipherText, sharedSecret: result.sharedSecret };
  },

  /**
   * Recovers the shared secret. A modified ciphertext does not throw: FIPS 203 implicit rejection
   * returns an unrelated pseudorandom secret, and the mismatch surfaces when the derived key fails to
   * authenticate data.
   */
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
    assertBytes(ciphertext, "ciphertext", ML_KEM_768.ciphertextBytes, "ML-KEM-768 ciphertext");
    assertBytes(secretKey, "secretKey", ML_KEM_768.secretKeyBytes, "ML-KEM-768 secret key");
    return ml_kem768.decapsulate(ciphertext, secretKey);
  },
});

/** X-Wing: ML-KEM-768 + X25519 combined with SHA3-256, as in draft-connolly-cfrg-xwing-kem. */
export const XWingKem = Object.freeze({
  sizes: X_WING,

  /** Generates a keypair; the secret key is a 32-byte seed. `seed` is for known-answer tests. */
  generateKeypair(seed?: Uint8Array): KemKeypair {
    if (seed !== undefined) assertBytes(seed, "seed", X_WING.seedBytes, "X-Wing seed");
    const { publicKey, secretKey } = ml_kem768_x25519.keygen(seed);
    return { publicKey, secretKey };
  },

  /** Derives the public key from a 32-byte X-Wing secret key (the server's sealed seed). */
  getPublicKey(secretKey: Uint8Array): Uint8Array {
    assertBytes(secretKey, "secretKey", X_WING.secretKeyBytes, "X-Wing secret key");
    return ml_kem768_x25519.getPublicKey(secretKey);
  },

  /**
   * Encapsulates to an X-Wing public key. Throws on an invalid ML-KEM half or a low-order X25519
   * point (@noble/curves rejects those before the scalar multiplication). `randomness` (64 bytes:
   * ML-KEM m || X25519 ephemeral secret) is for known-answer tests only.
   */
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Encapsulation {
    assertBytes(publicKey, "publicKey", X_WING.publicKeyBytes, "X-Wing public key");
    if (randomness !== undefined) {
      assertBytes(randomness, "randomness", X_WING.randomnessBytes, "X-Wing eseed");
    }
    let result: { cipherText: Uint8Array; sharedSecret: Uint8Array };
    try {
      result = ml_kem768_x25519.encapsulate(publicKey, randomness);
    } catch (error) {
      throw new RangeError(`publicKey: not a valid X-Wing public key (${errorText(error)})`);
    }
    return { ciphertext: result.cipherText, sharedSecret: result.sharedSecret };
  },

  /**
   * Recovers the shared secret. Throws only when the X25519 half of the ciphertext is a low-order
   * point; other modifications return an unrelated secret (ML-KEM implicit rejection).
   */
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
    assertBytes(ciphertext, "ciphertext", X_WING.ciphertextBytes, "X-Wing ciphertext");
    assertBytes(secretKey, "secretKey", X_WING.secretKeyBytes, "X-Wing secret key");
    return ml_kem768_x25519.decapsulate(ciphertext, secretKey);
  },
});

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
