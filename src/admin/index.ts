/**
 * `taskmill/admin`: the admin HTTP API (also exported from `taskmill`).
 *
 * @packageDocumentation
 */
export type { AdminAuth, AdminPrincipal, AdminRole, AdminToken } from "./auth.js";
export type { AdminErrorBody, AdminErrorCode } from "./errors.js";
export type { RedactPayload } from "./exposure.js";
export { type AdminHandler, createAdminHandler } from "./handler.js";
export type {
  AdminErrorContext,
  AdminHandlerOptions,
  AdminServerOptions,
  MetricsSource,
} from "./options.js";
export { type AdminServer, createAdminServer } from "./server.js";
