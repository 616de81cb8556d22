/** A short status label whose colour follows its meaning; the text always carries the status. */
const TONES: Record<string, string> = {
  running: "info",
  created: "neutral",
  completed: "ok",
  stopped: "neutral",
  open: "info",
  collecting: "info",
  aggregating: "info",
  published: "ok",
  failed: "bad",
  active: "ok",
  quarantined: "bad",
  revoked: "neutral",
  accepted: "ok",
  rejected: "bad",
  excluded: "warn",
  received: "info",
  low: "neutral",
  medium: "warn",
  high: "bad",
  critical: "bad",
  acknowledged: "warn",
  resolved: "ok",
};

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span className={`badge badge-${TONES[value] ?? "neutral"}`}>{label ?? value}</span>;
}
