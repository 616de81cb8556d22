// Runs `prisma generate` at install time. Generating needs no schema engine, but the CLI still
// tries to download one unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file; offline
// machines cannot download it, so point the variable at the Node binary when it is unset.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
