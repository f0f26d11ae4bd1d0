// Result subscribers as a service would attach them: each drained by its own `for await` loop
// that only counts what it gets. Shared by the throughput and memory suites, so that both
// measure the same consumers.
import { withTimeout } from "./runner.mjs";

// The options the issue asks for: a bounded buffer that drops the oldest result when full.
// Drops are counted, never hidden: a consumer that fell behind did less work than one that
// saw everything, and the numbers next to it must say so.
export const SUBSCRIBER_OPTIONS = { buffer: 1024, overflow: "drop-oldest" };

export function attachSubscribers(mill, count, options = SUBSCRIBER_OPTIONS) {
  return Array.from({ length: count }, () => {
    const subscription = mill.subscribeResults(options);
    const consumer = { subscription, seen: 0, ended: undefined };
    // The loop ends when the manager stops (it closes every subscription).
    consumer.ended = (async () => {
      for await (const _result of subscription) consumer.seen++;
    })();
    return consumer;
  });
}

// Call after stopping the manager: waits for every loop to end (a loop that does not end is
// an error, not a hang) and reports what each subscriber saw.
export async function detachSubscribers(consumers, timeoutMs) {
  await withTimeout(
    Promise.all(consumers.map((c) => c.ended)),
    timeoutMs,
    "subscriber loops after stopGraceful()",
  );
  return consumers.map((c) => ({ seen: c.seen, dropped: c.subscription.dropped }));
}
