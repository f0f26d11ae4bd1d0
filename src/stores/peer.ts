/**
 * Loads a store's client library, an optional peer dependency: only the services that use that
 * store install it. A missing one is a `MissingPeerError` that says what to install, not a raw
 * `ERR_MODULE_NOT_FOUND` at the first submit.
 */
import { MissingPeerError } from "../errors.js";

/**
 * `import(packageName)`, or `MissingPeerError` naming the package, the backend needing it and
 * what to install (`spec`, e.g. "better-sqlite3@12"; the package name by default).
 */
export async function importPeer<T>(
  packageName: string,
  backend: string,
  spec: string = packageName,
): Promise<T> {
  try {
    return (await import(packageName)) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      throw new MissingPeerError(packageName, backend, { cause: error, spec });
    throw error;
  }
}
