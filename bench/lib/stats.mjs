// Pure statistics over run times and start timestamps (all times in milliseconds).

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Half the min-max range relative to the median: a quick noise indicator for a handful of runs.
export function spreadPct(values) {
  const mid = median(values);
  return mid === 0 ? 0 : ((Math.max(...values) - Math.min(...values)) / 2 / mid) * 100;
}

// Rate between the first and the last start: n starts span n - 1 intervals.
export function achievedRate(sortedStarts) {
  const n = sortedStarts.length;
  const spanMs = sortedStarts[n - 1] - sortedStarts[0];
  return spanMs > 0 ? ((n - 1) / spanMs) * 1000 : Number.POSITIVE_INFINITY;
}

// Most starts inside any half-open window [x, x + windowMs), over every position x. The
// busiest window can always be slid so that it ends on a start, so two pointers find it
// exactly.
export function maxInWindow(sortedStarts, windowMs) {
  let best = 0;
  let first = 0;
  for (let last = 0; last < sortedStarts.length; last++) {
    while (sortedStarts[last] - sortedStarts[first] >= windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

// A token bucket (capacity `burst`, refill `perSecond`) allows at most burst + perSecond * t / 1000
// starts in any closed window of t ms. Returns the worst excess over that bound across all
// windows [starts[i], starts[j]] (<= 0 means the bound holds), in O(n):
//   excess(i, j) = (j - i + 1) - burst - r * (t_j - t_i) = (j - r*t_j) - (i - r*t_i) + 1 - burst
// so it is enough to track the running minimum of (i - r*t_i).
// `slackMs` widens every window a little: starts are stamped when the handler runs, a few
// microseconds after the limiter granted the token, and that jitter must not count as a breach.
export function worstBurstExcess(sortedStarts, { perSecond, burst, slackMs = 0 }) {
  const perMs = perSecond / 1000;
  let worst = Number.NEGATIVE_INFINITY;
  let worstWindow = null;
  let minKey = Number.POSITIVE_INFINITY;
  let minIndex = 0;
  for (let j = 0; j < sortedStarts.length; j++) {
    const key = j - perMs * sortedStarts[j];
    if (key < minKey) {
      minKey = key;
      minIndex = j;
    }
    const excess = key - minKey + 1 - burst - perMs * slackMs;
    if (excess > worst) {
      worst = excess;
      worstWindow = {
        fromMs: sortedStarts[minIndex] - sortedStarts[0],
        lengthMs: sortedStarts[j] - sortedStarts[minIndex],
        starts: j - minIndex + 1,
      };
    }
  }
  return { excess: worst, window: worstWindow };
}
