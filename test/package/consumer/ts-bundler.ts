// A user's TypeScript under "moduleResolution": "bundler" (Vite, esbuild, tsx and friends).
import { TaskManager, type TaskSnapshot } from "taskmill";
import { createAdminHandler } from "taskmill/admin";
import { createPrometheusMetrics } from "taskmill/prometheus";

const mill = new TaskManager();
mill.register("add", async (p: { a: number; b: number }) => p.a + p.b);
// Never called: tsc must reject it, which proves the shipped types are read (not `any`).
const wrongCall = (): void => {
  // @ts-expect-error a task name must be a string
  mill.register(42, async () => 0);
};
void wrongCall;
const task = await mill.submit<number>("add", { a: 2, b: 3 });
const value: number = await task.result();
const snapshot: TaskSnapshot | undefined = await mill.get(task.id);
await mill.stopGraceful();
console.log(
  JSON.stringify({
    value,
    status: snapshot?.status,
    entries: [typeof createAdminHandler, typeof createPrometheusMetrics],
  }),
);
