import { createConnection } from "node:net";
import { describe, expect, it } from "vitest";
import { RedisServerStartError, startRedisServer } from "../../support/redis-server.js";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("redis-server test harness", () => {
  it("starts servers on distinct loopback ports and stops them idempotently", async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.url).toBe(`redis://127.0.0.1:${a.port}`);
      expect(await portOpen(a.port)).toBe(true);
      await a.stop();
      await a.stop();
      expect(a.pid).toBeUndefined();
      expect(await portOpen(a.port)).toBe(false);
      await a.start();
      expect(await portOpen(a.port)).toBe(true);
      await b.kill();
      expect(await portOpen(b.port)).toBe(false);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it("reports redis-server's own output when it cannot start", async () => {
    const failure = await startRedisServer({ extraArgs: ["--no-such-directive", "1"] }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RedisServerStartError);
    expect((failure as Error).message).toMatch(/no-such-directive/i);
  });
});
