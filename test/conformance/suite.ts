/**
 * The conformance suite: every rule of SPEC.md and docs/semantics.md that a user observes,
 * written once against the public API and run against every store. A store joins with one
 * `<store>.test.ts` that calls `runConformanceSuite` with its fixture.
 *
 * Where stores may legitimately differ, the tests branch on `differences` in support.ts, the
 * one place that says so.
 */
import { describe } from "vitest";
import { auditSuite } from "./suite-audit.js";
import { cancelSuite } from "./suite-cancel.js";
import { detailsSuite } from "./suite-details.js";
import { eventsSuite } from "./suite-events.js";
import { flowsSuite } from "./suite-flows.js";
import { lifecycleSuite } from "./suite-lifecycle.js";
import { modesSuite } from "./suite-modes.js";
import { newApiSuite } from "./suite-new-api.js";
import { orderSuite } from "./suite-order.js";
import { pauseSuite } from "./suite-pause.js";
import { registrySuite } from "./suite-registry.js";
import { roundTripSuite } from "./suite-round-trip.js";
import { schedulesSuite } from "./suite-schedules.js";
import { schedulingSuite } from "./suite-scheduling.js";
import { statsSuite } from "./suite-stats.js";
import { stopSuite } from "./suite-stop.js";
import { workersSuite } from "./suite-workers.js";
import { type StoreFixture, useStore } from "./support.js";

export type { StoreFixture } from "./support.js";

export function runConformanceSuite(fixture: StoreFixture): void {
  describe(`conformance: ${fixture.name} store`, () => {
    const ctx = useStore(fixture);
    lifecycleSuite(ctx);
    cancelSuite(ctx);
    schedulingSuite(ctx);
    eventsSuite(ctx);
    registrySuite(ctx);
    stopSuite(ctx);
    modesSuite(ctx);
    newApiSuite(ctx);
    pauseSuite(ctx);
    workersSuite(ctx);
    schedulesSuite(ctx);
    auditSuite(ctx);
    flowsSuite(ctx);
    detailsSuite(ctx);
    orderSuite(ctx);
    statsSuite(ctx);
    roundTripSuite(ctx);
  });
}
