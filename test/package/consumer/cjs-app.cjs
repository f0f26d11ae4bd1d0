// A user's CommonJS module: require() of the ESM package (Node 20.19+, 22.12+) and one task.
const { TaskManager } = require("taskmill");
const { createAdminHandler } = require("taskmill/admin");
const { createPrometheusMetrics } = require("taskmill/prometheus");

async function main() {
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
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
