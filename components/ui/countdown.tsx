"use client";
/**
 * Time left until a deadline, ticking every second. The server render and the first client render
 * show the deadline itself, and the ticking starts after hydration, so both renders match.
 */
import { useEffect, useState } from "react";
import { formatDuration, formatTime } from "../format";

export function Countdown({ deadline }: { deadline: string }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (now === null) return <span>until {formatTime(deadline)}</span>;
  const left = new Date(deadline).getTime() - now;
  return (
    <span title={formatTime(deadline)}>
      {left > 0 ? `${formatDuration(left)} left` : "deadline passed"}
    </span>
  );
}
