import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GET } from "@/app/api/v1/openapi.json/route";

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return routeFiles(full);
    return entry === "route.ts" ? [full] : [];
  });
}

describe("openapi document", () => {
  it("is served as OpenAPI 3.1", async () => {
    const response = GET();
    expect(response.status).toBe(200);
    const document = await response.json();
    expect(document.openapi).toBe("3.1.0");
  });

  it("describes every client route", async () => {
    const document = await GET().json();
    const documented = Object.keys(document.paths);
    const routes = routeFiles("app/api/v1")
      .map((file) => `/${path.dirname(file)}`.replace(/^\/app/, "").replace(/\[(\w+)\]/g, "{$1}"))
      .filter((route) => route !== "/api/v1/openapi.json");
    expect(routes.length).toBeGreaterThanOrEqual(7);
    for (const route of routes) expect(documented, route).toContain(route);
  });
});
