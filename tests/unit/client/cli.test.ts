import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "@/lib/client/cli";
import { initialWeights } from "@/lib/ml";
import { MockQsflServer } from "./mock-server";

const LAUNCHER = path.resolve("bin/qsfl-client.mjs");

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI through its launcher; asynchronous, so the mock server keeps answering. */
function runCli(args: string[], cwd = process.cwd()): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, ...args], {
      cwd,
      env: { ...process.env, LOG_LEVEL: "warn" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI's main() in this process, capturing what it writes; for fast usage checks. */
async function runMain(args: string[]): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("qsfl-client CLI", () => {
  it("--help documents every option", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    const options = [
      "server",
      "federation",
      "client-id",
      "token",
      "state-dir",
      "data",
      "validation-fraction",
      "partition",
      "alpha",
      "num-partitions",
      "partition-index",
      "partition-seed",
      "max-samples",
      "seed",
      "epochs",
      "batch-size",
      "attack",
      "attack-param",
      "pin-signing-key",
      "pin-kem-key",
      "timeout-ms",
      "max-retries",
      "poll-interval-ms",
      "max-rounds",
      "help",
    ];
    for (const option of options) expect(stdout).toMatch(new RegExp(`--${option}\\b`));
    expect(stdout).toMatch(/--timeout-ms MS .* in milliseconds \(default 30000\)/);
    expect(stdout).toMatch(/malicious-client/);
    expect(stdout).toMatch(/Exit codes: 0 done, 1 runtime failure, 2 usage error/);
  });

  it("usage errors exit with 2", async () => {
    const base = ["run", "--client-id", "c1", "--federation", "f1"];
    const cases: Array<[string[], RegExp]> = [
      [[], /missing command: expected enroll or run/],
      [["train"], /unknown command "train"/],
      [[...base, "--bogus"], /Unknown option '--bogus'/],
      [["run", "--federation", "f1"], /missing --client-id/],
      [["run", "--client-id", "bad id", "--federation", "f1"], /invalid --client-id "bad id"/],
      [[...base, "--server", "ftp://x"], /invalid --server "ftp:\/\/x"/],
      [[...base, "--partition", "dirichlet", "--alpha", "0"], /invalid --alpha "0"/],
      [[...base, "--num-partitions", "3"], /missing --partition-index/],
      [[...base, "--num-partitions", "3", "--partition-index", "3"], /expected 0 to 2/],
      [[...base, "--epochs", "1.5"], /invalid --epochs "1.5": expected an integer >= 1/],
      [[...base, "--attack", "nope"], /unknown --attack "nope"/],
      [[...base, "--attack", "alie"], /--attack alie needs the honest clients' updates/],
      [[...base, "--attack", "model-replacement"], /needs --attack-param numClients=N/],
      [[...base, "--attack", "scaling", "--attack-param", "lambda=big"], /expected a number/],
      [[...base, "--attack", "scaling", "--attack-param", "gamma=2"], /no parameter "gamma"/],
      [[...base, "--attack-param", "lambda=2"], /--attack-param needs --attack/],
      [[...base, "--data", "csv:x"], /invalid --data "csv:x"/],
      [[...base, "--pin-signing-key", "abc"], /invalid --pin-signing-key "abc"/],
      [["enroll", "--client-id", "c1"], /missing --token/],
    ];
    for (const [args, message] of cases) {
      const outcome = await runMain(args);
      expect(outcome.code, args.join(" ")).toBe(2);
      expect(outcome.stderr, args.join(" ")).toMatch(message);
      expect(outcome.stderr).toMatch(/Run qsfl-client --help for usage/);
      expect(outcome.stdout).toBe("");
    }
  });

  it("launcher passes the usage exit code", async () => {
    const outcome = await runCli(["run", "--client-id", "c1"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/missing --federation: the federation id/);
  });

  describe("against a server", () => {
    let server: MockQsflServer;
    const spec = { architecture: "mlp" as const, hidden: [8], localEpochs: 1 };

    beforeAll(async () => {
      server = new MockQsflServer();
      server.modelSpec = spec;
      await server.start();
      server.publishModel(0, initialWeights(spec, 3));
      server.openRound(1, 0);
      server.onAccepted = (update) => {
        const round = server.round;
        if (round === null) return;
        server.publishModel(round.number, update.weights);
        if (round.number < server.plannedRounds) {
          server.openRound(round.number + 1, round.number);
        } else {
          round.status = "published";
          server.federationStatus = "completed";
        }
      };
    });

    afterAll(async () => {
      await server.close();
    });

    it("run without enrollment exits with 1", async () => {
      const stateDir = mkdtempSync(path.join(tmpdir(), "qsfl-cli-"));
      const outcome = await runCli([
        "run",
        ...["--server", server.url, "--client-id", "c0", "--federation", server.federationId],
        ...["--state-dir", stateDir],
      ]);
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(/contains no enrollment for c0; pass --token/);
    });

    it("enrolls and runs to completion", async () => {
      const stateDir = mkdtempSync(path.join(tmpdir(), "qsfl-cli-"));
      const common = ["--server", server.url, "--client-id", "c1", "--state-dir", stateDir];
      const enroll = await runCli(["enroll", ...common, "--token", server.issueToken()]);
      expect(enroll.code, enroll.stderr).toBe(0);
      expect(enroll.stdout).toMatch(/enrolled c1: credential serial 1/);

      const run = await runCli([
        "run",
        ...common,
        ...["--federation", server.federationId, "--max-samples", "150", "--seed", "4"],
        ...["--num-partitions", "2", "--partition-index", "1", "--poll-interval-ms", "50"],
        ...["--attack", "scaling", "--attack-param", "lambda=2"],
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/data: 150 samples .* mnist, partition 1 of 2, iid, seed 0/);
      expect(run.stdout).toMatch(/round 1: trained model v0 on 150 samples .* \(attack scaling\)/);
      expect(run.stdout).toMatch(/round 1: update .* accepted, receipt verified/);
      expect(run.stdout).toMatch(/round 2: update .* accepted/);
      expect(run.stdout).toMatch(/federation completed; submitted 2 updates/);
      expect(server.updates.map((update) => update.clientId)).toEqual(["c1", "c1"]);
      expect(server.updates.map((update) => update.numSamples)).toEqual([150, 150]);
    });
  });
});
