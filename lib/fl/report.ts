/**
 * Progress lines and the final report of a federation run, with the earlier system's success
 * criteria: final test accuracy above 85%, at least 80% of malicious clients quarantined, at most
 * 10% of honest clients quarantined, and accuracy improved over the first round.
 */
import type { PrismaClient } from "../generated/prisma/client";

export interface RoundLine {
  number: number;
  status: string;
  accepted: number;
  rejected: number;
  excluded: number;
  testAccuracy: number | null;
  quarantined: string[];
}

export async function roundLines(prisma: PrismaClient, federationId: string): Promise<RoundLine[]> {
  const rounds = await prisma.round.findMany({
    where: { federationId, status: { in: ["published", "failed"] } },
    orderBy: { number: "asc" },
    include: {
      updates: { select: { status: true } },
      reputations: { where: { quarantined: true }, select: { clientId: true } },
    },
  });
  return rounds.map((r) => ({
    number: r.number,
    status: r.status,
    accepted: r.updates.filter((u) => u.status === "accepted").length,
    rejected: r.updates.filter((u) => u.status === "rejected").length,
    excluded: r.updates.filter((u) => u.status === "excluded").length,
    testAccuracy: r.testAccuracy,
    quarantined: r.reputations.map((s) => s.clientId).sort(),
  }));
}

export function formatRoundLine(line: RoundLine): string {
  const accuracy = line.testAccuracy === null ? "n/a" : `${(line.testAccuracy * 100).toFixed(2)}%`;
  if (line.status === "failed")
    return `round ${line.number}: failed (no updates before the deadline)`;
  return (
    `round ${line.number}: ${line.accepted} accepted, ${line.rejected} rejected, ${line.excluded} excluded, ` +
    `test accuracy ${accuracy}, quarantined: ${line.quarantined.length > 0 ? line.quarantined.join(", ") : "none"}`
  );
}

export interface SuccessCriterion {
  name: string;
  passed: boolean;
  detail: string;
}

export interface RunReport {
  finalAccuracy: number | null;
  firstAccuracy: number | null;
  maliciousQuarantined: string[];
  honestQuarantined: string[];
  criteria: SuccessCriterion[];
  passed: boolean;
}

/** Evaluates the success criteria on a finished run. */
export async function buildRunReport(
  prisma: PrismaClient,
  federationId: string,
  clients: { honest: string[]; malicious: string[] },
): Promise<RunReport> {
  const lines = await roundLines(prisma, federationId);
  const published = lines.filter((l) => l.status === "published" && l.testAccuracy !== null);
  const firstAccuracy = published[0]?.testAccuracy ?? null;
  const finalAccuracy = published.at(-1)?.testAccuracy ?? null;
  const everQuarantined = new Set(lines.flatMap((l) => l.quarantined));
  const current = await prisma.client.findMany({
    where: { id: { in: [...clients.honest, ...clients.malicious] }, status: "quarantined" },
    select: { id: true },
  });
  for (const c of current) everQuarantined.add(c.id);
  const maliciousQuarantined = clients.malicious.filter((id) => everQuarantined.has(id));
  const honestQuarantined = clients.honest.filter((id) => everQuarantined.has(id));
  const maliciousRate =
    clients.malicious.length === 0 ? 1 : maliciousQuarantined.length / clients.malicious.length;
  const honestRate =
    clients.honest.length === 0 ? 0 : honestQuarantined.length / clients.honest.length;
  const percent = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(2)}%`);
  const criteria: SuccessCriterion[] = [
    {
      name: "final accuracy above 85%",
      passed: finalAccuracy !== null && finalAccuracy > 0.85,
      detail: `final test accuracy ${percent(finalAccuracy)}`,
    },
    {
      name: "at least 80% of malicious clients quarantined",
      passed: maliciousRate >= 0.8,
      detail: `${maliciousQuarantined.length} of ${clients.malicious.length} (${percent(maliciousRate)})`,
    },
    {
      name: "at most 10% of honest clients quarantined",
      passed: honestRate <= 0.1,
      detail: `${honestQuarantined.length} of ${clients.honest.length} (${percent(honestRate)})`,
    },
    {
      name: "accuracy improved over the first round",
      passed: firstAccuracy !== null && finalAccuracy !== null && finalAccuracy > firstAccuracy,
      detail: `first round ${percent(firstAccuracy)}, final ${percent(finalAccuracy)}`,
    },
  ];
  return {
    finalAccuracy,
    firstAccuracy,
    maliciousQuarantined,
    honestQuarantined,
    criteria,
    passed: criteria.every((c) => c.passed),
  };
}

export function formatRunReport(report: RunReport): string {
  const lines = ["", "Success criteria:"];
  for (const c of report.criteria)
    lines.push(`  [${c.passed ? "PASS" : "FAIL"}] ${c.name}: ${c.detail}`);
  lines.push(report.passed ? "All criteria hold." : "At least one criterion failed.");
  return lines.join("\n");
}
