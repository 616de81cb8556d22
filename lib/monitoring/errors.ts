/** Typed errors of lib/monitoring, each documented with the HTTP status a route should return. */
import type { AlertState } from "../generated/prisma/client";

/** Error for an alert id that matches no alert (HTTP 404). */
export class AlertNotFoundError extends Error {
  constructor(readonly alertId: string) {
    super(`alert ${alertId} not found`);
    this.name = "AlertNotFoundError";
  }
}

/** Error for a lifecycle step that the alert's current state does not allow (HTTP 409). */
export class AlertTransitionError extends Error {
  constructor(
    readonly alertId: string,
    readonly state: AlertState,
    readonly action: "acknowledge" | "resolve",
    readonly allowedStates: readonly AlertState[],
  ) {
    super(
      `cannot ${action} alert ${alertId}: it is ${state}, expected ${allowedStates.join(" or ")}`,
    );
    this.name = "AlertTransitionError";
  }
}
