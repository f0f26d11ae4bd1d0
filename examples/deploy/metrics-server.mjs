// A /metrics endpoint for Prometheus on its own port, without auth: bind it to the service's
// private network only (the admin API's own /metrics needs a read token).
import { createServer } from "node:http";

/** Serves `registry` at GET /metrics on `port`; resolves with the listening server. */
export function serveMetrics(registry, port, host = "0.0.0.0") {
  const server = createServer(async (req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    try {
      const text = await registry.metrics();
      res.writeHead(200, { "content-type": registry.contentType }).end(text);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
