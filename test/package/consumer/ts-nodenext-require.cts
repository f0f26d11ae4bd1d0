// A user's TypeScript CommonJS module under "nodenext": `import = require()` of the ESM package.
import taskmill = require("taskmill");
import admin = require("taskmill/admin");
import prometheus = require("taskmill/prometheus");

async function main(): Promise<void> {
  const mill = new taskmill.TaskManager();
  mill.register("add", async (p: { a: number; b: number }) => p.a + p.b);
  // Never called: tsc must reject it, which proves the shipped types are read (not `any`).
  const wrongCall = (): void => {
    // @ts-expect-error a task name must be a string
    mill.register(42, async () => 0);
  };
  void wrongCall;
  const task = await mill.submit<number>("add", { a: 2, b: 3 });
  const value: number = await task.result();
  const snapshot: taskmill.TaskSnapshot | undefined = await mill.get(task.id);
  await mill.stopGraceful();
  console.log(
    JSON.stringify({
      value,
      status: snapshot?.status,
      entries: [typeof admin.createAdminHandler, typeof prometheus.createPrometheusMetrics],
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
