import { receiveUpdateEnvelope } from "@/lib/fl/intake";
import { readBodyWithLimit, requireContentType } from "@/lib/http/body";
import { getIntakeContext, handleClientRequest, toBase64 } from "@/lib/http/client-api";
import { enqueue, QUEUES } from "@/lib/jobs";
import { logger } from "@/lib/logger";
import { encodeReceipt } from "@/lib/pq";
import { getWebBoss } from "@/lib/web/boss";

export const dynamic = "force-dynamic";

/** Receives one signed, encrypted update envelope (application/octet-stream). */
export async function POST(request: Request): Promise<Response> {
  return handleClientRequest("POST /api/v1/updates", request, async (requestId) => {
    requireContentType(request, "application/octet-stream");
    const ctx = await getIntakeContext();
    const body = await readBodyWithLimit(request, ctx.limits.maxUpdateBytes);
    const accepted = await receiveUpdateEnvelope(ctx, body);

    // The update is stored; a lost job only delays the quorum check until the round's deadline.
    try {
      await enqueue(await getWebBoss(), QUEUES.updateReceived, {
        updateId: accepted.updateId,
        roundId: accepted.roundId,
      });
    } catch (error) {
      logger.warn(
        { err: error, updateId: accepted.updateId, requestId },
        "could not enqueue the update-received job",
      );
    }
    return Response.json(
      {
        updateId: accepted.updateId,
        roundId: accepted.roundId,
        receipt: toBase64(encodeReceipt(accepted.receipt)),
        receiptSignature: toBase64(accepted.receiptSignature),
      },
      { status: 202, headers: { "x-request-id": requestId } },
    );
  });
}
