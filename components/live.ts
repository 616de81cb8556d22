"use client";
/**
 * Live data for the dashboard: each panel polls its JSON route under /api/dashboard with
 * react-query, every LIVE_INTERVAL_MS while something it shows is running and every
 * IDLE_INTERVAL_MS otherwise. The server component's first render is the initial data, so the
 * page shows data before any request.
 */
import { useQuery } from "@tanstack/react-query";

export const LIVE_INTERVAL_MS = 1_500;
export const IDLE_INTERVAL_MS = 10_000;

export class DashboardFetchError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "DashboardFetchError";
  }
}

export async function fetchDashboardJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  if (!response.ok) {
    let message = `${url} returned HTTP ${response.status}`;
    try {
      const body = (await response.json()) as { message?: string };
      if (body.message) message = body.message;
    } catch {
      // The body was not JSON; the status line is all there is.
    }
    throw new DashboardFetchError(response.status, message);
  }
  return (await response.json()) as T;
}

/**
 * Polls `url`, starting from `initialData`. `isLive` decides from the latest data whether to poll
 * at the fast interval.
 */
export function useLiveData<T>(
  url: string,
  initialData: T,
  isLive: (data: T) => boolean,
  enabled = true,
): { data: T; dataUpdatedAt: number; error: Error | null; refetch: () => void } {
  const query = useQuery({
    queryKey: [url],
    queryFn: () => fetchDashboardJson<T>(url),
    initialData,
    initialDataUpdatedAt: Date.now(),
    enabled,
    refetchInterval: (query) => {
      const data = query.state.data;
      return data !== undefined && isLive(data) ? LIVE_INTERVAL_MS : IDLE_INTERVAL_MS;
    },
  });
  return {
    data: query.data ?? initialData,
    dataUpdatedAt: query.dataUpdatedAt,
    error: query.error,
    refetch: () => void query.refetch(),
  };
}
