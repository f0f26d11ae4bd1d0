import {
  BackendUnavailableError,
  IncompatibleStoreError,
  InvalidOptionError,
} from "../../errors.js";
import { type Logger, safeLog } from "../../observability/logger.js";

/**
 * Retries `handshake` (the store's client reconnects meanwhile) until the store answers, or
 * throws `BackendUnavailableError` once `isClosed()` says the manager stopped. An
 * `InvalidOptionError` (the store answered, and said the options cannot work with it, e.g. a
 * database number it does not have) and an `IncompatibleStoreError` (data of the other Redis
 * key layout) are thrown at once: retrying would never heal them.
 */
export async function untilAnswered(
  handshake: () => Promise<unknown>,
  isClosed: () => boolean,
  logger: Logger,
  onFailure: (error: unknown) => void = () => {},
): Promise<void> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    if (isClosed())
      throw new BackendUnavailableError("the manager stopped before the store answered");
    try {
      await handshake();
      return;
    } catch (error) {
      // Refused for good (a bad option, data of another layout): retrying cannot help.
      if (error instanceof InvalidOptionError || error instanceof IncompatibleStoreError)
        throw error;
      onFailure(error);
      safeLog(logger, "warn", { err: error }, "taskmill cannot reach the store yet; retrying");
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
