// `npm run migrate`: applies pending SQL migrations to DATABASE_URL (or the embedded database).
import { ConfigError, loadConfig } from "@/lib/config";
import { migrate } from "@/lib/db/migrate";
import { resolveDatabase } from "@/lib/db/resolve";

try {
  const database = await resolveDatabase(loadConfig());
  try {
    const result = await migrate(database.url);
    console.log(
      result.applied.length > 0
        ? `Applied ${result.applied.length} migrations: ${result.applied.join(", ")}`
        : `Database is up to date (${result.alreadyApplied.length} migrations applied earlier).`,
    );
  } finally {
    await database.embedded?.stop();
  }
} catch (error) {
  console.error(
    error instanceof ConfigError
      ? `Configuration error: ${error.message}`
      : (error as Error).message,
  );
  process.exit(1);
}
