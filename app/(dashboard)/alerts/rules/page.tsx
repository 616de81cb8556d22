import Link from "next/link";
import { AlertRules } from "@/components/dashboard/alert-rules";
import { listAlertRules } from "@/lib/dashboard/alerts";
import { listMetricNames } from "@/lib/dashboard/metrics";
import { getPrisma } from "@/lib/db";
import { FL_METRICS, PROCESS_METRICS } from "@/lib/monitoring/metrics";
import { requirePageSession } from "../../page-session";
import { saveAlertRuleAction } from "../actions";

export const dynamic = "force-dynamic";

export default async function AlertRulesPage() {
  const { can } = await requirePageSession();
  const prisma = getPrisma();
  const [rules, recorded] = await Promise.all([listAlertRules(prisma), listMetricNames(prisma)]);
  const names = [
    ...new Set([
      ...Object.values(FL_METRICS),
      ...Object.values(PROCESS_METRICS),
      ...recorded.map((r) => r.name),
    ]),
  ].sort();
  return (
    <>
      <p>
        <Link href="/alerts">← Alerts</Link>
      </p>
      <h1>Threshold rules</h1>
      <AlertRules
        initial={rules}
        metricNames={names}
        saveRule={can.saveAlertRule ? saveAlertRuleAction : undefined}
      />
    </>
  );
}
