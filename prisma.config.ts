import { defineConfig } from "prisma/config";

// Only the CLI reads this file. `prisma generate` needs no database; `prisma migrate` is optional
// here because lib/db/migrate.ts applies prisma/migrations/ itself (see docs/migrations.md).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/qsfl" },
});
