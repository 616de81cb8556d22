import { CredentialManager } from "@/lib/auth/credentials";
import { getConfig } from "@/lib/config";
import { readJsonBody } from "@/lib/http/body";
import {
  fromBase64,
  getIntakeContext,
  handleClientRequest,
  recordClientEvent,
  toBase64,
} from "@/lib/http/client-api";
import { encodeCredential } from "@/lib/pq";
import { rotateRequestSchema } from "@/lib/validations/client-api";

export const dynamic = "force-dynamic";

/** Replaces a client's keys with new ones, authorised by a signature of the current key. */
export async function POST(request: Request): Promise<Response> {
  return handleClientRequest("POST /api/v1/credentials/rotate", request, async (requestId) => {
    const data = await readJsonBody(request, rotateRequestSchema, 64 * 1024);
    const ctx = await getIntakeContext();
    const config = getConfig();
    const issued = await new CredentialManager(ctx.prisma).rotateKeys(ctx.serverKeys, {
      clientId: data.clientId,
      rotation: fromBase64(data.rotation, "rotation", data.clientId),
      signature: fromBase64(data.signature, "signature", data.clientId),
      skewMs: config.security.timestampSkewSeconds * 1000,
      lifetimeDays: config.security.credentialLifetimeDays,
    });
    await recordClientEvent({
      clientId: issued.credential.clientId,
      description: `client ${issued.credential.clientId} rotated its keys to credential serial ${issued.credential.serial}`,
      metadata: {
        requestId,
        serial: issued.credential.serial.toString(),
        route: "POST /api/v1/credentials/rotate",
      },
    });
    return Response.json(
      {
        clientId: issued.credential.clientId,
        serial: issued.credential.serial.toString(),
        expiresAt: new Date(issued.credential.expiresAtMs).toISOString(),
        credential: toBase64(encodeCredential(issued.credential)),
        serverSignature: toBase64(issued.serverSignature),
      },
      { status: 201 },
    );
  });
}
