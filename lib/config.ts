/**
 * Configuration: config/config.yaml (or the file named by QSFL_CONFIG), validated with zod, with
 * environment variables layered on top. An invalid file or value raises ConfigError, whose message
 * names the key, the value found and what is expected.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const port = z.number().int().min(1).max(65535);
const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: port.default(3000),
      })
      .strict()
      .default({ host: "127.0.0.1", port: 3000 }),
    database: z
      .object({
        url: z
          .string()
          .refine((v) => v === "" || /^postgres(ql)?:\/\//.test(v), {
            message: "expected a postgresql:// URL, or an empty string for the embedded database",
          })
          .default(""),
        embeddedPort: port.default(54329),
      })
      .strict()
      .default({ url: "", embeddedPort: 54329 }),
    home: z.string().min(1).default(".qsfl"),
    logging: z
      .object({
        level: z
          .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
          .default("info"),
      })
      .strict()
      .default({ level: "info" }),
    security: z
      .object({
        credentialLifetimeDays: positiveInt.default(90),
        enrollmentTokenTtlMinutes: positiveInt.default(60),
        timestampSkewSeconds: positiveInt.default(300),
        maxUpdateBytes: positiveInt.default(64 * 1024 * 1024),
        sessionLifetimeSeconds: positiveInt.default(3600),
        sessionMaxUpdates: positiveInt.default(1000),
        allowServerGeneratedKeys: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    detection: z
      .object({
        anomalyThreshold: z.number().gt(0).lt(1).default(0.575),
        numTrees: positiveInt.default(300),
        subsampleSize: z.number().int().min(2).default(16),
        historyWindow: z.number().int().min(0).default(256),
        madThreshold: z.number().positive().default(3),
        seed: z.number().int().default(1),
      })
      .strict()
      .prefault({}),
    reputation: z
      .object({
        initialReputation: fraction.default(0.5),
        alpha: z.number().gt(0).max(1).default(0.3),
        quarantineThreshold: fraction.default(0.4),
        consecutiveAnomalyLimit: positiveInt.default(3),
        probationRounds: positiveInt.default(3),
        influenceFloor: z.number().min(0).lt(1).default(0.3),
        influenceExponent: z.number().positive().default(1),
      })
      .strict()
      .prefault({}),
    aggregation: z
      .object({
        rule: z
          .enum(["fedavg", "reputation", "median", "trimmed-mean", "krum", "multi-krum", "bulyan"])
          .default("reputation"),
        clipping: z.enum(["none", "fixed", "adaptive"]).default("adaptive"),
        clippingMultiplier: z.number().positive().default(3),
        maxNorm: z.number().positive().optional(),
        trimFraction: z.number().min(0).lt(0.5).default(0.2),
        byzantineCount: z.number().int().min(0).default(1),
        multiKrumSelect: positiveInt.optional(),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        adminEmail: z.string().email().default("admin@qsfl.local"),
        sessionMaxAgeSeconds: positiveInt.default(8 * 3600),
        maxFailedSignInsPerMinute: positiveInt.default(5),
      })
      .strict()
      .prefault({}),
    monitoring: z
      .object({
        sampleIntervalSeconds: positiveInt.default(15),
        alertEvaluationSeconds: positiveInt.default(30),
        webhookUrl: z
          .string()
          .refine((v) => v === "" || /^https?:\/\//.test(v), {
            message: "expected an http:// or https:// URL, or an empty string for none",
          })
          .default(""),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AppConfig = z.infer<typeof configSchema>;

/** Settings that only come from the environment, because they are secrets or per-process. */
/** Environment variables, as process.env or a plain object in tests. */
export type Environment = Record<string, string | undefined>;

export interface EnvironmentSettings {
  masterKey?: string;
  adminPassword?: string;
  nextAuthSecret?: string;
  metricsToken?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export const DEFAULT_CONFIG_PATH = "config/config.yaml";

export interface LoadConfigOptions {
  /** Path of the YAML file; defaults to $QSFL_CONFIG, then config/config.yaml. */
  path?: string;
  env?: Environment;
}

/** Loads, validates and returns the configuration (the earlier system's `load_config`). */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const file = options.path ?? env.QSFL_CONFIG ?? DEFAULT_CONFIG_PATH;
  let raw: unknown = {};
  if (existsSync(/* turbopackIgnore: true */ file)) {
    try {
      raw = parseYaml(readFileSync(/* turbopackIgnore: true */ file, "utf8")) ?? {};
    } catch (error) {
      throw new ConfigError(file, "(file)", `${file}: invalid YAML: ${(error as Error).message}`);
    }
  } else if (options.path ?? env.QSFL_CONFIG) {
    throw new ConfigError(file, "(file)", `${file}: configuration file not found`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, "(file)", `${file}: expected a YAML mapping at the top level`);
  }
  const merged = applyEnvironment(structuredClone(raw) as Record<string, unknown>, env, file);
  return parseConfig(merged, file);
}

/** Validates an already-parsed configuration object; `source` names it in errors. */
export function parseConfig(raw: unknown, source = "configuration"): AppConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let key = issue.path.join(".");
  let found = valueAt(raw, issue.path);
  if (issue.code === "unrecognized_keys") {
    const unknownKey = issue.keys[0];
    key = [...issue.path, unknownKey].join(".");
    found = valueAt(raw, [...issue.path, unknownKey]);
    throw new ConfigError(
      source,
      key,
      `${source}: unknown key "${key}" (value ${describe(found)}); check its spelling or remove it`,
    );
  }
  throw new ConfigError(
    source,
    key,
    `${source}: invalid value for "${key}": found ${describe(found)}, ${issue.message}`,
  );
}

function applyEnvironment(
  raw: Record<string, unknown>,
  env: Environment,
  source: string,
): Record<string, unknown> {
  const section = (name: string): Record<string, unknown> => {
    const value = raw[name];
    if (value === undefined || value === null) {
      raw[name] = {};
    } else if (typeof value !== "object" || Array.isArray(value)) {
      throw new ConfigError(
        source,
        name,
        `${source}: "${name}" must be a mapping, found ${describe(value)}`,
      );
    }
    return raw[name] as Record<string, unknown>;
  };
  if (env.DATABASE_URL) section("database").url = env.DATABASE_URL;
  if (env.PORT) section("server").port = envNumber("PORT", env.PORT);
  if (env.HOST) section("server").host = env.HOST;
  if (env.QSFL_HOME) raw.home = env.QSFL_HOME;
  if (env.LOG_LEVEL) section("logging").level = env.LOG_LEVEL;
  if (env.QSFL_ADMIN_EMAIL) section("auth").adminEmail = env.QSFL_ADMIN_EMAIL;
  return raw;
}

function envNumber(name: string, value: string): number | string {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) {
    throw new ConfigError(
      "environment",
      name,
      `environment: invalid ${name}: found "${value}", expected a number`,
    );
  }
  return parsed;
}

export function environmentSettings(env: Environment = process.env): EnvironmentSettings {
  return {
    masterKey: env.QSFL_MASTER_KEY || undefined,
    adminPassword: env.QSFL_ADMIN_PASSWORD || undefined,
    nextAuthSecret: env.NEXTAUTH_SECRET || undefined,
    metricsToken: env.QSFL_METRICS_TOKEN || undefined,
  };
}

/** Returns the absolute path of the project-local data folder. */
export function homeDir(config: AppConfig): string {
  return path.resolve(config.home);
}

function valueAt(raw: unknown, keys: readonly PropertyKey[]): unknown {
  let current = raw;
  for (const key of keys) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

let cached: AppConfig | undefined;

/** Returns the process's configuration, loading it once. */
export function getConfig(): AppConfig {
  cached ??= loadConfig();
  return cached;
}
