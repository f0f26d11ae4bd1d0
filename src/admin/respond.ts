/** Writing JSON answers: one content type, no caching, the error envelope. */
import type { ServerResponse } from "node:http";
import type { AdminErrorBody, HttpError } from "./errors.js";

export const JSON_TYPE = "application/json; charset=utf-8";

/** Sends `body` as JSON. A value JSON cannot encode (a BigInt) becomes a 500 envelope. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  let text: string;
  try {
    text = JSON.stringify(body);
  } catch {
    const requestId = String(res.getHeader("x-request-id") ?? "");
    text = JSON.stringify({
      error: { code: "INTERNAL", message: "The response could not be encoded", requestId },
    });
    status = 500;
  }
  res.writeHead(status, {
    ...headers,
    "content-type": JSON_TYPE,
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
  });
  res.end(text);
}

/** Sends the error envelope; if a stream had already begun, cuts it instead. */
export function sendError(res: ServerResponse, error: HttpError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: AdminErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      requestId,
    },
  };
  sendJson(res, error.status, body, error.headers);
}
