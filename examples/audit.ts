/**
 * The admin audit trail: every write through the admin API (and so the CLI and the dashboard)
 * is recorded with who, what and the outcome, hash-chained, refused writes included. Run it
 * with `npx tsx examples/audit.ts` (after `npm run build`).
 */
import { createAdminServer, TaskManager } from "taskmill";

const WRITE = "example-write-token-0123456789";
const READ = "example-read-token-0123456789";

const mill = new TaskManager({
  // Each record also goes to your log pipeline or SIEM, once the store holds it.
  hooks: { onAdmin: (record) => console.log("shipped", record.seq, record.route, record.outcome) },
});
mill.register("email.send", async (payload: { to: string }) => ({ delivered: payload.to }));
const server = await createAdminServer(mill, {
  auth: {
    tokens: [
      { token: WRITE, role: "write", name: "alice" },
      { token: READ, role: "read", name: "bob" },
    ],
  },
});

async function post(path: string, token: string, body: unknown = {}): Promise<number> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

await post("/v1/tasks", WRITE, { name: "email.send", payload: { to: "ada@example.com" } });
await post("/v1/queues/default/pause", READ); // 403: recorded as refused
await post("/v1/dlq/replay", WRITE, { name: "email.send", dryRun: true });

for (const record of (await mill.audit.list()).records)
  console.log(
    record.seq,
    record.actor?.name ?? "-",
    `${record.method} ${record.route}`,
    record.targets ?? record.filter ?? "",
    `${record.outcome} ${record.status}`,
  );
// Payloads are never recorded; the chain verifies from the oldest record kept to the newest.
console.log(await mill.audit.verify());

await server.close();
await mill.stopGraceful();
