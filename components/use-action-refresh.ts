"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useCallback } from "react";

/** Returns a callback that refetches every live panel and the server components after an action. */
export function useActionRefresh(): () => void {
  const queryClient = useQueryClient();
  const router = useRouter();
  return useCallback(() => {
    void queryClient.invalidateQueries();
    router.refresh();
  }, [queryClient, router]);
}
