/**
 * Redis's MONITOR stream on a raw loopback socket: every command the server runs (scripts'
 * `redis.call`s included), in execution order.
 *
 * Why not ioredis's `monitor()`: its duplicated client runs a ready check (INFO) while MONITOR
 * lines may already arrive, and it then fails with "Command queue state error" now and then
 * (seen in CI). A socket that sends one MONITOR and parses lines has no command queue to lose.
 */
import { once } from "node:events";
import { createConnection, type Socket } from "node:net";

/** One monitored command: its arguments as Redis printed them, unquoted. */
export type MonitoredCommand = readonly string[];

/** A running monitor; `close()` ends it. */
export interface RedisMonitor {
  close(): void;
}

/**
 * Connects to `port` on 127.0.0.1, starts MONITOR and calls `onCommand` for every command run
 * after the server acknowledged it. Resolves once the server answered `+OK`.
 */
export async function monitorRedis(
  port: number,
  onCommand: (args: MonitoredCommand) => void,
): Promise<RedisMonitor> {
  const socket: Socket = createConnection({ host: "127.0.0.1", port });
  socket.setEncoding("utf8");
  await once(socket, "connect");
  let buffered = "";
  let acknowledged = false;
  const ready = new Promise<void>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf("\r\n");
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf("\r\n");
        if (!acknowledged) {
          if (line !== "+OK") reject(new Error(`MONITOR refused: ${line}`));
          acknowledged = true;
          resolve();
          continue;
        }
        if (line.startsWith("+")) onCommand(parseMonitorLine(line));
      }
    });
  });
  socket.write("MONITOR\r\n");
  await ready;
  return { close: () => socket.destroy() };
}

/** `+1712.5 [0 127.0.0.1:5000] "zadd" "k" "1" "m"` → `["zadd", "k", "1", "m"]`. */
export function parseMonitorLine(line: string): string[] {
  const args: string[] = [];
  let i = line.indexOf("] ");
  if (i === -1) return args;
  i += 2;
  while (i < line.length) {
    if (line[i] !== '"') {
      i++;
      continue;
    }
    let arg = "";
    i++;
    while (i < line.length && line[i] !== '"') {
      const char = line[i] as string;
      if (char !== "\\") {
        arg += char;
        i++;
        continue;
      }
      const next = line[i + 1] as string;
      if (next === "x") {
        arg += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        arg += ESCAPES[next] ?? next;
        i += 2;
      }
    }
    args.push(arg);
    i++;
  }
  return args;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b" };
