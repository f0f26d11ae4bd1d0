// A user's ES module: imports every entry point by name and runs one task in memory mode.
import { TaskManager } from "taskmill";
import { createAdminHandler } from "taskmill/admin";
import { createPrometheusMetrics } from "taskmill/prometheus";

const mill = new TaskManager();
mill.register("add", async (p) => p.a + p.b);
const task = await mill.submit("add", { a: 2, b: 3 });
const value = await task.result();
const snapshot = await mill.get(task.id);
await mill.stopGraceful();
console.log(
  JSON.stringify({
    value,
    status: snapshot?.status,
    entries: [typeof createAdminHandler, typeof createPrometheusMetrics],
  }),
);
