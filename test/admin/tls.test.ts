/** HTTPS: `createAdminServer` with `https` options serves the same API over TLS. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TaskManager } from "taskmill";
import { expect, it } from "vitest";
import { onCleanup, start, WRITE_TOKEN } from "./support.js";

const run = promisify(execFile);

async function hasOpenssl(): Promise<boolean> {
  try {
    await run("openssl", ["version"]);
    return true;
  } catch {
    return false;
  }
}

const opensslPresent = await hasOpenssl();
if (!opensslPresent)
  console.warn("openssl is not on PATH: skipping the TLS test of the admin server");

it.skipIf(!opensslPresent)(
  "serves the API over HTTPS with a self-signed certificate the client pins",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "taskmill-tls-"));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    const [key, cert] = await Promise.all([readFile(keyPath), readFile(certPath)]);
    const mill = new TaskManager();
    mill.register("echo", async (payload: unknown) => payload);
    const { server } = await start({ https: { key, cert } }, {}, mill);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const reply = await new Promise<{ status: number; body: string; authorized: boolean }>(
      (resolve, reject) => {
        const req = request(
          `${server.url}/v1/tasks`,
          {
            method: "POST",
            ca: cert, // verified against the pinned certificate, not skipped
            agent: false,
            headers: { authorization: `Bearer ${WRITE_TOKEN}`, "content-type": "application/json" },
          },
          (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              body += chunk;
            });
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                body,
                authorized: (res.socket as import("node:tls").TLSSocket).authorized,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ name: "echo", payload: "over tls" }));
      },
    );
    expect(reply.status).toBe(201);
    expect(reply.authorized).toBe(true);
    expect(JSON.parse(reply.body).task.name).toBe("echo");
  },
);
