/**
 * Client registration, authentication and revocation on PostgreSQL, with lib/auth's
 * AuthenticationService and RevocationManager.
 *
 * registerClient generates each client's ML-DSA-65 and X-Wing keys on the server, so the example
 * turns security.allowServerGeneratedKeys on for its own run. Real clients enroll with a one-time
 * token and never send their secret keys anywhere.
 *
 * Success: every registered client authenticates with a signature under the auth context string,
 * a signature made with another client's key is rejected, and after revocation the suspicious
 * client no longer authenticates and is reported revoked while the others are not.
 */

import { AuthenticationService, RevocationManager } from "@/lib/auth/credentials";
import { getServerKeys, parseMasterKey } from "@/lib/auth/server-keys";
import { loadConfig } from "@/lib/config";
import { AUTH_CONTEXT, DilithiumSigner } from "@/lib/pq";
import {
  heading,
  isEntryPoint,
  randomMasterKeyHex,
  runExample,
  SuccessChecks,
  withExampleDatabase,
  withServerGeneratedKeys,
} from "./support";

const CLIENTS = ["honest_client_1", "honest_client_2", "suspicious_client"];

/** Builds the message a client signs to prove who it is: its id, the action and a timestamp. */
function authenticationMessage(clientId: string): Uint8Array {
  const text = JSON.stringify({
    action: "submit_model_update",
    clientId,
    timestamp: new Date().toISOString(),
  });
  return new TextEncoder().encode(text);
}

export async function main(): Promise<number> {
  const config = withServerGeneratedKeys(loadConfig());
  const checks = new SuccessChecks();

  await withExampleDatabase(config, async ({ prisma }) => {
    const serverKeys = await getServerKeys(prisma, parseMasterKey(randomMasterKeyHex()));
    const auth = new AuthenticationService(prisma, serverKeys, {
      allowServerGeneratedKeys: config.security.allowServerGeneratedKeys,
      credentialLifetimeDays: config.security.credentialLifetimeDays,
    });
    const revocations = new RevocationManager(prisma);

    heading("Registration");
    const keys = new Map<string, Uint8Array>();
    const secretKeyOf = (clientId: string): Uint8Array => {
      const key = keys.get(clientId);
      if (!key) throw new Error(`client "${clientId}" was not registered in this run`);
      return key;
    };
    for (const clientId of CLIENTS) {
      const registered = await auth.registerClient(clientId);
      keys.set(clientId, registered.signingSecretKey);
      console.log(
        `Registered ${clientId}: credential serial ${registered.credential.credential.serial}, ` +
          `issued ${registered.issuedAt.toISOString()}, expires ${registered.expiresAt.toISOString()}`,
      );
    }

    heading("Authentication");
    for (const clientId of CLIENTS) {
      const message = authenticationMessage(clientId);
      const signature = DilithiumSigner.sign(message, secretKeyOf(clientId), AUTH_CONTEXT);
      const authenticated = await auth.authenticateClient(clientId, signature, message);
      console.log(`${clientId}: ${authenticated ? "authenticated" : "rejected"}`);
      checks.check(authenticated, `${clientId} authenticates with its own key`);
    }
    const forged = authenticationMessage("honest_client_1");
    const forgedSignature = DilithiumSigner.sign(
      forged,
      secretKeyOf("suspicious_client"),
      AUTH_CONTEXT,
    );
    const impersonated = await auth.authenticateClient("honest_client_1", forgedSignature, forged);
    console.log(
      `suspicious_client signing as honest_client_1: ${impersonated ? "authenticated" : "rejected"}`,
    );
    checks.check(!impersonated, "a signature made with another client's key is rejected");

    heading("Revocation");
    const revokedCount = await revocations.revokeCredential(
      "suspicious_client",
      "anomalous behaviour detected",
    );
    console.log(`Revoked ${revokedCount} credential(s) of suspicious_client.`);
    const message = authenticationMessage("suspicious_client");
    const signature = DilithiumSigner.sign(message, secretKeyOf("suspicious_client"), AUTH_CONTEXT);
    const afterRevocation = await auth.authenticateClient("suspicious_client", signature, message);
    console.log(
      `suspicious_client after revocation: ${afterRevocation ? "authenticated" : "rejected"}`,
    );
    checks.check(!afterRevocation, "revoked client no longer authenticates");

    for (const clientId of CLIENTS) {
      const revoked = await revocations.isRevoked(clientId);
      console.log(`isRevoked(${clientId}) = ${revoked}`);
      const expected = clientId === "suspicious_client";
      checks.check(revoked === expected, `${clientId} is ${expected ? "" : "not "}revoked`);
    }
  });

  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
