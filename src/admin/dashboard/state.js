// The dashboard's shared state and tuning constants. Every module reads and writes this one
// object, so there is a single place to look for what the page currently knows.

export const TOKEN_KEY = "taskmill.token";
export const PAGE_SIZE = 50;
export const MAX_LIST = 1000; // the API's largest page, and its largest list of ids
export const LIVE_KEEP = 200;
export const RATE_WINDOW_MS = 10_000;
export const POLL_MS = 2_000;
export const LIST_REFRESH_MS = 5_000;
export const LIVE_IDLE_MS = 45_000; // the server pings every 15 s; silence this long: dead stream
export const TERMINAL = new Set(["succeeded", "failed", "cancelled", "expired"]);

export const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  readOnly: false,
  view: "tasks",
  session: null, // AbortController of the signed-in session: aborting it stops every loop
  stats: { samples: [] },
  queues: [],
  queueResults: new Map(), // queue -> [{ at, ok }] from live results, for per-queue rates
  // list: the pages read from the API. recent: finished tasks seen on the live stream that
  // those pages do not hold (the API pages in its own order, e.g. oldest first in memory mode),
  // so the newest activity always shows at the top.
  tasks: { list: [], recent: new Map(), nextCursor: null, filters: {}, signature: "" },
  dlq: { list: [], nextCursor: null, name: "", selected: new Set(), preview: null, signature: "" },
  live: { results: [], lastEventId: null, since: 0 },
  detail: { id: null, task: null, timer: 0 },
  timers: new Map(), // debounced refreshes
};
