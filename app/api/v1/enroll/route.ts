import { enrollClient } from "@/lib/auth/enrollment";
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
import { enrollRequestSchema } from "@/lib/validations/client-api";

export const dynamic = "force-dynamic";

const MAX_ENROLL_BYTES = 64 * 1024;

/** Exchanges a one-time enrollment token and a proof of possession for a signed credential. */
export async function POST(request: Request): Promise<Response> {
  return handleClientRequest("POST /api/v1/enroll", request, async (requestId) => {
    const input = await readJsonBody(request, enrollRequestSchema, MAX_ENROLL_BYTES);

    const ctx = await getIntakeContext();
    const issued = await enrollClient(
      ctx.prisma,
      ctx.serverKeys,
      {
        token: input.token,
        clientId: input.clientId,
        signingPublicKey: fromBase64(input.signingPublicKey, "signingPublicKey", input.clientId),
        kemPublicKey: input.kemPublicKey
          ? fromBase64(input.kemPublicKey, "kemPublicKey", input.clientId)
          : null,
        proofSignature: fromBase64(input.proofSignature, "proofSignature", input.clientId),
      },
      { credentialLifetimeDays: getConfig().security.credentialLifetimeDays },
    );
    await recordClientEvent({
      clientId: issued.credential.clientId,
      description: `client ${issued.credential.clientId} enrolled with credential serial ${issued.credential.serial}`,
      metadata: {
        requestId,
        serial: issued.credential.serial.toString(),
        route: "POST /api/v1/enroll",
      },
    });
    return Response.json(
      {
        clientId: issued.credential.clientId,
        serial: issued.credential.serial.toString(),
        issuedAt: new Date(issued.credential.issuedAtMs).toISOString(),
        expiresAt: new Date(issued.credential.expiresAtMs).toISOString(),
        credential: toBase64(encodeCredential(issued.credential)),
        serverSignature: toBase64(issued.serverSignature),
      },
      { status: 201 },
    );
  });
}
