/**
 * The changes that dashboard operators make, as plain functions of (prisma, actor, input). Each
 * one checks the current state, acts through lib/fl, lib/auth or lib/monitoring, and records the
 * change as an operator_action security event naming the operator.
 *
 * The event is written after the change commits, never inside the change's transaction:
 * SecurityEventLogger treats a Prisma 7 transaction client (which has $transaction) as a top-level
 * client and opens a nested transaction. Alert acknowledgements and resolutions are logged by
 * AlertManager itself.
 *
 * NOTE: if the event write after a commit fails, the change stays without its event. The action
 * then reports a server failure, and the server log has the error.
 *
 * Roles are not checked here: the server actions call requireRole with ACTION_ROLES first.
 */
import path from "node:path";
import { RevocationManager } from "../auth/credentials";
import { issueEnrollmentToken } from "../auth/enrollment";
import { createOperator } from "../auth/operators";
import { getServerKeys, parseMasterKey } from "../auth/server-keys";
import { type AppConfig, homeDir } from "../config";
import { createFederationFromSpec } from "../fl/create";
import { DEFAULT_DEMO_SETTINGS, launchDemoFederation } from "../fl/demo-runner";
import { startFederation, stopFederation } from "../fl/federation";
import type { Alert, AlertRule, PrismaClient, Severity } from "../generated/prisma/client";
import { initTensorFlow } from "../ml";
import { AlertManager } from "../monitoring/alerts";
import { SecurityEventLogger } from "../monitoring/security-events";
import type {
  AcknowledgeAlertInput,
  AlertRuleInput,
  ClientActionInput,
  CreateAccountInput,
  CreateFederationInput,
  FederationActionInput,
  IssueTokenInput,
  ResolveAlertInput,
} from "../validations/dashboard";
import { DashboardNotFoundError, DashboardStateError } from "./errors";
import type { DashboardRole } from "./permissions";

/** The signed-in operator performing an action. */
export interface Actor {
  id: string;
  email: string;
  role: DashboardRole;
}

/** Folder of the TensorFlow.js WASM binaries; `npm start` runs the web server from the root. */
const WASM_FOLDER = `${path.join(process.cwd(), "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist")}${path.sep}`;

/** Hidden layer of the "mlp" choice on the create form: the earlier system's 784-128-10 model. */
export const MLP_HIDDEN_UNITS = 128;

async function recordAction(
  prisma: PrismaClient,
  actor: Actor,
  action: string,
  details: Record<string, unknown>,
  severity: Severity = "low",
): Promise<void> {
  await new SecurityEventLogger(prisma).logOperatorAction(
    actor.id,
    action,
    { ...details, operatorEmail: actor.email },
    severity,
  );
}

export async function createFederationByOperator(
  prisma: PrismaClient,
  config: AppConfig,
  actor: Actor,
  input: CreateFederationInput,
): Promise<{ federationId: string; name: string }> {
  const serverKeys = await getServerKeys(prisma, parseMasterKey(process.env.QSFL_MASTER_KEY));
  // Inside the Next.js bundle require.resolve returns a module id, not a path, so initTensorFlow
  // cannot find the WASM binaries itself. The first call fixes the process's backend, and a
  // missing folder makes it fall back to "cpu", which is enough to draw initial weights.
  await initTensorFlow({ wasmPath: WASM_FOLDER });
  const modelSpec =
    input.architecture === "mlp"
      ? { architecture: "mlp", hidden: [MLP_HIDDEN_UNITS] }
      : { architecture: "dense_dropout" };
  const federation = await createFederationFromSpec(prisma, serverKeys, config, {
    name: input.name,
    modelSpec,
    plannedRounds: input.plannedRounds,
    minClients: input.minClients,
    roundTimeoutSeconds: input.roundTimeoutSeconds,
    settings: {
      aggregation: {
        rule: input.aggregationRule,
        clipping: input.clipping,
        ...(input.maxNorm === undefined ? {} : { maxNorm: input.maxNorm }),
      },
      detection: { anomalyThreshold: input.anomalyThreshold },
    },
    createdById: actor.id,
  });
  await recordAction(prisma, actor, "create federation", {
    federationId: federation.id,
    name: federation.name,
    modelSpec,
    plannedRounds: input.plannedRounds,
    minClients: input.minClients,
    roundTimeoutSeconds: input.roundTimeoutSeconds,
    aggregationRule: input.aggregationRule,
    clipping: input.clipping,
    anomalyThreshold: input.anomalyThreshold,
  });
  return { federationId: federation.id, name: federation.name };
}

export async function startFederationByOperator(
  prisma: PrismaClient,
  actor: Actor,
  input: FederationActionInput,
): Promise<{ roundNumber: number }> {
  const round = await startFederation(prisma, input.federationId);
  await recordAction(prisma, actor, "start federation", {
    federationId: input.federationId,
    roundId: round.id,
  });
  return { roundNumber: round.number };
}

export async function stopFederationByOperator(
  prisma: PrismaClient,
  actor: Actor,
  input: FederationActionInput,
): Promise<void> {
  const reason = input.reason ?? `stopped by ${actor.email}`;
  await stopFederation(prisma, input.federationId, reason);
  await recordAction(
    prisma,
    actor,
    "stop federation",
    { federationId: input.federationId, reason },
    "medium",
  );
}

export interface IssuedTokenView {
  tokenId: string;
  /** The whole token; shown once to the operator and never stored or logged. */
  token: string;
  expiresAt: string;
  clientId: string | null;
  federationId: string | null;
}

export async function issueEnrollmentTokenByOperator(
  prisma: PrismaClient,
  config: AppConfig,
  actor: Actor,
  input: IssueTokenInput,
): Promise<IssuedTokenView> {
  if (input.federationId !== undefined) {
    const federation = await prisma.federation.findUnique({ where: { id: input.federationId } });
    if (!federation) throw new DashboardNotFoundError("federation", input.federationId);
  }
  if (input.clientId !== undefined) {
    const existing = await prisma.client.findUnique({ where: { id: input.clientId } });
    if (existing?.status === "revoked") {
      throw new DashboardStateError(
        `client "${input.clientId}" is revoked and cannot enroll again; choose another client id`,
      );
    }
  }
  const issued = await issueEnrollmentToken(prisma, {
    ttlMinutes: config.security.enrollmentTokenTtlMinutes,
    clientId: input.clientId ?? null,
    federationId: input.federationId ?? null,
    createdById: actor.id,
  });
  await recordAction(prisma, actor, "issue enrollment token", {
    tokenId: issued.tokenId,
    clientId: issued.clientId,
    federationId: input.federationId ?? null,
    expiresAt: issued.expiresAt.toISOString(),
  });
  return {
    tokenId: issued.tokenId,
    token: issued.token,
    expiresAt: issued.expiresAt.toISOString(),
    clientId: issued.clientId,
    federationId: input.federationId ?? null,
  };
}

async function changeClientStatus(
  prisma: PrismaClient,
  actor: Actor,
  input: ClientActionInput,
  from: "active" | "quarantined",
  to: "active" | "quarantined",
  action: string,
): Promise<void> {
  // The status condition in the update makes two concurrent changes apply once.
  const changed = await prisma.client.updateMany({
    where: { id: input.clientId, status: from },
    data: {
      status: to,
      statusReason: `${action} by ${actor.email}: ${input.reason}`,
      statusChangedAt: new Date(),
    },
  });
  if (changed.count === 0) {
    const client = await prisma.client.findUnique({ where: { id: input.clientId } });
    if (!client) throw new DashboardNotFoundError("client", input.clientId);
    throw new DashboardStateError(
      `cannot ${action} client "${input.clientId}": it is ${client.status}, expected ${from}`,
    );
  }
  await recordAction(
    prisma,
    actor,
    `${action} client`,
    { clientId: input.clientId, reason: input.reason, previousStatus: from },
    "medium",
  );
}

/** Quarantines an active client: its next updates are scored but left out of aggregation. */
export async function quarantineClientByOperator(
  prisma: PrismaClient,
  actor: Actor,
  input: ClientActionInput,
): Promise<void> {
  await changeClientStatus(prisma, actor, input, "active", "quarantined", "quarantine");
}

/** Releases a quarantined client; the next round close releases it in the reputation state too. */
export async function releaseClientByOperator(
  prisma: PrismaClient,
  actor: Actor,
  input: ClientActionInput,
): Promise<void> {
  await changeClientStatus(prisma, actor, input, "quarantined", "active", "release");
}

/** Revokes every credential of a client; its next request is rejected with client_revoked. */
export async function revokeClientByOperator(
  prisma: PrismaClient,
  actor: Actor,
  input: ClientActionInput,
): Promise<{ credentialsRevoked: number }> {
  const client = await prisma.client.findUnique({ where: { id: input.clientId } });
  if (!client) throw new DashboardNotFoundError("client", input.clientId);
  if (client.status === "revoked") {
    throw new DashboardStateError(`client "${input.clientId}" is already revoked`);
  }
  const credentialsRevoked = await new RevocationManager(prisma).revokeCredential(
    input.clientId,
    `${input.reason} (revoked by ${actor.email})`,
  );
  await recordAction(
    prisma,
    actor,
    "revoke client",
    { clientId: input.clientId, reason: input.reason, credentialsRevoked },
    "high",
  );
  return { credentialsRevoked };
}

function alertManager(prisma: PrismaClient, config: AppConfig): AlertManager {
  return new AlertManager(prisma, { webhookUrl: config.monitoring.webhookUrl });
}

export async function acknowledgeAlertByOperator(
  prisma: PrismaClient,
  config: AppConfig,
  actor: Actor,
  input: AcknowledgeAlertInput,
): Promise<Alert> {
  return alertManager(prisma, config).acknowledgeAlert(input.alertId, actor.id, input.note);
}

export async function resolveAlertByOperator(
  prisma: PrismaClient,
  config: AppConfig,
  actor: Actor,
  input: ResolveAlertInput,
): Promise<Alert> {
  return alertManager(prisma, config).resolveAlert(input.alertId, actor.id, input.note ?? null);
}

/** Creates the rule, or replaces the rule of the same name. */
export async function saveAlertRuleByOperator(
  prisma: PrismaClient,
  config: AppConfig,
  actor: Actor,
  input: AlertRuleInput,
): Promise<AlertRule> {
  const existing = await prisma.alertRule.findUnique({ where: { name: input.name } });
  const rule = await alertManager(prisma, config).configureThreshold(
    input.metric,
    input.threshold,
    input.severity,
    {
      name: input.name,
      comparator: input.comparator,
      forSeconds: input.forSeconds,
      description: input.description ?? null,
      enabled: input.enabled,
    },
  );
  await recordAction(prisma, actor, existing ? "update alert rule" : "create alert rule", {
    ruleId: rule.id,
    name: rule.name,
    metric: rule.metric,
    comparator: rule.comparator,
    threshold: rule.threshold,
    severity: rule.severity,
    forSeconds: rule.forSeconds,
    enabled: rule.enabled,
  });
  return rule;
}

export async function createOperatorAccountByAdmin(
  prisma: PrismaClient,
  actor: Actor,
  input: CreateAccountInput,
): Promise<{ accountId: string; email: string }> {
  const existing = await prisma.user.findUnique({ where: { email: input.email } });
  if (existing) throw new DashboardStateError(`an account for ${input.email} already exists`);
  const account = await createOperator(prisma, {
    email: input.email,
    password: input.password,
    role: input.role,
    name: input.name,
  });
  await recordAction(
    prisma,
    actor,
    "create operator account",
    { accountId: account.id, email: account.email, role: account.role },
    "medium",
  );
  return { accountId: account.id, email: account.email };
}

/**
 * Starts the demo federation from the dashboard: the federation, its enrollment tokens and one
 * client process per client, which run detached and append their output to
 * <home>/demo-logs/<federation id>.log. The clients talk HTTP to this server's public URL.
 */
export async function runDemoFederationByOperator(
  prisma: PrismaClient,
  config: AppConfig,
  actor: Actor,
): Promise<{ federationId: string; name: string; logFile: string }> {
  const serverKeys = await getServerKeys(prisma, parseMasterKey(process.env.QSFL_MASTER_KEY));
  await initTensorFlow({ wasmPath: WASM_FOLDER });
  const serverUrl =
    process.env.NEXTAUTH_URL ?? `http://${config.server.host}:${config.server.port}`;
  const logDir = path.join(homeDir(config), "demo-logs");
  const pendingLog = path.join(logDir, `demo-${Date.now()}.log`);
  const launched = await launchDemoFederation(prisma, serverKeys, config, {
    serverUrl,
    settings: DEFAULT_DEMO_SETTINGS,
    clientOutput: pendingLog,
    createdById: actor.id,
  });
  await recordAction(prisma, actor, "run demo federation", {
    federationId: launched.federation.id,
    honest: launched.honest,
    malicious: launched.malicious,
    rounds: DEFAULT_DEMO_SETTINGS.rounds,
    attack: DEFAULT_DEMO_SETTINGS.attack,
    logFile: pendingLog,
  });
  return {
    federationId: launched.federation.id,
    name: launched.federation.name,
    logFile: pendingLog,
  };
}
