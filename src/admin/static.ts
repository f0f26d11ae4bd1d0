/**
 * The dashboard's static files. The dashboard directory is listed once, when the handler is
 * created, into a map from URL path to file: a request only ever looks a path up in that map,
 * so nothing outside the directory (and nothing added to it later) can be served, whatever the
 * request path says. Only regular files with a known type are listed; dotfiles, symlinks and
 * other extensions are left out.
 *
 * `index.html` is served at `/`, every file at `/assets/<path relative to the directory>`.
 * Answers carry `cache-control: no-cache` and a strong ETag (SHA-1 of the content), so a
 * browser revalidates each time and gets a 304 while the file is unchanged.
 */
import { createHash } from "node:crypto";
import { type Dirent, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpError } from "./errors.js";

/** Content types by extension; files with any other extension are not served. */
export const DASHBOARD_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** The URL prefix of the dashboard's files. */
export const ASSET_PREFIX = "/assets/";

/** Directory levels listed below the dashboard directory (a guard against odd trees). */
const MAX_DEPTH = 8;

interface DashboardFile {
  /** Absolute file system path. */
  readonly file: string;
  readonly type: string;
}

/** The dashboard's files as listed when the handler was created. */
export class DashboardFiles {
  /** Relative path (with `/`) → file. */
  readonly #files: ReadonlyMap<string, DashboardFile>;

  constructor(dir: URL) {
    const files = new Map<string, DashboardFile>();
    let root: string;
    try {
      root = fileURLToPath(dir);
    } catch {
      root = "";
    }
    if (root !== "") list(root, "", 0, files);
    this.#files = files;
  }

  /** The relative paths served under `/assets/`, sorted. */
  get paths(): readonly string[] {
    return [...this.#files.keys()].sort();
  }

  /**
   * Sends the file at `relative` (`index.html` for `/`), or throws a 404 {@link HttpError} if
   * it was not listed or can no longer be read.
   */
  async send(req: IncomingMessage, res: ServerResponse, relative: string): Promise<void> {
    const entry = this.#files.get(relative);
    if (entry === undefined)
      throw new HttpError(
        "NOT_FOUND",
        relative === "index.html"
          ? "The dashboard is not installed"
          : `No dashboard file ${ASSET_PREFIX}${relative}`,
      );
    let content: Buffer;
    try {
      // Read per request: the files are small, and an edited file shows without a restart.
      content = await readFile(entry.file);
    } catch {
      throw new HttpError("NOT_FOUND", `The dashboard file ${relative} is not installed`);
    }
    const etag = `"${createHash("sha1").update(content).digest("hex")}"`;
    const headers = {
      etag,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
    };
    if (matchesEtag(req.headers["if-none-match"], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      "content-type": entry.type,
      "content-length": String(content.length),
    });
    res.end(content);
  }
}

function list(dir: string, prefix: string, depth: number, into: Map<string, DashboardFile>): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // absent or unreadable: nothing to serve from here
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const file = join(dir, entry.name);
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory()) {
      if (depth < MAX_DEPTH) list(file, `${relative}/`, depth + 1, into);
    } else if (entry.isFile()) {
      const type = DASHBOARD_TYPES[extname(entry.name).toLowerCase()];
      if (type !== undefined) into.set(relative, { file, type });
    }
  }
}

/** `If-None-Match` (RFC 9110 §13.1.2: weak comparison, a list, or `*`) against `etag`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

/**
 * Where to send a browser that asked for the dashboard root of a mounted handler without the
 * trailing slash (Express `app.use("/admin", handler)` turns `/admin` into `req.url` `/`, but
 * `assets/app.js` would then resolve against `/`). `undefined` when no redirect is needed.
 *
 * The location is relative (`./admin/?query`), so it stays on the same origin whatever the
 * original URL holds.
 */
export function trailingSlashRedirect(req: IncomingMessage): string | undefined {
  const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
  if (typeof original !== "string" || original === "") return undefined;
  const queryAt = original.indexOf("?");
  const path = queryAt === -1 ? original : original.slice(0, queryAt);
  const search = queryAt === -1 ? "" : original.slice(queryAt);
  if (path === "" || path.endsWith("/")) return undefined;
  const last = path.slice(path.lastIndexOf("/") + 1);
  return `./${last}/${search}`;
}
