// One memory pass in a fresh process (see memory.mjs for why): argv[2] is its JSON config, the
// result goes back over the IPC channel.
import { runMemoryPass } from "./memory.mjs";
import { loadTaskmill } from "./taskmill.mjs";

const config = JSON.parse(process.argv[2]);
let reply;
try {
  const TaskManager = await loadTaskmill(config.source);
  reply = { result: await runMemoryPass(TaskManager, config) };
} catch (error) {
  reply = { error: error instanceof Error ? error.message : String(error) };
}
// Exit explicitly: a leaked timer must not turn the pass into a hang.
process.send(reply, () => process.exit(0));
