/**
 * Runs every example as users run it, a child process of scripts/run-example.ts, and checks its
 * exit code, its success tally and one line that only a working example prints.
 *
 * The examples get the test server as DATABASE_URL, so each PostgreSQL example creates and drops
 * its own database there. One run goes through the embedded-server path instead, with a config
 * file whose home folder and port are this test's own, and checks that the server it started is
 * stopped and its database dropped.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EXAMPLES } from "@/examples";
import { startEmbeddedPostgres } from "@/lib/db/embedded";
import { freePort } from "../helpers/processes";

interface RunResult {
  code: number | null;
  output: string;
}

function runExample(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/run-example.ts", ...args], {
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

const adminUrl = inject("adminDatabaseUrl");
const testEnv = { ...process.env, DATABASE_URL: adminUrl, LOG_LEVEL: "error" };

/** A line each example prints only when its main step worked. */
const KEY_LINES: Record<string, RegExp> = {
  "key-exchange": /PASS X-Wing shared secrets match/,
  signatures: /PASS tampered message does not verify/,
  authentication: /suspicious_client after revocation: rejected/,
  detection: /PASS both attackers are quarantined/,
  shap: /PASS expected value \+ sum of SHAP values = score/,
  "federated-round": /client_5: score \d\.\d{3}, rejected/,
  aggregation: /PASS reputation-weighted model is closer to the honest mean/,
  "security-logging": /verifyChain: broken at sequence \d+ \(hash_mismatch\)/,
  metrics: /PASS downsampled history has at most 5 buckets/,
  alerts: /resolved: auth_failures gt 5/,
  "end-to-end": /Malicious detection rate: 2\/2/,
};

async function exampleDatabases(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'qsfl_example_%'",
    );
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

describe("examples", () => {
  let before: string[] = [];
  beforeAll(async () => {
    before = await exampleDatabases(adminUrl);
  });

  it("key lines cover every example", () => {
    expect(Object.keys(KEY_LINES).sort()).toEqual(EXAMPLES.map((e) => e.name).sort());
  });

  for (const example of EXAMPLES) {
    it(`${example.name} passes its checks`, async () => {
      const result = await runExample([example.name], testEnv);
      expect(result.code, result.output).toBe(0);
      expect(result.output, result.output).toMatch(/All \d+ checks passed\./);
      expect(result.output, result.output).toMatch(KEY_LINES[example.name]);
      expect(result.output, result.output).not.toMatch(/^FAIL /m);
    });
  }

  it("database examples drop their databases", async () => {
    expect(await exampleDatabases(adminUrl)).toEqual(before);
  });

  it("unknown name exits 2 with the list", async () => {
    const result = await runExample(["no-such-example"], testEnv);
    expect(result.code).toBe(2);
    expect(result.output).toContain('unknown example "no-such-example"');
    for (const example of EXAMPLES) expect(result.output).toContain(example.name);
  });

  it("--list prints every example", async () => {
    const result = await runExample(["--list"], testEnv);
    expect(result.code).toBe(0);
    const names = result.output
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[0]);
    expect(names).toEqual(EXAMPLES.map((e) => e.name));
  });

  describe("embedded server", () => {
    const home = mkdtempSync(path.join(tmpdir(), "qsfl-examples-"));
    // As root, PostgreSQL runs as the `postgres` user, which must be able to reach the data folder.
    chmodSync(home, 0o711);
    afterAll(() => {
      rmSync(home, { recursive: true, force: true });
    });

    it("is started, cleaned and stopped", async () => {
      const port = await freePort();
      const configFile = path.join(home, "config.yaml");
      const config = readFileSync("config/config.yaml", "utf8")
        .replace(/embeddedPort: \d+/, `embeddedPort: ${port}`)
        .replace(/^home: .*$/m, `home: ${path.join(home, "data")}`);
      writeFileSync(configFile, config);
      const env: Record<string, string | undefined> = { ...testEnv, QSFL_CONFIG: configFile };
      delete env.DATABASE_URL;

      const result = await runExample(["authentication"], env);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain(
        `embedded PostgreSQL on 127.0.0.1:${port}, started for this run`,
      );

      // Starting the server again succeeds only if the run stopped it, and shows what it left.
      const embedded = await startEmbeddedPostgres(path.join(home, "data"), port);
      try {
        expect(embedded.owned).toBe(true);
        expect(await exampleDatabases(embedded.adminUrl)).toEqual([]);
      } finally {
        await embedded.stop();
      }
    });
  });
});
