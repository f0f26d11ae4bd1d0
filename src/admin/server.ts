/** `createAdminServer`: the admin handler on its own HTTP or HTTPS listener. */
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { InvalidOptionError } from "../errors.js";
import type { TaskManager } from "../task-manager.js";
import { requireIntegerIn, requireName } from "../validation.js";
import { isLoopbackAddress } from "./auth.js";
import { type AdminHandler, createAdminHandler } from "./handler.js";
import type { AdminServerOptions } from "./options.js";

/** A listening admin server. */
export interface AdminServer {
  /** Base URL, e.g. `http://127.0.0.1:43125` (`https://` with TLS). */
  readonly url: string;
  /** The port listened on (the free one picked when `port` was 0). */
  readonly port: number;
  /** The handler serving requests (its `close()` ends SSE streams). */
  readonly handler: AdminHandler;
  /** Ends SSE streams, closes the listener and every connection. Idempotent; never throws. */
  close(): Promise<void>;
}

/**
 * Starts the admin API on `host:port` (default `127.0.0.1`, a free port); HTTPS when `https`
 * options are given.
 *
 * @example
 * ```ts
 * const admin = await createAdminServer(mill, {
 *   port: 8080,
 *   auth: { tokens: [{ token: process.env.TASKMILL_TOKEN!, role: "write" }] },
 * });
 * console.log(admin.url);
 * ```
 * @throws InvalidOptionError for missing auth, an invalid option, or `insecureNoAuth` with a
 * non-loopback `host`.
 */
export async function createAdminServer(
  mill: TaskManager,
  options: AdminServerOptions,
): Promise<AdminServer> {
  const host = options?.host ?? "127.0.0.1";
  requireName("host", host, InvalidOptionError);
  const port = options?.port ?? 0;
  requireIntegerIn("port", port, 0, 65_535, InvalidOptionError);
  const handler = createAdminHandler(mill, options);
  if (options.auth === undefined && !isLoopbackAddress(host))
    throw new InvalidOptionError(
      "host",
      'must be a loopback address (127.0.0.1, ::1, localhost) with insecureNoAuth: "loopback-only"',
      host,
    );
  const tls = options.https !== undefined;
  if (!tls && !isLoopbackAddress(host))
    process.emitWarning(
      `taskmill admin: listening on ${host} over plain HTTP: bearer tokens and payloads cross the network in clear text (give https options, or put a TLS proxy in front and bind to 127.0.0.1)`,
      { code: "TASKMILL_ADMIN_PLAIN_HTTP" },
    );
  const server: Server = tls
    ? createHttpsServer(options.https ?? {}, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `${tls ? "https" : "http"}://${host === "localhost" ? host : shownHost}:${address.port}`,
    port: address.port,
    handler,
    close() {
      closing ??= new Promise<void>((resolve) => {
        handler.close();
        server.close(() => resolve());
        // SSE streams and idle keep-alive sockets would otherwise hold `close` open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
