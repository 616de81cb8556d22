/**
 * Decides whether the Next.js production build in .next is missing or older than the sources, by
 * hashing every file that goes into the build and comparing with the hash stored after the last
 * build.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const SOURCE_DIRS = ["app", "components", "lib", "types", "public"];
const SOURCE_FILES = [
  "next.config.ts",
  "package-lock.json",
  "tsconfig.json",
  "prisma/schema.prisma",
];
const SKIPPED_DIRS = new Set(["node_modules", "generated", ".next"]);
const STAMP_FILE = path.join(".next", "qsfl-source-hash");

export function sourceHash(root = process.cwd()): string {
  const hash = createHash("sha256");
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) collect(path.join(root, dir), files);
  for (const file of SOURCE_FILES)
    if (existsSync(path.join(root, file))) files.push(path.join(root, file));
  for (const file of files.sort()) {
    hash.update(path.relative(root, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export function isBuildCurrent(root = process.cwd()): boolean {
  const stamp = path.join(root, STAMP_FILE);
  if (!existsSync(path.join(root, ".next", "BUILD_ID")) || !existsSync(stamp)) return false;
  return readFileSync(stamp, "utf8").trim() === sourceHash(root);
}

export function writeBuildStamp(root = process.cwd()): void {
  writeFileSync(path.join(root, STAMP_FILE), `${sourceHash(root)}\n`);
}

function collect(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (SKIPPED_DIRS.has(entry)) continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) collect(full, out);
    else out.push(full);
  }
}
