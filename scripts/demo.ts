/**
 * `npm run demo`: a federation of separate client processes trains an MLP on real MNIST digits
 * through the signed, encrypted protocol while the server detects and excludes the poisoners.
 *
 * It reuses a running server or starts one (embedded database, web server, worker). It creates a
 * federation, issues one enrollment token per client and starts each client as its own process
 * talking HTTP. It prints each round as it is published and ends with the success criteria of
 * the earlier system, exiting 0 only when all of them hold. Without --keep-running it stops what
 * it started.
 */
import type { ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { getServerKeys, parseMasterKey } from "@/lib/auth/server-keys";
import { SINGLE_CLIENT_ATTACKS } from "@/lib/client/attack-support";
import { ConfigError, homeDir, loadConfig } from "@/lib/config";
import { createPrismaClient } from "@/lib/db";
import { type DemoSettings, launchDemoFederation } from "@/lib/fl/demo-runner";
import { stopFederation } from "@/lib/fl/federation";
import { buildRunReport, formatRoundLine, formatRunReport, roundLines } from "@/lib/fl/report";
import { ensureServer } from "@/lib/system/app-process";
import { loadOrCreateSecrets } from "@/lib/system/secrets";

const HELP = `Usage: npm run demo -- [options]

Runs a federated-learning demo on MNIST with honest and malicious client processes.

Options:
  --honest N            honest clients (default 6)
  --malicious N         malicious clients (default 2)
  --rounds N            training rounds (default 8)
  --attack NAME         attack of the malicious clients (default malicious-client: 20% of labels
                        flipped, then weights scaled by 1.5 plus Gaussian noise, sigma 0.05);
                        one of: ${SINGLE_CLIENT_ATTACKS.join(", ")}
  --partition KIND      iid or dirichlet (default iid)
  --alpha A             Dirichlet concentration for --partition dirichlet (default 0.5)
  --model NAME          mlp (784-128-10, default) or dense_dropout
  --epochs N            local epochs per round (default 1)
  --round-timeout S     seconds before a round closes without quorum (default 180)
  --seed N              seed of the partition, the attacks and the initial weights (default 1)
  --keep-running        leave the server up after the run, to inspect it in the dashboard
  --help                show this help
`;

interface DemoOptions extends DemoSettings {
  keepRunning: boolean;
}

function parseOptions(argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      honest: { type: "string", default: "6" },
      malicious: { type: "string", default: "2" },
      rounds: { type: "string", default: "8" },
      attack: { type: "string", default: "malicious-client" },
      partition: { type: "string", default: "iid" },
      alpha: { type: "string", default: "0.5" },
      model: { type: "string", default: "mlp" },
      epochs: { type: "string", default: "1" },
      "round-timeout": { type: "string", default: "180" },
      seed: { type: "string", default: "1" },
      "keep-running": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const integer = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`invalid --${name} "${value}": expected an integer >= ${min}`);
    return n;
  };
  if (!SINGLE_CLIENT_ATTACKS.includes(values.attack)) {
    throw new UsageError(
      `unsupported --attack "${values.attack}": a client process can run ${SINGLE_CLIENT_ATTACKS.join(", ")}`,
    );
  }
  if (values.partition !== "iid" && values.partition !== "dirichlet") {
    throw new UsageError(`invalid --partition "${values.partition}": use iid or dirichlet`);
  }
  if (values.model !== "mlp" && values.model !== "dense_dropout") {
    throw new UsageError(`invalid --model "${values.model}": use mlp or dense_dropout`);
  }
  const alpha = Number(values.alpha);
  if (!(alpha > 0))
    throw new UsageError(`invalid --alpha "${values.alpha}": expected a number > 0`);
  return {
    honest: integer("honest", values.honest, 1),
    malicious: integer("malicious", values.malicious, 0),
    rounds: integer("rounds", values.rounds, 1),
    attack: values.attack,
    partition: values.partition,
    alpha,
    model: values.model,
    epochs: integer("epochs", values.epochs, 1),
    roundTimeout: integer("round-timeout", values["round-timeout"], 10),
    seed: integer("seed", values.seed, 0),
    keepRunning: values["keep-running"],
  };
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const config = loadConfig();
  process.env.QSFL_MASTER_KEY ??= loadOrCreateSecrets(homeDir(config)).masterKey;

  const server = await ensureServer(config, {
    log: (line) => console.log(line),
    detached: options.keepRunning,
  });
  const prisma = createPrismaClient(server.databaseUrl);
  const clients: ChildProcess[] = [];
  let federationId: string | null = null;
  let interrupted = false;

  const cleanup = async () => {
    for (const child of clients) if (child.exitCode === null) child.kill("SIGTERM");
    if (federationId && interrupted) {
      await stopFederation(prisma, federationId, "demo interrupted").catch(() => {});
    }
    await prisma.$disconnect();
    if (!options.keepRunning || interrupted) await server.stop();
  };
  const onSignal = () => {
    interrupted = true;
    console.log("\nInterrupted; stopping the clients.");
    void cleanup().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    const serverKeys = await getServerKeys(prisma, parseMasterKey(process.env.QSFL_MASTER_KEY));
    const launched = await launchDemoFederation(prisma, serverKeys, config, {
      serverUrl: server.url,
      settings: options,
      clientOutput: "pipe",
    });
    const { federation, honest, malicious } = launched;
    federationId = federation.id;
    console.log(
      `Federation "${federation.name}" (${federation.id}): ${options.honest} honest and ${options.malicious} malicious clients, ${options.rounds} rounds.`,
    );
    console.log(`Dashboard: ${server.url}/federations/${federation.id}`);
    launched.clients.forEach((child, index) => {
      const prefix = `[${[...honest, ...malicious][index]}] `;
      const forward = (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n")) {
          if (line.trim()) process.stdout.write(`${prefix}${line}\n`);
        }
      };
      child.stdout?.on("data", forward);
      child.stderr?.on("data", forward);
      clients.push(child);
    });

    let printed = 0;
    for (;;) {
      const lines = await roundLines(prisma, federation.id);
      for (const line of lines.slice(printed)) console.log(formatRoundLine(line));
      printed = lines.length;
      const current = await prisma.federation.findUniqueOrThrow({ where: { id: federation.id } });
      if (current.status === "completed" || current.status === "stopped") break;
      if (clients.every((c) => c.exitCode !== null)) {
        throw new Error(
          "every client process exited before the federation completed; see their output above",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }

    const report = await buildRunReport(prisma, federation.id, { honest, malicious });
    console.log(formatRunReport(report));
    if (options.keepRunning)
      console.log(
        `\nThe server keeps running at ${server.url}; stop it with Ctrl-C in its terminal or kill ${server.child?.pid ?? "it"}.`,
      );
    return report.passed ? 0 : 1;
  } finally {
    if (!interrupted) await cleanup();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((error) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${HELP}`);
      process.exit(2);
    }
    console.error(
      error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : `Demo failed: ${(error as Error).message}`,
    );
    process.exit(1);
  });
