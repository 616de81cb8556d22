/**
 * The demo federation: a federation on the MLP and MNIST, one enrollment token per client, and
 * each client started as its own operating-system process (the `qsfl-client` CLI) that talks
 * HTTP to the server. Used by `npm run demo` and by the dashboard's "Run the demo" action.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { issueEnrollmentToken } from "../auth/enrollment";
import type { ServerKeys } from "../auth/server-keys";
import type { AppConfig } from "../config";
import type { Federation, PrismaClient } from "../generated/prisma/client";
import { createFederationFromSpec } from "./create";
import { startFederation } from "./federation";

export interface DemoSettings {
  honest: number;
  malicious: number;
  rounds: number;
  /** Name of an attack of the attack library, used by every malicious client. */
  attack: string;
  partition: "iid" | "dirichlet";
  alpha: number;
  model: "mlp" | "dense_dropout";
  epochs: number;
  /** Seconds before a round closes without quorum. */
  roundTimeout: number;
  seed: number;
}

/** The earlier system's integration example: 6 honest and 2 malicious clients, 8 rounds. */
export const DEFAULT_DEMO_SETTINGS: DemoSettings = {
  honest: 6,
  malicious: 2,
  rounds: 8,
  attack: "malicious-client",
  partition: "iid",
  alpha: 0.5,
  model: "mlp",
  epochs: 1,
  roundTimeout: 180,
  seed: 1,
};

export interface LaunchedDemo {
  federation: Federation;
  honest: string[];
  malicious: string[];
  clients: ChildProcess[];
}

export interface LaunchOptions {
  serverUrl: string;
  settings: DemoSettings;
  /**
   * "pipe": the caller reads each client's output. A file path: every client appends its output
   * there and runs detached, so it outlives the process that started it (the web server's
   * request, say).
   */
  clientOutput: "pipe" | string;
  createdById?: string | null;
}

/** Creates and starts the demo federation and starts one process per client. */
export async function launchDemoFederation(
  prisma: PrismaClient,
  serverKeys: ServerKeys,
  config: AppConfig,
  options: LaunchOptions,
): Promise<LaunchedDemo> {
  const { settings } = options;
  const total = settings.honest + settings.malicious;
  const federation = await createFederationFromSpec(prisma, serverKeys, config, {
    name: `demo ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}`,
    modelSpec: { architecture: settings.model, localEpochs: settings.epochs },
    plannedRounds: settings.rounds,
    minClients: total,
    roundTimeoutSeconds: settings.roundTimeout,
    seed: settings.seed,
    createdById: options.createdById,
  });

  const honest = Array.from({ length: settings.honest }, (_, i) => `honest-${i + 1}`);
  const malicious = Array.from({ length: settings.malicious }, (_, i) => `malicious-${i + 1}`);
  const ids = [...honest, ...malicious];
  const tokens: string[] = [];
  for (const clientId of ids) {
    const issued = await issueEnrollmentToken(prisma, {
      ttlMinutes: 30,
      clientId,
      federationId: federation.id,
    });
    tokens.push(issued.token);
  }
  await startFederation(prisma, federation.id);

  const stateRoot = mkdtempSync(path.join(tmpdir(), "qsfl-demo-clients-"));
  let logFd: number | undefined;
  if (options.clientOutput !== "pipe") {
    mkdirSync(path.dirname(options.clientOutput), { recursive: true });
    logFd = openSync(options.clientOutput, "a");
  }
  const clients = ids.map((clientId, index) => {
    const args = [
      "--import",
      "tsx",
      path.resolve("lib/client/cli.ts"),
      "run",
      "--server",
      options.serverUrl,
      "--federation",
      federation.id,
      "--client-id",
      clientId,
      "--token",
      tokens[index],
      "--state-dir",
      path.join(stateRoot, clientId),
      "--data",
      "mnist",
      "--partition",
      settings.partition,
      "--num-partitions",
      String(total),
      "--partition-index",
      String(index),
      "--seed",
      String(settings.seed),
    ];
    if (settings.partition === "dirichlet") args.push("--alpha", String(settings.alpha));
    if (malicious.includes(clientId)) args.push("--attack", settings.attack);
    if (logFd === undefined)
      return spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", logFd, logFd],
      detached: true,
    });
    child.unref();
    return child;
  });
  return { federation, honest, malicious, clients };
}
