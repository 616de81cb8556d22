/**
 * Security event logging on PostgreSQL with SecurityEventLogger: events appended to the
 * hash-chained log, read back by time range, type and severity, the log*Event helpers, and
 * verifyChain.
 *
 * The last part edits one stored event, which the database rejects: a trigger makes the table
 * append-only. The example then drops that protection the way only the table's owner can
 * (ALTER TABLE ... DISABLE TRIGGER) and edits the row anyway. The edit happens in the run's own
 * throwaway database.
 *
 * Success: every logged event is read back with the right counts per type, the database rejects
 * the UPDATE, the chain verifies before the edit, and verifyChain reports the edited row after.
 */
import { loadConfig } from "@/lib/config";
import type { EventType, Severity } from "@/lib/generated/prisma/client";
import { verifyChain } from "@/lib/monitoring/chain";
import { SecurityEventLogger } from "@/lib/monitoring/security-events";
import { heading, isEntryPoint, runExample, SuccessChecks, withExampleDatabase } from "./support";

/** Client id (null for the server itself), type, severity and description of each event. */
const EVENTS: [string | null, EventType, Severity, string][] = [
  ["client_001", "authentication", "low", "Successful client authentication"],
  ["client_002", "authentication", "low", "Successful client authentication"],
  ["unknown_client", "authentication", "high", "Authentication attempt with invalid credentials"],
  ["client_003", "authentication", "medium", "Authentication with expired credentials"],
  [null, "cryptographic", "low", "Key exchange completed"],
  ["client_001", "cryptographic", "medium", "Signature verification failed"],
  ["client_002", "cryptographic", "low", "Signature verified"],
  ["client_004", "anomaly_detection", "high", "High anomaly score; client quarantined"],
  ["client_005", "anomaly_detection", "medium", "Moderate anomaly score; influence reduced"],
  ["client_001", "anomaly_detection", "low", "Update within the normal range"],
  [null, "system", "medium", "High memory usage"],
  [null, "system", "low", "Training round completed"],
];

const TYPES: EventType[] = ["authentication", "cryptographic", "anomaly_detection", "system"];

export async function main(): Promise<number> {
  const checks = new SuccessChecks();

  await withExampleDatabase(loadConfig(), async ({ prisma }) => {
    const events = new SecurityEventLogger(prisma);

    heading("Log events");
    // Timestamps 100 ms apart, so that the order shows in the output without sleeping.
    const start = new Date(Date.now() - 60_000);
    for (const [i, [clientId, type, severity, description]] of EVENTS.entries()) {
      await events.logEvent({
        type,
        severity,
        clientId,
        description,
        metadata: { source: "example", roundId: "example_round" },
        timestamp: new Date(start.getTime() + i * 100),
      });
    }
    console.log(`Logged ${EVENTS.length} events.`);

    heading("Read them back");
    const end = new Date();
    const all = (await events.getEvents(start, end)).events;
    console.log(`Events in the range: ${all.length}`);
    checks.check(all.length === EVENTS.length, `all ${EVENTS.length} logged events are read back`);
    for (const type of TYPES) {
      const page = await events.getEvents(start, end, type);
      const expected = EVENTS.filter(([, t]) => t === type).length;
      console.log(`  ${type}: ${page.events.length}`);
      checks.check(page.events.length === expected, `${expected} ${type} events`);
    }

    const high = (await events.getEvents(start, end, null, { severity: ["high", "critical"] }))
      .events;
    console.log(`\nHigh and critical severity events (${high.length}):`);
    for (const event of high) {
      console.log(
        `  ${event.timestamp.toISOString().slice(11, 23)} ${event.type} client ${event.clientId ?? "n/a"}: ${event.description}`,
      );
    }
    checks.check(high.length === 2, "2 high severity events");

    heading("Logging helpers");
    const helperEvents = [
      await events.logAuthenticationEvent("demo_client", true, { method: "ML-DSA-65" }),
      await events.logAuthenticationEvent("demo_client", false, { reason: "bad signature" }),
      await events.logCryptographicEvent("decapsulate", true, { kem: "X-Wing" }),
      await events.logCryptographicEvent("verify", false, { clientId: "demo_client" }),
      await events.logAnomalyEvent("demo_client", 0.85, "quarantine", { roundId: "example_round" }),
    ];
    for (const event of helperEvents) {
      console.log(`  ${event.severity.padEnd(6)} ${event.type.padEnd(17)} ${event.description}`);
    }

    heading("Hash chain");
    const verified = await verifyChain(prisma);
    if (verified.ok) {
      console.log(
        `Chain intact: ${verified.count} events, head hash ${verified.headHash.slice(0, 16)}...`,
      );
    }
    checks.check(
      verified.ok && verified.count === EVENTS.length + helperEvents.length,
      "chain verifies over every logged event",
    );

    const target = all[5];
    let updateRejected = false;
    try {
      await prisma.$executeRaw`UPDATE "SecurityEvent" SET description = 'nothing happened' WHERE id = ${target.id}`;
    } catch (error) {
      updateRejected = true;
      console.log(`UPDATE of event ${target.sequence} rejected: ${firstLine(error)}`);
    }
    checks.check(updateRejected, "the database rejects an UPDATE of a logged event");

    // Only the table owner can do this, and the table is in the run's own database.
    await prisma.$executeRawUnsafe(
      `ALTER TABLE "SecurityEvent" DISABLE TRIGGER "SecurityEvent_append_only_row"`,
    );
    await prisma.$executeRaw`UPDATE "SecurityEvent" SET description = 'nothing happened' WHERE id = ${target.id}`;
    await prisma.$executeRawUnsafe(
      `ALTER TABLE "SecurityEvent" ENABLE TRIGGER "SecurityEvent_append_only_row"`,
    );
    console.log(`Edited event ${target.sequence} with the trigger disabled.`);
    const broken = await verifyChain(prisma);
    if (!broken.ok) {
      console.log(
        `verifyChain: broken at sequence ${broken.firstBrokenSequence} (${broken.kind}) after ${broken.count} valid events`,
      );
    }
    checks.check(
      !broken.ok &&
        broken.firstBrokenSequence === target.sequence &&
        broken.kind === "hash_mismatch",
      "verifyChain reports the edited event",
    );
  });

  return checks.finish();
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /SecurityEvent is append-only[^"`\n]*/.exec(message);
  return match ? match[0] : message.split("\n")[0];
}

if (isEntryPoint(import.meta.url)) void runExample(main);
