"use client";
/**
 * A line under a live panel: how often it refreshes, when its data was last fetched, and the
 * error if the last poll failed. The time appears only after hydration, because the server's
 * clock and the browser's differ.
 */
import { useEffect, useState } from "react";
import { formatTime } from "../format";

export function LiveStatus({
  updatedAt,
  error,
  live,
}: {
  updatedAt: number;
  error: Error | null;
  live: boolean;
}) {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  return (
    <p className="muted live-status">
      {live ? "Live: refreshing every 1.5 s." : "Refreshing every 10 s."}
      {mounted && ` Last update ${formatTime(new Date(updatedAt).toISOString())}.`}
      {error && (
        <span role="alert" className="error">
          {" "}
          Refresh failed: {error.message}
        </span>
      )}
    </p>
  );
}
