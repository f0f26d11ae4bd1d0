// The Audit view: every admin write (who, what, outcome), newest first, and a check of the
// hash chain. The check runs HERE, in the browser (Web Crypto SHA-256 over the same canonical
// encoding the server seals with), so it trusts nothing the server says about its own trail.
import { api, query } from "../api.js";
import { $, h, show, timeCell } from "../dom.js";
import { reportError } from "../notice.js";
import { MAX_LIST, PAGE_SIZE } from "../state.js";

const audit = { list: [], next: null, signature: "" };

const OUTCOME_CLASS = {
  applied: "succeeded",
  "dry-run": "retrying",
  refused: "expired",
  failed: "failed",
};

/** reset: the newest page; refresh: re-read what is shown; more: the next (older) page. */
export async function loadAudit(mode) {
  const params =
    mode === "more"
      ? { limit: PAGE_SIZE, before: audit.next }
      : {
          limit: Math.min(MAX_LIST, Math.max(PAGE_SIZE, mode === "reset" ? 0 : audit.list.length)),
        };
  try {
    const body = await api(`v1/audit${query(params)}`);
    const page = body.records ?? [];
    audit.list = mode === "more" ? audit.list.concat(page) : page;
    audit.next = body.next ?? null;
    renderAudit();
  } catch (error) {
    reportError(error, mode === "refresh" ? "poll" : "action");
  }
}

function renderAudit() {
  const signature = JSON.stringify(audit.list) + String(audit.next);
  if (signature !== audit.signature) {
    audit.signature = signature;
    $("audit-body").replaceChildren(...audit.list.map(auditRow));
  }
  show($("audit-empty"), audit.list.length === 0);
  show($("audit-load-more"), audit.next !== null);
  $("audit-summary").textContent =
    `${audit.list.length} record${audit.list.length === 1 ? "" : "s"} shown${
      audit.next !== null ? ", older ones available" : ""
    }`;
}

function auditRow(record) {
  const who = record.actor
    ? `${record.actor.name ?? "(unnamed)"} · ${record.actor.role}`
    : "(no credentials)";
  const targets = [
    ...(record.targets ?? []),
    ...Object.entries(record.filter ?? {}).map(([key, value]) => `${key}=${value}`),
  ].join(", ");
  return h(
    "tr",
    { "data-testid": "audit-row", "data-seq": record.seq },
    h("td", { className: "num mono", text: String(record.seq) }),
    timeCell(record.at),
    h("td", { text: who }),
    h("td", { className: "mono", text: `${record.method} ${record.route}` }),
    h("td", { className: "mono", text: targets || "—" }),
    h(
      "td",
      {},
      h("span", {
        className: `badge status-${OUTCOME_CLASS[record.outcome] ?? "expired"}`,
        text: `${record.outcome} ${record.status}${record.error ? ` ${record.error}` : ""}`,
      }),
    ),
    h("td", { className: "mono", text: record.client ?? "—" }),
    h("td", {
      className: "mono muted",
      title: record.requestId,
      text: record.requestId.slice(0, 12),
    }),
  );
}

/** The canonical encoding the server hashes: JSON, keys sorted, `hash` left out. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Reads every record kept, oldest first, and checks the chain from the anchor to the head. */
async function verifyChain() {
  const records = [];
  let first;
  let after = 0;
  for (;;) {
    const page = await api(`v1/audit${query({ after, limit: MAX_LIST })}`);
    first ??= page;
    records.push(...page.records);
    if (page.next === undefined || page.next <= after) break;
    after = page.next;
  }
  let expected = first.anchor.seq + 1;
  let prev = first.anchor.hash;
  for (const record of records) {
    const { hash, ...rest } = record;
    if ((await sha256(canonical(rest))) !== hash)
      return { ok: false, text: `Record ${record.seq} was altered: its hash does not match.` };
    if (record.seq !== expected)
      return record.seq > expected && !records.some((r) => r.seq === expected)
        ? { ok: false, text: `Record ${expected} was removed.` }
        : { ok: false, text: `Record ${record.seq} was reordered.` };
    if (record.prev !== prev)
      return { ok: false, text: `Record ${record.seq - 1} was rewritten: the chain breaks there.` };
    expected = record.seq + 1;
    prev = hash;
  }
  if (first.head.seq !== expected - 1 || first.head.hash !== prev)
    return { ok: false, text: `Record ${expected} (the newest) was removed.` };
  const span =
    records.length === 0 ? "no records" : `records ${first.anchor.seq + 1} to ${first.head.seq}`;
  return { ok: true, text: `Chain intact: ${records.length} records verified (${span}).` };
}

export function clearAudit() {
  audit.list = [];
  audit.next = null;
  audit.signature = "";
  $("audit-body").replaceChildren();
  $("audit-verdict").textContent = "";
}

export function wireAudit() {
  $("audit-load-more").addEventListener("click", () => loadAudit("more"));
  $("audit-verify").addEventListener("click", async () => {
    const verdict = $("audit-verdict");
    verdict.textContent = "Verifying…";
    verdict.className = "message";
    try {
      const result = await verifyChain();
      verdict.textContent = result.text;
      verdict.className = `message ${result.ok ? "status-succeeded" : "status-failed"}`;
    } catch (error) {
      verdict.textContent = "";
      reportError(error, "action");
    }
  });
}
