// Live results: SSE over fetch and a stream reader (EventSource cannot send an Authorization
// header), reconnecting with backoff and Last-Event-ID so a durable server resumes the stream.
import { BASE } from "./api.js";
import { $ } from "./dom.js";
import { LIVE_IDLE_MS, state } from "./state.js";

const STATE_TEXT = {
  open: "connected",
  connecting: "connecting…",
  reconnecting: "reconnecting…",
  closed: "off",
};

export function setLiveState(value) {
  const el = $("live-status");
  el.dataset.state = value;
  el.querySelector(".live-state-text").textContent = `Live: ${STATE_TEXT[value]}`;
}

/**
 * Keeps `GET v1/results` open until `signal` aborts, calling `onResult` per result. A 401 calls
 * `onUnauthorized` and stops; anything else (a drop, a refusal, silence) reconnects.
 */
export async function liveLoop(signal, { onResult, onUnauthorized }) {
  let delay = 1_000;
  while (!signal.aborted) {
    setLiveState(state.live.since ? "reconnecting" : "connecting");
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener("abort", stop, { once: true });
    let idle = 0;
    const alive = () => {
      clearTimeout(idle);
      idle = setTimeout(stop, LIVE_IDLE_MS);
    };
    try {
      const headers = { Accept: "text/event-stream", Authorization: `Bearer ${state.token}` };
      if (state.live.lastEventId) headers["Last-Event-ID"] = state.live.lastEventId;
      alive();
      const response = await fetch(new URL("v1/results", BASE), {
        headers,
        cache: "no-store",
        signal: attempt.signal,
      });
      if (response.status === 401) {
        onUnauthorized();
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setLiveState("open");
      state.live.since = performance.now();
      delay = 1_000;
      await readEvents(response.body, {
        onActivity: alive,
        onId: (id) => {
          state.live.lastEventId = id;
        },
        onEvent: (event) => {
          if (event.type === "result") onResult(JSON.parse(event.data));
        },
      });
    } catch {
      // Dropped, refused or idle: reconnect below (unless signed out).
    } finally {
      clearTimeout(idle);
      signal.removeEventListener("abort", stop);
    }
    if (signal.aborted) break;
    setLiveState("reconnecting");
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 15_000);
  }
  setLiveState("closed");
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake, { once: true });
  });
}

/**
 * Parses a text/event-stream body (WHATWG HTML §9.2.6): `onEvent` per dispatched event, `onId`
 * per id field (the last event id), `onActivity` per chunk (pings included).
 */
export async function readEvents(body, { onActivity, onId, onEvent }) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let type = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onActivity();
      buffer += value;
      const lines = buffer.split(/\r?\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "") {
          if (data.length > 0) onEvent({ type: type || "message", data: data.join("\n") });
          data = [];
          type = "";
          continue;
        }
        if (line.startsWith(":")) continue; // comment (the server's ping)
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") type = value;
        else if (field === "id" && !value.includes("\0")) onId(value);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
