/**
 * The split of the registered attacks into those one client can play by itself and the rest. The
 * omniscient attacks compute their update from the honest clients' updates of the round, and the
 * Sybil attack submits several updates per round, so neither fits a single participant.
 */

import { ATTACKS } from "../attacks/registry";

/** Attacks that one client cannot run, with the reason. */
export const SINGLE_CLIENT_UNSUPPORTED: Readonly<Record<string, string>> = Object.freeze({
  alie: "needs the honest clients' updates",
  ipm: "needs the honest clients' updates",
  "min-max": "needs the honest clients' updates",
  "min-sum": "needs the honest clients' updates",
  sybil: "submits several updates per round",
});

/** Names of the registered attacks that one client can run. */
export const SINGLE_CLIENT_ATTACKS: readonly string[] = Object.keys(ATTACKS).filter(
  (name) => !Object.hasOwn(SINGLE_CLIENT_UNSUPPORTED, name),
);
