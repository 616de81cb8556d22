// Runs the Next.js production build and records the source hash that `npm start` compares to
// decide whether the build is stale.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { writeBuildStamp } from "@/lib/system/build-stamp";

const require = createRequire(import.meta.url);
const nextBin = require.resolve("next/dist/bin/next");
const result = spawnSync(process.execPath, [nextBin, "build"], {
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
if (result.status !== 0) process.exit(result.status ?? 1);
writeBuildStamp();
