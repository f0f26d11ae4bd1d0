// When things run: polling loops, one render per frame, debounced refreshes.
import { state } from "./state.js";

/** Runs `fn` now and then `ms` after each run ends (no overlap), until `signal` aborts. */
export function repeat(ms, signal, fn, { immediate = true } = {}) {
  let timer = 0;
  const run = async () => {
    if (signal.aborted) return;
    if (!document.hidden) await fn().catch(() => {});
    if (!signal.aborted) timer = setTimeout(run, ms);
  };
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  if (immediate) run();
  else timer = setTimeout(run, ms);
}

const pendingRenders = new Set();

/** Renders at most once per frame, however many results arrive in between. */
export function renderSoon(render) {
  if (pendingRenders.size === 0)
    requestAnimationFrame(() => {
      const renders = [...pendingRenders];
      pendingRenders.clear();
      for (const fn of renders) fn();
    });
  pendingRenders.add(render);
}

/** Coalesces bursts (e.g. many results at once) into one call after `ms`. */
export function debounce(key, ms, fn) {
  if (state.timers.has(key)) return;
  state.timers.set(
    key,
    setTimeout(() => {
      state.timers.delete(key);
      if (state.session) fn().catch(() => {});
    }, ms),
  );
}

/** Cancels every pending debounced refresh. */
export function cancelDebounced() {
  for (const timer of state.timers.values()) clearTimeout(timer);
  state.timers.clear();
}
