/**
 * Reading request bodies: JSON only, bounded while it streams in (never buffered past the
 * limit), decoded as strict UTF-8.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./errors.js";

/** Default `bodyLimitBytes`: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1_048_576;

/** How long a client still sending an over-limit body is given after its 413, then cut off. */
const TOO_LARGE_GRACE_MS = 1_000;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads and parses a JSON body. Resolves `undefined` when the request has none.
 *
 * @throws HttpError 413 past `limit` bytes, 415 for a body that is not `application/json`,
 * 400 for bytes that are not UTF-8 JSON.
 */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<unknown> {
  const preParsed = alreadyParsed(req);
  if (preParsed.found) return preParsed.body;
  if (!hasBody(req)) return undefined;
  if (!isJson(req.headers["content-type"])) {
    discard(req, res);
    throw new HttpError(
      "UNSUPPORTED_MEDIA_TYPE",
      'The request body must be JSON with "content-type: application/json"',
      { field: "content-type" },
    );
  }
  const raw = await readBounded(req, res, limit);
  if (raw.length === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new HttpError("BAD_REQUEST", "The request body is not valid UTF-8", { field: "body" });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message}` : "";
    throw new HttpError("BAD_REQUEST", `The request body is not valid JSON${detail}`, {
      field: "body",
    });
  }
}

/** Consumes a body the route does not use, still within the limit. */
export async function skipBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<void> {
  if (alreadyParsed(req).found || !hasBody(req)) return;
  await readBounded(req, res, limit);
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && length !== "0";
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const media = contentType.split(";", 1)[0]?.trim().toLowerCase();
  return media === "application/json";
}

/**
 * Mounted behind Express' `express.json()`, the stream is already consumed and the parsed
 * body sits on `req.body`: use it rather than wait for bytes that will never come.
 */
function alreadyParsed(req: IncomingMessage): { found: boolean; body?: unknown } {
  if (!req.readableEnded || !("body" in req)) return { found: false };
  return { found: true, body: (req as { body?: unknown }).body };
}

function readBounded(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  // Consumed by a framework that did not leave the parsed body on `req.body`: no byte will come.
  if (req.readableEnded)
    return Promise.reject(
      new HttpError("BAD_REQUEST", "The request body was already consumed by other middleware", {
        field: "body",
      }),
    );
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    discard(req, res);
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        chunks.length = 0;
        discard(req, res);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new HttpError("BAD_REQUEST", "The request body was cut short", { field: "body" }));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError("PAYLOAD_TOO_LARGE", `The request body exceeds ${limit} bytes`, {
    field: "body",
    headers: { connection: "close" },
  });
}

/**
 * Lets the rest of a refused body flow to nowhere (so the client can read its answer rather
 * than block writing), and cuts the connection if it keeps sending after the answer went out.
 */
function discard(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.once("finish", () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), TOO_LARGE_GRACE_MS);
    timer.unref();
    req.once("end", () => clearTimeout(timer));
    req.socket.once("close", () => clearTimeout(timer));
  });
}
