/** `TASKMILL_STORE_URL` naming a Redis Cluster: its seed URLs, comma-separated. */
import { InvalidOptionError, optionsFromEnv, TaskManager } from "taskmill";
import { describe, expect, it } from "vitest";

describe("optionsFromEnv with a Redis Cluster's seed URLs", () => {
  it("splits a comma-separated TASKMILL_STORE_URL into backend.url's list", () => {
    expect(
      optionsFromEnv({
        TASKMILL_STORE_URL: "redis://10.0.0.1:6379, redis://10.0.0.2:6379",
        TASKMILL_PREFIX: "billing",
      }).backend,
    ).toEqual({
      type: "redis",
      url: ["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"],
      prefix: "billing",
    });
    // One URL stays one URL (a single node).
    expect(optionsFromEnv({ TASKMILL_STORE_URL: "redis://cache:6379/0" }).backend).toEqual({
      type: "redis",
      url: "redis://cache:6379/0",
    });
  });

  it("refuses a seed that is not a Redis URL, naming the variable", () => {
    let error: unknown;
    try {
      optionsFromEnv({ TASKMILL_STORE_URL: "redis://10.0.0.1:6379,http://10.0.0.2:6379" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: "TASKMILL_STORE_URL" });
    expect((error as Error).message).toContain("backend.url[1]");
  });

  it("a seed naming a database is refused by the constructor, naming the seed", () => {
    const options = optionsFromEnv({
      TASKMILL_STORE_URL: "redis://10.0.0.1:6379,redis://10.0.0.2:6379/3",
    });
    expect(() => new TaskManager(options)).toThrow(InvalidOptionError);
    expect(() => new TaskManager(options)).toThrow(/database 0/);
  });
});
