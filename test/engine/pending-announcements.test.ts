/**
 * The submitting process always says `queued` before `started`, whichever reply it reads first:
 * the submit's own, or its worker's claim of the same task (two connections, one poll phase).
 */
import { describe, expect, it } from "vitest";
import { PendingAnnouncements } from "../../src/engine/durable/pending-announcements.js";

function announcer() {
  const said: string[] = [];
  return { said, announce: (id: string) => () => said.push(`queued ${id}`) };
}

describe("pending announcements", () => {
  it("the reply first: announced once, at the reply; a later claim adds nothing", () => {
    const pending = new PendingAnnouncements();
    const { said, announce } = announcer();
    pending.expect("a", announce("a"));
    pending.settle("a", true);
    pending.deliver("a");
    expect(said).toEqual(["queued a"]);
  });

  it("the claim first: announced once, before the start; the reply read later adds nothing", () => {
    const pending = new PendingAnnouncements();
    const { said, announce } = announcer();
    pending.expect("a", announce("a"));
    pending.deliver("a");
    said.push("started a");
    pending.settle("a", true);
    expect(said).toEqual(["queued a", "started a"]);
  });

  it("a task the store did not create (an idempotency key named another) is never announced", () => {
    const pending = new PendingAnnouncements();
    const { said, announce } = announcer();
    pending.expect("a", announce("a"));
    pending.settle("a", false);
    pending.deliver("a");
    expect(said).toEqual([]);
  });

  it("a failed store call forgets its tasks; other tasks' announcements are untouched", () => {
    const pending = new PendingAnnouncements();
    const { said, announce } = announcer();
    pending.expect("a", announce("a"));
    pending.expect("b", announce("b"));
    pending.forget("a");
    pending.deliver("a");
    pending.deliver("b");
    expect(said).toEqual(["queued b"]);
  });
});
