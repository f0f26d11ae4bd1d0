/**
 * `defineTask` ties a task name to its payload and result types: `register`, `submit` and
 * `result()` agree at compile time (the `@ts-expect-error` lines are checked by `npm test`'s
 * typecheck: each must be an error), and at run time a definition is its name.
 */
import {
  defineTask,
  InvalidArgumentError,
  type TaskDefinition,
  type TaskHandle,
  TaskManager,
} from "taskmill";
import { describe, expect, expectTypeOf, it } from "vitest";

const sendReceipt = defineTask<{ orderId: string }, { messageId: string }>("receipt.send");
const ping = defineTask("ping");

describe("defineTask", () => {
  it("registers and submits by definition, with typed payload and result", async () => {
    const mill = new TaskManager();
    mill.register(sendReceipt, async (payload) => {
      expectTypeOf(payload).toEqualTypeOf<{ orderId: string }>();
      return { messageId: `m-${payload.orderId}` };
    });
    mill.register(ping, async () => "pong");
    const task = await mill.submit(sendReceipt, { orderId: "o-1" });
    expectTypeOf(task).toEqualTypeOf<TaskHandle<{ messageId: string }>>();
    expect(task.name).toBe("receipt.send");
    expect(await task.result()).toEqual({ messageId: "m-o-1" });
    // The name still works for untyped callers (another service, the CLI).
    const byName = await mill.submit("receipt.send", { orderId: "o-2" });
    expect(await byName.result()).toEqual({ messageId: "m-o-2" });
    expect(await (await mill.submit(ping, undefined)).result()).toBe("pong");
    await mill.stopGraceful();
  });

  it("refuses at compile time a wrong payload, a handler of the wrong result, and a typo'd result", () => {
    const mill = new TaskManager();
    const never = () => {
      // @ts-expect-error the payload must be { orderId: string }
      void mill.submit(sendReceipt, { order: "o-1" });
      // @ts-expect-error the handler must return { messageId: string }
      mill.register(sendReceipt, async () => ({ id: "x" }));
      void mill.submit(sendReceipt, { orderId: "o" }).then(async (task) => {
        // @ts-expect-error the result has messageId, not id
        (await task.result()).id;
      });
    };
    expect(typeof never).toBe("function");
    return mill.stopNow();
  });

  it("is a definition only when defineTask made it; a name must be a non-empty string", async () => {
    expect(() => defineTask("")).toThrow(InvalidArgumentError);
    const mill = new TaskManager();
    const lookalike = { name: "receipt.send" } as unknown as TaskDefinition;
    await expect(mill.submit(lookalike, {})).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(Object.isFrozen(sendReceipt)).toBe(true);
    await mill.stopNow();
  });
});
