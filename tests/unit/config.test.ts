import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "@/lib/config";

function writeConfig(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "qsfl-config-"));
  const file = path.join(dir, "config.yaml");
  writeFileSync(file, text);
  return file;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("loads the shipped config file", () => {
    const config = loadConfig({ path: "config/config.yaml", env: {} });
    expect(config.server.port).toBe(3000);
    expect(config.detection.anomalyThreshold).toBe(0.575);
    expect(config.security.allowServerGeneratedKeys).toBe(false);
    expect(config.database.url).toBe("");
  });

  it("fills defaults for an empty file", () => {
    const config = loadConfig({ path: writeConfig(""), env: {} });
    expect(config.server.host).toBe("127.0.0.1");
    expect(config.security.maxUpdateBytes).toBe(64 * 1024 * 1024);
    expect(config.aggregation.rule).toBe("reputation");
  });

  it("environment overrides the file", () => {
    const config = loadConfig({
      path: writeConfig("server:\n  port: 3000\n"),
      env: { PORT: "4100", DATABASE_URL: "postgresql://u@127.0.0.1:5432/x", QSFL_HOME: "/tmp/h" },
    });
    expect(config.server.port).toBe(4100);
    expect(config.database.url).toBe("postgresql://u@127.0.0.1:5432/x");
    expect(config.home).toBe("/tmp/h");
  });

  const invalid: {
    name: string;
    yaml: string;
    key: string;
    found: RegExp;
    env?: Record<string, string | undefined>;
  }[] = [
    {
      name: "wrong type",
      yaml: "server:\n  port: abc\n",
      key: "server.port",
      found: /found "abc"/,
    },
    {
      name: "out of range",
      yaml: "server:\n  port: 70000\n",
      key: "server.port",
      found: /found 70000/,
    },
    {
      name: "not an integer",
      yaml: "security:\n  timestampSkewSeconds: 1.5\n",
      key: "security.timestampSkewSeconds",
      found: /found 1.5/,
    },
    {
      name: "negative size",
      yaml: "security:\n  maxUpdateBytes: -1\n",
      key: "security.maxUpdateBytes",
      found: /found -1/,
    },
    {
      name: "unknown enum value",
      yaml: "aggregation:\n  rule: average\n",
      key: "aggregation.rule",
      found: /found "average"/,
    },
    {
      name: "threshold outside (0, 1)",
      yaml: "detection:\n  anomalyThreshold: 1.5\n",
      key: "detection.anomalyThreshold",
      found: /found 1.5/,
    },
    {
      name: "bad database URL",
      yaml: "database:\n  url: mysql://x\n",
      key: "database.url",
      found: /found "mysql:\/\/x".*postgresql:\/\//s,
    },
    {
      name: "unknown key",
      yaml: "server:\n  prot: 3000\n",
      key: "server.prot",
      found: /unknown key "server.prot"/,
    },
    { name: "section not a mapping", yaml: "server: 5\n", key: "server", found: /found 5/ },
    {
      name: "bad environment PORT",
      yaml: "",
      key: "PORT",
      found: /found "eighty"/,
      env: { PORT: "eighty" },
    },
  ];

  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      const error = configError(() => loadConfig({ path: writeConfig(c.yaml), env: c.env ?? {} }));
      expect(error.key).toBe(c.key);
      expect(error.message).toContain(c.key);
      expect(error.message).toMatch(c.found);
    });
  }

  it("rejects invalid YAML", () => {
    const error = configError(() =>
      loadConfig({ path: writeConfig("server: [unclosed\n"), env: {} }),
    );
    expect(error.message).toMatch(/invalid YAML/);
  });

  it("rejects a missing named file", () => {
    const error = configError(() => loadConfig({ path: "/nonexistent/qsfl.yaml", env: {} }));
    expect(error.message).toMatch(/not found/);
  });

  it("parseConfig names the source", () => {
    const error = configError(() => parseConfig({ logging: { level: "loud" } }, "settings form"));
    expect(error.message).toMatch(
      /^settings form: invalid value for "logging.level": found "loud"/,
    );
  });
});
