#!/usr/bin/env bash
# Times the newcomer path the README quotes, with the packed tarball in a scratch project:
#   1. `npm install taskmill` in an empty project to a first task's result (five lines of code);
#   2. from there to a durable task on Redis (`npm install ioredis`, one `backend` option).
# Starts its own redis-server on a free loopback port and stops it by pid. Prints seconds.
# TASKMILL_COLD=1 installs with an empty npm cache (everything fetched from the registry).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch=$(mktemp -d)
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

(cd "$repo" && npm pack --silent --pack-destination "$scratch" >/dev/null)
tarball=$(ls "$scratch"/taskmill-*.tgz)
cache_args=()
[ "${TASKMILL_COLD:-0}" = "1" ] && cache_args=(--cache "$scratch/npm-cache")
mkdir "$scratch/app"
cd "$scratch/app"
echo '{ "name": "app", "private": true, "type": "module" }' > package.json

cat > first.mjs <<'JS'
import { TaskManager } from "taskmill";
const mill = new TaskManager();
mill.register("hello", async (name) => `hello, ${name}`);
console.log(await (await mill.submit("hello", "world")).result());
await mill.stopGraceful();
JS

now() { date +%s.%N; }
t0=$(now)
npm install --no-audit --no-fund --silent "${cache_args[@]}" "$tarball" >/dev/null
t1=$(now)
node first.mjs
t2=$(now)

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
redis_pid=$!
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done

sed "s#new TaskManager()#new TaskManager({ backend: { type: \"redis\", url: \"redis://127.0.0.1:$port\" } })#" \
  first.mjs > durable.mjs
t3=$(now)
npm install --no-audit --no-fund --silent "${cache_args[@]}" ioredis >/dev/null
t4=$(now)
node durable.mjs
t5=$(now)

secs() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }
echo "install taskmill:           $(secs "$t0" "$t1") s"
echo "first task (node first.mjs): $(secs "$t1" "$t2") s"
echo "=> to a running task:       $(secs "$t0" "$t2") s"
echo "install ioredis:            $(secs "$t3" "$t4") s"
echo "durable task on Redis:      $(secs "$t4" "$t5") s"
echo "=> from there to durable:   $(secs "$t3" "$t5") s"
