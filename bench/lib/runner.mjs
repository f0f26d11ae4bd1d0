// Shared machinery of the suites: round-robin scheduling, timeouts, GC between runs.

// Rotating the starting contender each round spreads slow phases of a noisy machine
// (thermal throttling, a neighbour's burst) evenly instead of always hitting the same library.
export function roundRobin(contenders, round) {
  const start = round % contenders.length;
  return [...contenders.slice(start), ...contenders.slice(0, start)];
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Collect garbage left by the previous run so that it is not billed to the next one.
export function collectGarbage() {
  globalThis.gc?.();
}

export function contenderLabel(contender) {
  return contender.config ? `${contender.name} (${contender.config})` : contender.name;
}

// Opens a runner, times one batch, closes it, and checks every task really ran: a library
// that resolves early would otherwise look fast. `report` is whatever close() resolved with
// (e.g. what result subscribers saw), for the suite to keep next to the timing.
export async function timedBatch(contender, { tasks, timeoutMs, counter, ...options }) {
  const runner = await contender.open(options);
  collectGarbage();
  const startedAt = performance.now();
  await withTimeout(runner.runBatch(tasks), timeoutMs, `${contenderLabel(contender)} batch`);
  const elapsedMs = performance.now() - startedAt;
  const report = await withTimeout(runner.close(), timeoutMs, `${contenderLabel(contender)} close`);
  if (counter.done !== tasks) {
    throw new Error(`${counter.done} of ${tasks} tasks ran before the batch resolved`);
  }
  return { elapsedMs, report };
}

export function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}
