// `npm run audit:verify`: walks the security event hash chain of DATABASE_URL (or the embedded
// database) and prints the number of events verified, or the first event that breaks the chain.
// Exit code 0 when the chain is intact, 1 when it is broken or the check could not run.
import { ConfigError, loadConfig } from "@/lib/config";
import { createPrismaClient } from "@/lib/db";
import { resolveDatabase } from "@/lib/db/resolve";
import { verifyChain } from "@/lib/monitoring/chain";

let exitCode = 1;
try {
  const database = await resolveDatabase(loadConfig());
  const prisma = createPrismaClient(database.url);
  try {
    const result = await verifyChain(prisma);
    if (result.ok) {
      console.log(
        `Security event chain intact: ${result.count} events verified` +
          (result.headSequence === null
            ? "."
            : `, head sequence ${result.headSequence}, head hash ${result.headHash}.`),
      );
      console.log(
        "Deleting the newest events cannot be detected from the chain alone: compare the head " +
          "hash with a copy kept elsewhere.",
      );
      exitCode = 0;
    } else {
      const row = await prisma.securityEvent.findUnique({
        where: { sequence: result.firstBrokenSequence },
      });
      console.error(
        `Security event chain BROKEN at sequence ${result.firstBrokenSequence} (${result.kind}) ` +
          `after ${result.count} valid events: ${result.reason}`,
      );
      if (row) {
        console.error(
          `First breaking event: id ${row.id}, type ${row.type}, severity ${row.severity}, ` +
            `timestamp ${row.timestamp.toISOString()}, description ${JSON.stringify(row.description)}`,
        );
      }
    }
  } finally {
    await prisma.$disconnect();
    await database.embedded?.stop();
  }
} catch (error) {
  console.error(
    error instanceof ConfigError
      ? `Configuration error: ${error.message}`
      : `Chain verification failed to run: ${(error as Error).message}`,
  );
}
process.exit(exitCode);
