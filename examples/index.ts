/**
 * The list of examples that `npm run example -- <name>` runs, in the order of the earlier
 * system's usage document. Modules load on demand, so listing them imports neither TensorFlow.js
 * nor the database client.
 */
import type { ExampleMain } from "./support";

export interface ExampleEntry {
  name: string;
  description: string;
  /** True when the example creates a throwaway PostgreSQL database. */
  needsDatabase: boolean;
  load: () => Promise<{ main: ExampleMain }>;
}

export const EXAMPLES: readonly ExampleEntry[] = [
  {
    name: "key-exchange",
    description: "ML-KEM-768 and X-Wing encapsulation and decapsulation",
    needsDatabase: false,
    load: () => import("./key-exchange"),
  },
  {
    name: "signatures",
    description: "ML-DSA-65 signatures with context strings, and tampered messages that fail",
    needsDatabase: false,
    load: () => import("./signatures"),
  },
  {
    name: "authentication",
    description: "client registration, authentication and revocation",
    needsDatabase: true,
    load: () => import("./authentication"),
  },
  {
    name: "detection",
    description: "isolation forest and round detector on normal and malicious updates",
    needsDatabase: false,
    load: () => import("./detection"),
  },
  {
    name: "shap",
    description: "TreeSHAP explanation of a suspicious update's anomaly score",
    needsDatabase: false,
    load: () => import("./shap"),
  },
  {
    name: "federated-round",
    description: "QSFLServer rounds with signed, encrypted updates and one attacker",
    needsDatabase: true,
    load: () => import("./federated-round"),
  },
  {
    name: "aggregation",
    description: "reputation-weighted aggregation against equal weights",
    needsDatabase: false,
    load: () => import("./aggregation"),
  },
  {
    name: "security-logging",
    description: "hash-chained security event log, queries and tamper detection",
    needsDatabase: true,
    load: () => import("./security-logging"),
  },
  {
    name: "metrics",
    description: "recording metrics and reading their history",
    needsDatabase: true,
    load: () => import("./metrics"),
  },
  {
    name: "alerts",
    description: "threshold rules, alert acknowledgement and resolution",
    needsDatabase: true,
    load: () => import("./alerts"),
  },
  {
    name: "end-to-end",
    description: "MNIST federation with honest and malicious clients over five rounds",
    needsDatabase: true,
    load: () => import("./end-to-end"),
  },
];

export function findExample(name: string): ExampleEntry | undefined {
  return EXAMPLES.find((example) => example.name === name);
}
