/**
 * The product's main job in CI: `npm run demo` with five client processes (four honest, one
 * scaling attacker) training on MNIST for three rounds over real HTTP, against a server and an
 * embedded PostgreSQL that the demo starts and stops itself.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/processes";

describe("federation end to end", () => {
  it("accuracy rises and the attacker is quarantined", async () => {
    const home = mkdtempSync(path.join(tmpdir(), "qsfl-e2e-"));
    chmodSync(home, 0o755);
    const configFile = path.join(home, "config.yaml");
    writeFileSync(
      configFile,
      readFileSync("config/config.yaml", "utf8")
        .replace(/port: 3000/, `port: ${await freePort()}`)
        .replace(/embeddedPort: \d+/, `embeddedPort: ${await freePort()}`)
        .replace(/^home: .*$/m, `home: ${path.join(home, "data")}`),
    );
    const env: Record<string, string | undefined> = {
      ...process.env,
      QSFL_CONFIG: configFile,
      LOG_LEVEL: "warn",
    };
    delete env.DATABASE_URL;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "scripts/demo.ts",
        "--honest",
        "4",
        "--malicious",
        "1",
        "--attack",
        "scaling",
        "--rounds",
        "3",
      ],
      { env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

    const rounds = [
      ...output.matchAll(
        /^round (\d+): (\d+) accepted, (\d+) rejected, (\d+) excluded, test accuracy ([\d.]+)%/gm,
      ),
    ];
    expect(rounds.length, output.slice(-4000)).toBe(3);
    const accuracies = rounds.map((m) => Number(m[5]));
    expect(accuracies[2]).toBeGreaterThan(accuracies[0]);
    expect(accuracies[2]).toBeGreaterThan(80);
    expect(output).toMatch(/\[PASS\] at least 80% of malicious clients quarantined: 1 of 1/);
    expect(output).toMatch(/\[PASS\] at most 10% of honest clients quarantined: 0 of 4/);
    expect(output).toMatch(/\[PASS\] accuracy improved over the first round/);
    for (const round of rounds)
      expect(Number(round[3]) + Number(round[4]), round[0]).toBeGreaterThanOrEqual(1);
    expect(code, output.slice(-2000)).toBe(output.includes("All criteria hold.") ? 0 : 1);
  });
});
