/** Typed errors of lib/dashboard; the route handlers and server actions map them in one place. */

/** The federation, round, client or alert named in a request does not exist (HTTP 404). */
export class DashboardNotFoundError extends Error {
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {
    super(`${kind} ${id} not found`);
    this.name = "DashboardNotFoundError";
  }
}

/** The action does not apply to the current state, such as releasing a revoked client (HTTP 409). */
export class DashboardStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DashboardStateError";
  }
}
