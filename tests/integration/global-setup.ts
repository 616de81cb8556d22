/**
 * Gives the integration tests a PostgreSQL server: the one in DATABASE_URL when set, otherwise an
 * embedded server of this run's own, in .qsfl/test-<pid> on a free port, started for the run and
 * removed after it (so two runs at once do not stop each other's server). Each test file creates
 * its own database on it (tests/helpers/database.ts).
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@/lib/db/embedded";
import { freePort } from "../helpers/processes";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide("adminDatabaseUrl", process.env.DATABASE_URL);
    return async () => {};
  }
  const home = path.resolve(".qsfl", `test-${process.pid}`);
  const embedded = await startEmbeddedPostgres(home, await freePort());
  project.provide("adminDatabaseUrl", embedded.adminUrl);
  return async () => {
    await embedded.stop();
    await rm(home, { recursive: true, force: true });
  };
}
