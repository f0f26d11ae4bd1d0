// The worker's task handlers: replace them with your own. Each export is registered by name;
// `options` (queue, retry, timeoutMs) is optional.

export const handlers = {
  "email.send": {
    options: { queue: "email", retry: { maxRetries: 3 } },
    async handler(payload) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { delivered: payload?.to };
    },
  },
  "report.build": {
    options: { queue: "reports", timeoutMs: 60_000 },
    async handler(payload, ctx) {
      for (let page = 1; page <= 5; page++) {
        ctx.signal.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await ctx.progress({ page });
      }
      return { report: payload?.id };
    },
  },
};
