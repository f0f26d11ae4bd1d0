import { BackendUnavailableError } from "../../errors.js";
import { type Logger, safeLog } from "../../observability/logger.js";

/**
 * Retries `handshake` (the store's client reconnects meanwhile) until the store answers, or
 * throws `BackendUnavailableError` once `isClosed()` says the manager stopped.
 */
export async function untilAnswered(
  handshake: () => Promise<unknown>,
  isClosed: () => boolean,
  logger: Logger,
): Promise<void> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    if (isClosed())
      throw new BackendUnavailableError("the manager stopped before the store answered");
    try {
      await handshake();
      return;
    } catch (error) {
      safeLog(logger, "warn", { err: error }, "taskmill cannot reach the store yet; retrying");
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
