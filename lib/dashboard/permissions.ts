/**
 * The role each dashboard action needs. Server actions check it on the server with requireRole,
 * and pages use the same table to hide or disable the controls a role cannot use.
 */
export type DashboardRole = "admin" | "operator" | "viewer";

const RANK: Record<DashboardRole, number> = { viewer: 0, operator: 1, admin: 2 };

export const ACTION_ROLES = {
  createFederation: "operator",
  startFederation: "operator",
  stopFederation: "operator",
  runDemoFederation: "operator",
  issueEnrollmentToken: "operator",
  quarantineClient: "operator",
  releaseClient: "operator",
  revokeClient: "operator",
  acknowledgeAlert: "operator",
  resolveAlert: "operator",
  saveAlertRule: "operator",
  createOperatorAccount: "admin",
} as const satisfies Record<string, DashboardRole>;

export type DashboardAction = keyof typeof ACTION_ROLES;

/** Returns whether `role` may perform `action`. */
export function canPerform(role: DashboardRole, action: DashboardAction): boolean {
  return RANK[role] >= RANK[ACTION_ROLES[action]];
}

/** Returns the actions `role` may perform, for passing to client components as plain data. */
export function permittedActions(role: DashboardRole): Record<DashboardAction, boolean> {
  const entries = (Object.keys(ACTION_ROLES) as DashboardAction[]).map(
    (action) => [action, canPerform(role, action)] as const,
  );
  return Object.fromEntries(entries) as Record<DashboardAction, boolean>;
}
