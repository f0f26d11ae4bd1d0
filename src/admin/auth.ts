/**
 * Who is calling: bearer tokens compared in constant time, or the application's own hook, or
 * (explicitly insecure) anyone on the loopback interface.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { InvalidOptionError } from "../errors.js";
import { isName } from "../validation.js";

/** `read` may call every GET route (SSE and `/metrics` included); `write` may call everything. */
export type AdminRole = "read" | "write";

/** An authenticated caller. */
export interface AdminPrincipal {
  readonly role: AdminRole;
  /** Shown nowhere by taskmill; for the application's own auditing. */
  readonly name?: string;
}

/** One accepted bearer token. Use long random values (e.g. 32 bytes from `randomBytes`). */
export interface AdminToken {
  readonly token: string;
  readonly role: AdminRole;
  readonly name?: string;
}

/**
 * How requests are authenticated: a list of bearer tokens, or a hook that inspects the request
 * and returns the caller (or `null`/`undefined` to answer 401).
 */
export type AdminAuth =
  | { readonly tokens: readonly AdminToken[] }
  | {
      readonly authenticate: (
        req: IncomingMessage,
      ) => AdminPrincipal | null | undefined | Promise<AdminPrincipal | null | undefined>;
    };

/** Resolves the caller of a request; `undefined` means unauthenticated. */
export type Authenticator = (req: IncomingMessage) => Promise<AdminPrincipal | undefined>;

interface StoredToken {
  readonly digest: Buffer;
  readonly principal: AdminPrincipal;
}

const ROLES: readonly AdminRole[] = ["read", "write"];

/** Builds the authenticator for the handler's options; throws on missing or bad auth options. */
export function createAuthenticator(
  auth: AdminAuth | undefined,
  insecureNoAuth: "loopback-only" | undefined,
): Authenticator {
  if (insecureNoAuth !== undefined && insecureNoAuth !== "loopback-only")
    throw new InvalidOptionError("insecureNoAuth", 'must be "loopback-only"', insecureNoAuth);
  if (auth === undefined || auth === null) {
    if (insecureNoAuth === undefined)
      throw new InvalidOptionError(
        "auth",
        'is required: give bearer tokens or an authenticate hook (or insecureNoAuth: "loopback-only" for local development)',
        auth,
      );
    const loopback: AdminPrincipal = { role: "write", name: "loopback" };
    return async (req) => (isLoopbackAddress(req.socket.remoteAddress) ? loopback : undefined);
  }
  if (insecureNoAuth !== undefined)
    throw new InvalidOptionError(
      "insecureNoAuth",
      "must not be combined with auth",
      insecureNoAuth,
    );
  if (typeof auth !== "object")
    throw new InvalidOptionError("auth", "must be { tokens } or { authenticate }", auth);
  if ("authenticate" in auth) {
    const hook = auth.authenticate;
    if (typeof hook !== "function")
      throw new InvalidOptionError("auth.authenticate", "must be a function", hook);
    return async (req) => {
      const principal = await hook(req);
      if (principal === null || principal === undefined) return undefined;
      // A hook returning a made-up role must not grant anything.
      return ROLES.includes(principal.role) ? principal : undefined;
    };
  }
  return tokenAuthenticator(auth.tokens);
}

/** Shorter tokens are accepted with a warning: 16 random characters are beyond guessing. */
const MIN_TOKEN_LENGTH = 16;

function tokenAuthenticator(tokens: readonly AdminToken[]): Authenticator {
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw new InvalidOptionError("auth.tokens", "must be a non-empty array", tokens);
  const stored: StoredToken[] = tokens.map((entry, index) => {
    const at = `auth.tokens[${index}]`;
    if (!isName(entry?.token))
      throw new InvalidOptionError(`${at}.token`, "must be a non-empty string", "(hidden)");
    if (!ROLES.includes(entry.role))
      throw new InvalidOptionError(`${at}.role`, 'must be "read" or "write"', entry.role);
    if (entry.token.length < MIN_TOKEN_LENGTH)
      process.emitWarning(
        `taskmill admin: ${at}.token is ${entry.token.length} characters long; a guessable token guards every write of the admin API (use ${MIN_TOKEN_LENGTH} or more random characters, e.g. randomBytes(32).toString("base64url"))`,
        { code: "TASKMILL_WEAK_ADMIN_TOKEN" },
      );
    return {
      digest: digest(entry.token),
      principal:
        entry.name === undefined ? { role: entry.role } : { role: entry.role, name: entry.name },
    };
  });
  return async (req) => {
    const presented = bearerToken(req);
    if (presented === undefined) return undefined;
    const candidate = digest(presented);
    let match: AdminPrincipal | undefined;
    // Every token is compared, matching or not, so timing tells nothing about which one matched;
    // comparing digests keeps the lengths equal, so it tells nothing about token lengths either.
    for (const token of stored)
      if (timingSafeEqual(token.digest, candidate) && match === undefined) match = token.principal;
    return match;
  };
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

/** Whether an address (as `socket.remoteAddress` or a listen host gives it) is loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const host = address.startsWith("::ffff:") ? address.slice(7) : address;
  return host === "::1" || host === "localhost" || /^127(\.\d{1,3}){3}$/.test(host);
}
