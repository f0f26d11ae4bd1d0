// Pure formatting of times, durations, rates and untrusted values into display text.

const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** A wall-clock time with milliseconds; the date too when it is not today. */
export function fmtTime(ms) {
  if (typeof ms !== "number") return "–";
  const date = new Date(ms);
  const time = `${clockFormat.format(date)}.${String(date.getMilliseconds()).padStart(3, "0")}`;
  return date.toDateString() === new Date().toDateString()
    ? time
    : `${dateFormat.format(date)} ${time}`;
}

export function fmtDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1_000).toFixed(abs < 10_000 ? 2 : 1)} s`;
  if (abs < 3_600_000) return `${Math.floor(ms / 60_000)}m ${Math.floor((abs % 60_000) / 1_000)}s`;
  return `${Math.floor(ms / 3_600_000)}h ${Math.floor((abs % 3_600_000) / 60_000)}m`;
}

export function fmtRate(perSecond) {
  if (typeof perSecond !== "number" || !Number.isFinite(perSecond)) return "–";
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

/** Pretty-printed JSON, or the value's string form when it cannot be encoded. */
export function json(value) {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A one-line preview of a string or JSON value, cut at `max` characters. */
export function oneLine(value, max = 120) {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `Name [CODE]: message` of a serialized task error. */
export function errorText(error) {
  if (error === undefined || error === null) return "";
  const code = error.code ? ` [${error.code}]` : "";
  return `${error.name ?? "Error"}${code}: ${error.message ?? ""}`;
}
