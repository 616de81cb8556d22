/**
 * Anomaly detection on client updates: update features, isolation forest, per-round scoring,
 * exact TreeSHAP explanations and client reputation with quarantine.
 */

export * from "./checks";
export * from "./features";
export * from "./isolation-forest";
export * from "./reputation";
export * from "./round-detector";
export * from "./shap-explainer";
export * from "./tree-shap";
