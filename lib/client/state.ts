/**
 * The client's state folder: its secret keys and its credential, each in a JSON file of mode 0600
 * inside a folder of mode 0700.
 *
 *   keys.json        the ML-DSA-65 and X-Wing key pairs, secret keys included
 *   credential.json  the server-signed credential, the server's signature over it, and the
 *                    server's ML-DSA-65 public key that verified it at enrollment
 *
 * Files are written to a temporary file created with mode 0600 and then renamed over the old one,
 * so a reader never sees a half-written file. Reading re-checks everything the SDK relies on.
 * The files must not be readable by group or others (on POSIX systems), and each public key must
 * match its secret key. The credential must name these keys and this client, and the stored
 * server key must still verify it.
 */

import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { z } from "zod";
import {
  type ClientCredential,
  DilithiumSigner,
  decodeCredential,
  encodeCredential,
  equalBytes,
  type KemKeypair,
  publicKeyFingerprint,
  randomBytes,
  type SigningKeypair,
  toHex,
  verifyCredential,
  XWingKem,
} from "../pq";
import { StateError } from "./errors";
import { fromBase64, toBase64 } from "./responses";

export const KEYS_FILE = "keys.json";
export const CREDENTIAL_FILE = "credential.json";
const KEYS_FORMAT = "qsfl-client-keys/v1";
const CREDENTIAL_FORMAT = "qsfl-client-credential/v1";

export interface ClientKeys {
  signing: SigningKeypair;
  kem: KemKeypair;
}

/** Everything an enrolled client keeps between runs. */
export interface ClientState {
  clientId: string;
  keys: ClientKeys;
  credential: ClientCredential;
  /** The server's ML-DSA-65 signature over the encoded credential. */
  credentialSignature: Uint8Array;
  /** The server's ML-DSA-65 public key, trusted from enrollment on. */
  serverSigningPublicKey: Uint8Array;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64");
const keyPair = z.object({ publicKey: base64, secretKey: base64 }).strict();

const keysFileSchema = z
  .object({
    format: z.literal(KEYS_FORMAT),
    clientId: z.string().min(1),
    signing: keyPair,
    kem: keyPair,
  })
  .strict();

const credentialFileSchema = z
  .object({
    format: z.literal(CREDENTIAL_FORMAT),
    clientId: z.string().min(1),
    credential: base64,
    credentialSignature: base64,
    serverSigningPublicKey: base64,
    serverSigningKeyFingerprint: z.string(),
  })
  .strict();

/** Generates a fresh ML-DSA-65 and X-Wing key pair from the operating system's CSPRNG. */
export function generateClientKeys(): ClientKeys {
  return { signing: DilithiumSigner.generateKeypair(), kem: XWingKem.generateKeypair() };
}

/** Writes both state files into `dir`, creating it with mode 0700 when missing. */
export function writeState(dir: string, state: ClientState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The keys go first: a credential must never point at keys that were not saved.
  writeSecretFile(path.join(dir, KEYS_FILE), {
    format: KEYS_FORMAT,
    clientId: state.clientId,
    signing: encodePair(state.keys.signing),
    kem: encodePair(state.keys.kem),
  });
  writeSecretFile(path.join(dir, CREDENTIAL_FILE), {
    format: CREDENTIAL_FORMAT,
    clientId: state.clientId,
    credential: toBase64(encodeCredential(state.credential)),
    credentialSignature: toBase64(state.credentialSignature),
    serverSigningPublicKey: toBase64(state.serverSigningPublicKey),
    serverSigningKeyFingerprint: publicKeyFingerprint(state.serverSigningPublicKey),
  });
}

/**
 * Reads the state in `dir`. Returns null when neither file exists, and throws StateError (reason
 * "invalid") when one is missing, readable by others, malformed or inconsistent.
 */
export function readState(dir: string): ClientState | null {
  const keysPath = path.join(dir, KEYS_FILE);
  const credentialPath = path.join(dir, CREDENTIAL_FILE);
  const haveKeys = existsSync(keysPath);
  const haveCredential = existsSync(credentialPath);
  if (!haveKeys && !haveCredential) return null;
  if (!haveKeys || !haveCredential) {
    const missing = haveKeys ? credentialPath : keysPath;
    throw new StateError(
      missing,
      `${missing} is missing while ${haveKeys ? keysPath : credentialPath} exists; enroll again with a new token`,
    );
  }

  const keysFile = readSecretFile(keysPath, keysFileSchema);
  const credentialFile = readSecretFile(credentialPath, credentialFileSchema);
  const keys: ClientKeys = {
    signing: decodePair(keysFile.signing),
    kem: decodePair(keysFile.kem),
  };
  checkKeyPairs(keys, keysPath);

  let credential: ClientCredential;
  try {
    credential = decodeCredential(fromBase64(credentialFile.credential));
  } catch (error) {
    throw new StateError(credentialPath, `${credentialPath}: ${(error as Error).message}`);
  }
  const state: ClientState = {
    clientId: keysFile.clientId,
    keys,
    credential,
    credentialSignature: fromBase64(credentialFile.credentialSignature),
    serverSigningPublicKey: fromBase64(credentialFile.serverSigningPublicKey),
  };
  checkCredential(state, credentialFile.clientId, credentialPath);
  if (
    publicKeyFingerprint(state.serverSigningPublicKey) !==
    credentialFile.serverSigningKeyFingerprint
  ) {
    throw new StateError(
      credentialPath,
      `${credentialPath}: serverSigningKeyFingerprint is not the SHA-256 of serverSigningPublicKey`,
    );
  }
  return state;
}

function checkKeyPairs(keys: ClientKeys, file: string): void {
  let signingMatches: boolean;
  let kemMatches: boolean;
  try {
    signingMatches = equalBytes(
      DilithiumSigner.getPublicKey(keys.signing.secretKey),
      keys.signing.publicKey,
    );
    kemMatches = equalBytes(XWingKem.getPublicKey(keys.kem.secretKey), keys.kem.publicKey);
  } catch (error) {
    throw new StateError(file, `${file}: invalid key (${(error as Error).message})`);
  }
  if (!signingMatches || !kemMatches) {
    const mismatched = signingMatches ? "X-Wing" : "ML-DSA-65";
    throw new StateError(
      file,
      `${file}: the ${mismatched} public key does not match its secret key`,
    );
  }
}

function checkCredential(state: ClientState, fileClientId: string, file: string): void {
  const { credential } = state;
  if (fileClientId !== state.clientId || credential.clientId !== state.clientId) {
    throw new StateError(
      file,
      `${file} belongs to client "${credential.clientId}", but ${KEYS_FILE} to "${state.clientId}"`,
    );
  }
  const kemMatches =
    credential.kemPublicKey !== null &&
    equalBytes(credential.kemPublicKey, state.keys.kem.publicKey);
  if (!equalBytes(credential.signingPublicKey, state.keys.signing.publicKey) || !kemMatches) {
    throw new StateError(
      file,
      `${file} certifies other public keys than those in ${KEYS_FILE}; a key rotation was probably interrupted, so enroll again with a new token`,
    );
  }
  let verified = false;
  try {
    verified = verifyCredential(
      credential,
      state.credentialSignature,
      state.serverSigningPublicKey,
    );
  } catch (error) {
    throw new StateError(file, `${file}: invalid server key (${(error as Error).message})`);
  }
  if (!verified) {
    throw new StateError(file, `${file}: the server signature over the credential does not verify`);
  }
}

function writeSecretFile(file: string, content: object): void {
  const temporary = `${file}.${toHex(randomBytes(6))}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  // The mode given to writeFileSync only applies to new files and is reduced by the umask.
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

function readSecretFile<T extends z.ZodType>(file: string, schema: T): z.output<T> {
  if (process.platform !== "win32") {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new StateError(
        file,
        `${file} has mode 0${mode.toString(8)} and is readable by other users; run chmod 600 ${file}`,
      );
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new StateError(file, `${file} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StateError(
      file,
      `${file}: invalid field "${issue.path.join(".")}": ${issue.message}`,
    );
  }
  return parsed.data;
}

function encodePair(pair: { publicKey: Uint8Array; secretKey: Uint8Array }) {
  return { publicKey: toBase64(pair.publicKey), secretKey: toBase64(pair.secretKey) };
}

function decodePair(pair: { publicKey: string; secretKey: string }) {
  return { publicKey: fromBase64(pair.publicKey), secretKey: fromBase64(pair.secretKey) };
}
