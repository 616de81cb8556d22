/**
 * Gives the integration tests a PostgreSQL server: the one in DATABASE_URL when set, otherwise an
 * embedded server in .qsfl/test-postgres, started for the run and stopped after it. Each test
 * file creates its own database on it (tests/helpers/database.ts).
 */
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@/lib/db/embedded";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

const TEST_EMBEDDED_PORT = 54339;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide("adminDatabaseUrl", process.env.DATABASE_URL);
    return async () => {};
  }
  const home = path.resolve(".qsfl", "test");
  const embedded = await startEmbeddedPostgres(home, TEST_EMBEDDED_PORT);
  project.provide("adminDatabaseUrl", embedded.adminUrl);
  return async () => {
    await embedded.stop();
  };
}
