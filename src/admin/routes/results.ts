/** The results stream over SSE. */
import { isResultEventId } from "../../results/stream-id.js";
import { HttpError } from "../errors.js";
import { route } from "../router.js";
import { streamResults } from "../sse.js";

export const resultRoutes = [
  route({
    method: "GET",
    path: "/v1/results",
    role: "read",
    doc: {
      summary:
        "Every task result as server-sent events (`event: result`). Durable mode: ids are events-stream positions and `Last-Event-ID` resumes after one; memory mode: ids are a per-handler sequence and `Last-Event-ID` is ignored.",
      response: { status: 200 },
      produces: "text/event-stream",
    },
    async handle({ mill, req, res, streams, options }) {
      const durable = mill.health().backend !== "memory";
      const header = req.headers["last-event-id"];
      let after: string | undefined;
      // Memory mode keeps no history: a resume position means nothing there.
      if (durable && typeof header === "string" && header.length > 0) {
        if (!isResultEventId(header))
          throw new HttpError("BAD_REQUEST", "Last-Event-ID must be an event id of this stream", {
            field: "Last-Event-ID",
          });
        after = header;
      }
      await streamResults({
        mill,
        req,
        res,
        streams,
        heartbeatMs: options.sseHeartbeatMs,
        bufferSize: options.sseBufferSize,
        after,
        durable,
      });
      return "sent";
    },
  }),
];
