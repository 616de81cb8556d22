/** Typed errors of lib/monitoring, which route handlers map to HTTP status codes. */
import type { AlertState } from "../generated/prisma/client";

/** The alert id matches no alert (HTTP 404). */
export class AlertNotFoundError extends Error {
  constructor(readonly alertId: string) {
    super(`alert ${alertId} not found`);
    this.name = "AlertNotFoundError";
  }
}

/** The requested lifecycle step is not allowed from the alert's current state (HTTP 409). */
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
