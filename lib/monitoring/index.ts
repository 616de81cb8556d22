export * from "./alerts";
export * from "./chain";
export * from "./errors";
export * from "./metrics";
export * from "./process-metrics";
export * from "./security-events";
export * from "./summary";
export * from "./webhook";
