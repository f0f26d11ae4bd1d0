// One durable latency round in a fresh process (see latencyRunInChild in durable-suite.mjs):
// the parent sends { library, server, latency, timeoutMs }; this process loads the same builds
// (TASKMILL_DIST / TASKMILL_BASELINE_DIST are inherited), runs the round against the parent's
// redis-server and sends back { samples, completeSamples, offeredPerSec } or { error }.
import { durableContenders } from "./durable-contenders.mjs";
import { latencyRun } from "./durable-latency.mjs";
import { RedisControl } from "./durable-redis.mjs";
import { errorMessage } from "./runner.mjs";
import { BASELINE_BUILD, baselineSource, loadTaskmill, taskmillSource } from "./taskmill.mjs";

process.once("message", async ({ library, server, latency, timeoutMs }) => {
  let reply;
  const control = new RedisControl(server);
  try {
    const baseline = library === BASELINE_BUILD ? baselineSource(process.env) : null;
    const { contenders } = await durableContenders({
      TaskManager: library === "taskmill" ? await loadTaskmill(taskmillSource(process.env)) : null,
      BaselineTaskManager: baseline ? await loadTaskmill(baseline) : null,
      only: [library],
    });
    const contender = contenders[0];
    if (contender === undefined) throw new Error(`${library} is not available`);
    reply = await latencyRun({ contender, server, control, latency, timeoutMs });
  } catch (error) {
    reply = { error: errorMessage(error) };
  }
  await control.quit().catch(() => {});
  process.send(reply, () => process.exit(0));
});
