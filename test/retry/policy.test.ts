import { PermanentError } from "taskmill";
import { describe, expect, it } from "vitest";
import { decideRetry, isLastAttempt, isPermanent } from "../../src/retry/policy.js";
import { record } from "../support/record.js";

describe("retry policy", () => {
  it("retries until attempts exceed maxRetries, with the backoff delay", () => {
    const r = record({ retry: { maxRetries: 2, backoff: "linear", baseDelayMs: 10 } });
    const decisions = [1, 2, 3].map((attempts) => {
      r.attempts = attempts;
      return decideRetry(r, new Error("boom"), Math.random);
    });
    expect(decisions).toEqual([
      { retry: true, delayMs: 10 },
      { retry: true, delayMs: 20 },
      { retry: false },
    ]);
  });

  it("maxRetries 0 means the first attempt is the last", () => {
    const r = record({ retry: { maxRetries: 0 } });
    r.attempts = 1;
    expect(isLastAttempt(r)).toBe(true);
    expect(decideRetry(r, new Error("boom"), Math.random)).toEqual({ retry: false });
  });

  it("never retries a PermanentError, even from another copy of the package", () => {
    const r = record({ retry: { maxRetries: 5 } });
    r.attempts = 1;
    expect(decideRetry(r, new PermanentError("no"), Math.random)).toEqual({ retry: false });
    const foreign = Object.assign(new Error("no"), { code: "ERR_PERMANENT" });
    expect(isPermanent(foreign)).toBe(true);
    expect(decideRetry(r, foreign, Math.random)).toEqual({ retry: false });
    expect(isPermanent(new Error("transient"))).toBe(false);
  });
});
