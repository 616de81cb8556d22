import Link from "next/link";
import { AlertListView } from "@/components/dashboard/alert-list";
import { listAlerts } from "@/lib/dashboard/alerts";
import { getPrisma } from "@/lib/db";
import { alertListSchema, searchParamsRecord } from "@/lib/validations/dashboard";
import { requirePageSession } from "../page-session";
import { acknowledgeAlertAction, resolveAlertAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function AlertsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { can } = await requirePageSession();
  const parsed = alertListSchema.safeParse(searchParamsRecord(await searchParams));
  const state = parsed.success ? parsed.data.state : "open";
  const data = await listAlerts(getPrisma(), state);
  return (
    <>
      <div className="title-row">
        <h1>Alerts</h1>
        <Link href="/alerts/rules">Threshold rules</Link>
      </div>
      <AlertListView
        key={state}
        initial={data}
        acknowledge={can.acknowledgeAlert ? acknowledgeAlertAction : undefined}
        resolve={can.resolveAlert ? resolveAlertAction : undefined}
      />
    </>
  );
}
