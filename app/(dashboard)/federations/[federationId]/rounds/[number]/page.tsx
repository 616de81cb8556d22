import { notFound } from "next/navigation";
import { RoundDetailView } from "@/components/dashboard/round-detail";
import { DashboardNotFoundError } from "@/lib/dashboard/errors";
import { getRoundDetail } from "@/lib/dashboard/federations";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../../../../page-session";

export const dynamic = "force-dynamic";

export default async function RoundPage({
  params,
}: {
  params: Promise<{ federationId: string; number: string }>;
}) {
  await requirePageSession();
  const { federationId, number } = await params;
  const detail = await getRoundDetail(getPrisma(), federationId, Number(number)).catch(
    (error: unknown) => {
      if (error instanceof DashboardNotFoundError) notFound();
      throw error;
    },
  );
  return <RoundDetailView initial={detail} />;
}
