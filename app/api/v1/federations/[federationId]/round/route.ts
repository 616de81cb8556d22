import { ClientRejection } from "@/lib/auth/rejection";
import { getPrisma } from "@/lib/db";
import { handleClientRequest } from "@/lib/http/client-api";

export const dynamic = "force-dynamic";

type RouteContext = { params: Promise<{ federationId: string }> };

/** Returns the federation's status and its newest round, which clients poll before training. */
export async function GET(request: Request, context: RouteContext): Promise<Response> {
  return handleClientRequest("GET /api/v1/federations/:id/round", request, async () => {
    const { federationId } = await context.params;
    const prisma = getPrisma();
    const federation = await prisma.federation.findUnique({ where: { id: federationId } });
    if (!federation) {
      throw new ClientRejection(404, "not_found", `federation ${federationId} not found`, {
        type: "system",
        severity: "low",
      });
    }
    const round = await prisma.round.findFirst({
      where: { federationId },
      orderBy: { number: "desc" },
      include: { baseModelVersion: { select: { version: true } } },
    });
    return Response.json({
      federationId,
      federationStatus: federation.status,
      plannedRounds: federation.plannedRounds,
      modelSpec: federation.modelSpec,
      round: round
        ? {
            roundId: round.id,
            number: round.number,
            status: round.status,
            deadline: round.deadline.toISOString(),
            baseModelVersion: round.baseModelVersion?.version ?? 0,
          }
        : null,
    });
  });
}
