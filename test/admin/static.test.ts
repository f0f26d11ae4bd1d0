/**
 * The dashboard's files: every file of the shipped dashboard at `/assets/<path>` with its
 * content type, ETag revalidation (304), and no way out of the dashboard directory: the tree is
 * listed once when the handler is created, and any other path is a 404 envelope.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { onCleanup, type Reply, readReply, start } from "./support.js";

const SHIPPED = fileURLToPath(new URL("../../src/admin/dashboard/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** A 1x1 transparent PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}

/**
 * GET with the path sent byte for byte (`new URL` would resolve `..` and `%2e%2e` before the
 * request left), so the server sees what an attacker would send.
 */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, headers, agent: false }, (res) =>
      readReply(res).then(resolve, reject),
    );
    req.on("error", reject);
    req.end();
  });
}

const sha1 = (content: string | Buffer) => createHash("sha1").update(content).digest("hex");

/** A dashboard directory with one file of each type, nested, and things never to serve. */
async function makeDashboard(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "taskmill-static-"));
  onCleanup(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, "dashboard");
  await mkdir(join(dir, "views", "deep"), { recursive: true });
  await mkdir(join(dir, ".hidden"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>t</title>");
  await writeFile(join(dir, "app.js"), 'import "./views/a.js";');
  await writeFile(join(dir, "app.css"), "body{}");
  await writeFile(join(dir, "views", "a.js"), "export const a = 1;");
  await writeFile(
    join(dir, "views", "deep", "icon.svg"),
    "<svg xmlns='http://www.w3.org/2000/svg'/>",
  );
  await writeFile(join(dir, "logo.png"), PNG);
  await writeFile(join(dir, "notes.txt"), "not served: unknown type");
  await writeFile(join(dir, ".env.js"), "not served: a dotfile");
  await writeFile(join(dir, ".hidden", "x.js"), "not served: a dot directory");
  await writeFile(join(root, "secret.js"), "outside the dashboard");
  await symlink(join(root, "secret.js"), join(dir, "link.js"));
  return dir;
}

describe("dashboard files", () => {
  it("serves every file of the shipped dashboard with its type, no token needed", async () => {
    const { server } = await start();
    const files = filesUnder(SHIPPED);
    expect(files).toEqual(expect.arrayContaining(["app.js", "api.js", "views/tasks.js"]));
    for (const file of files) {
      const reply = await rawGet(server.url, `/assets/${file}`);
      expect(reply.status, file).toBe(200);
      expect(reply.headers["content-type"], file).toBe(TYPES[extname(file)]);
      expect(reply.headers["cache-control"], file).toBe("no-cache");
      expect(reply.headers["x-content-type-options"], file).toBe("nosniff");
      expect(reply.text, file).toBe(readFileSync(join(SHIPPED, file), "utf8"));
    }
    const index = await rawGet(server.url, "/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.text).toBe(readFileSync(join(SHIPPED, "index.html"), "utf8")); // A query (a cache buster, a view to open) is the page's business: ignored, even repeated.
    expect((await rawGet(server.url, "/assets/app.js?v=2&v=3")).status).toBe(200);
    expect((await rawGet(server.url, "/?view=dlq&view=live")).status).toBe(200);
  });

  it("gives each type its content type, nested paths included, and skips what is not a file to serve", async () => {
    const dir = await makeDashboard();
    const { server } = await start({ dashboardDir: dir });
    const served = {
      "app.js": TYPES[".js"],
      "app.css": TYPES[".css"],
      "index.html": TYPES[".html"],
      "views/a.js": TYPES[".js"],
      "views/deep/icon.svg": TYPES[".svg"],
      "logo.png": TYPES[".png"],
    };
    for (const [file, type] of Object.entries(served)) {
      const reply = await rawGet(server.url, `/assets/${file}`);
      expect(reply.status, file).toBe(200);
      expect(reply.headers["content-type"], file).toBe(type);
    }
    const png = await rawGet(server.url, "/assets/logo.png");
    expect(png.headers["content-length"]).toBe(String(PNG.length));
    for (const file of ["notes.txt", ".env.js", ".hidden/x.js", "link.js", "secret.js"]) {
      const reply = await rawGet(server.url, `/assets/${file}`);
      expect(reply.status, file).toBe(404);
      expect(reply.json.error.code, file).toBe("NOT_FOUND");
    }
  });

  it("answers If-None-Match with the ETag (SHA-1 of the content) with a 304", async () => {
    const dir = await makeDashboard();
    const { server } = await start({ dashboardDir: dir });
    const first = await rawGet(server.url, "/assets/views/a.js");
    const etag = `"${sha1("export const a = 1;")}"`;
    expect(first.headers.etag).toBe(etag);

    const again = await rawGet(server.url, "/assets/views/a.js", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(again.headers.etag).toBe(etag);
    expect(again.headers["cache-control"]).toBe("no-cache");
    for (const header of [`W/${etag}`, `"other", ${etag}`, "*"])
      expect(
        (await rawGet(server.url, "/assets/views/a.js", { "if-none-match": header })).status,
      ).toBe(304);
    expect(
      (await rawGet(server.url, "/assets/views/a.js", { "if-none-match": '"other"' })).status,
    ).toBe(200);

    const index = await rawGet(server.url, "/");
    expect(index.headers.etag).toBe(`"${sha1("<!doctype html><title>t</title>")}"`);
    expect(
      (await rawGet(server.url, "/", { "if-none-match": index.headers.etag ?? "" })).status,
    ).toBe(304);

    // An edited file gets a new ETag at once (content is read per request).
    await writeFile(join(dir, "views", "a.js"), "export const a = 2;");
    const edited = await rawGet(server.url, "/assets/views/a.js", { "if-none-match": etag });
    expect(edited.status).toBe(200);
    expect(edited.headers.etag).toBe(`"${sha1("export const a = 2;")}"`);
  });

  it("404s (the envelope) every path outside the listed files: traversal, unknown, added later", async () => {
    const dir = await makeDashboard();
    const { server } = await start({ dashboardDir: dir });
    await writeFile(join(dir, "late.js"), "added after the handler was created");
    const paths = [
      "/assets/../static.ts",
      "/assets/%2e%2e/x",
      "/assets/%2e%2e/secret.js",
      "/assets/..%2fsecret.js",
      "/assets/%2e%2e%2fsecret.js",
      "/assets/views/../../secret.js",
      "/assets/views/..%2F..%2Fsecret.js",
      "/assets/..\\secret.js",
      "/assets//etc/passwd",
      "/assets/%2Fetc%2Fpasswd",
      "/assets/",
      "/assets",
      "/assets/nope.js",
      "/assets/views",
      "/assets/late.js",
      "/index.html",
      "/app.js",
    ];
    for (const path of paths) {
      const reply = await rawGet(server.url, path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers["content-type"], path).toBe("application/json; charset=utf-8");
      expect(reply.json.error, path).toMatchObject({
        code: "NOT_FOUND",
        requestId: expect.any(String),
      });
      expect(reply.text, path).not.toContain("outside the dashboard");
    }
    // A malformed escape is a 400, not a crash.
    const malformed = await rawGet(server.url, "/assets/%E0%A4%A");
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe("BAD_REQUEST");
  });

  it("404s the shell when the dashboard directory is missing, and refuses other methods", async () => {
    const dir = await makeDashboard();
    const missing = await start({ dashboardDir: join(dir, "missing") });
    const reply = await missing.call("GET", "/", { token: null });
    expect(reply.status).toBe(404);
    expect(reply.json.error).toMatchObject({ code: "NOT_FOUND", message: expect.any(String) });
    expect((await missing.call("GET", "/assets/app.js", { token: null })).status).toBe(404);

    const { call } = await start({ dashboardDir: dir });
    const post = await call("POST", "/assets/app.js", { token: null });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET");
  });

  it("is documented in the OpenAPI document as /assets/{path}", async () => {
    const { call } = await start();
    const doc = (await call("GET", "/v1/openapi.json")).json;
    expect(doc.paths["/assets/{path}"].get.parameters).toEqual([
      { name: "path", in: "path", required: true, schema: { type: "string" } },
    ]);
    expect(doc.paths["/assets/{path}"].get.security).toEqual([]);
    expect(doc.paths["/"].get.security).toEqual([]);
  });
});
