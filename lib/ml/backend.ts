/**
 * TensorFlow.js backend selection for Node.js.
 *
 * `@tensorflow/tfjs-node` (native TensorFlow) is not used, so the fast path is the WebAssembly
 * backend from `@tensorflow/tfjs-backend-wasm`. Its .wasm binaries are loaded from the package's
 * own dist folder, found with createRequire so that it works from any working directory. When
 * WebAssembly fails to start, training falls back to the pure JavaScript "cpu" backend, which is
 * several times slower but gives the same model, and a warning is logged.
 *
 * Until initTensorFlow has resolved, TensorFlow.js runs on its built-in "cpu" backend, so the
 * synchronous helpers (initialWeights, buildModel) work without it.
 */

import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { logger as defaultLogger } from "../logger";

export type BackendName = "wasm" | "cpu";

/** The part of a pino logger that this module uses. */
export interface WarningLogger {
  warn(object: object, message: string): void;
}

let initialization: Promise<BackendName> | undefined;

/**
 * Registers the WASM backend, or the "cpu" backend if WASM fails, and resolves to the backend in
 * use. Later calls return the first call's promise, so it is safe to await before every training.
 */
export function initTensorFlow(
  options: {
    logger?: WarningLogger;
    backend?: BackendName;
    /** Folder of the .wasm binaries, with a trailing separator; the package's dist by default. */
    wasmPath?: string;
  } = {},
): Promise<BackendName> {
  if (initialization !== undefined) return initialization;
  const requested = options.backend ?? "wasm";
  if (requested !== "wasm" && requested !== "cpu") {
    throw new RangeError(`backend: expected "wasm" or "cpu", got ${JSON.stringify(requested)}`);
  }
  if (options.wasmPath !== undefined && typeof options.wasmPath !== "string") {
    throw new TypeError(`wasmPath: expected a folder path, got ${String(options.wasmPath)}`);
  }
  initialization = selectBackend(
    requested,
    options.logger ?? defaultLogger,
    options.wasmPath ?? wasmDirectory(),
  );
  return initialization;
}

async function selectBackend(
  requested: BackendName,
  logger: WarningLogger,
  wasmPath: string,
): Promise<BackendName> {
  if (requested === "wasm") {
    try {
      // Imported here because importing the package registers "wasm" as the preferred backend,
      // and any tensor operation before the backend has finished loading would then throw.
      const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
      setWasmPaths(wasmPath);
      if (await tf.setBackend("wasm")) {
        await tf.ready();
        return "wasm";
      }
      logger.warn(
        { backend: "wasm", wasmPath },
        "the WASM backend did not initialise; training on cpu",
      );
    } catch (error) {
      logger.warn(
        { err: error, backend: "wasm", wasmPath },
        "the WASM backend failed; training on cpu",
      );
    }
  }
  if (!(await tf.setBackend("cpu"))) {
    throw new Error("TensorFlow.js could not initialise the cpu backend either");
  }
  await tf.ready();
  return "cpu";
}

/** Returns the dist folder of @tensorflow/tfjs-backend-wasm, with a trailing separator. */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageJson: unknown = require.resolve("@tensorflow/tfjs-backend-wasm/package.json");
  // Inside a Next.js server bundle require.resolve returns a module id (a number), not a path;
  // the package is then found from the working folder, where `npm start` runs the server.
  const packageDir =
    typeof packageJson === "string"
      ? path.dirname(packageJson)
      : path.join(process.cwd(), "node_modules", "@tensorflow", "tfjs-backend-wasm");
  return path.join(packageDir, "dist") + path.sep;
}
