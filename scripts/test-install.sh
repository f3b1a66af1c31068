#!/usr/bin/env bash
# `pnpm test:install`: the packages install and run outside the monorepo, as a user gets them.
# Packs every publishable package (pnpm pack rewrites `workspace:^` ranges to real versions),
# checks no packed manifest still says `workspace:`, then in empty projects under a temp dir
# (outside the workspace, so nothing resolves through it) `npm install`s the tarballs:
#   redis:    core + redis + runners + cli; a TypeScript app (tsx) and a plain Node ESM app, each
#             run by `nenc runner start` from the installed bin; `nenc invocation show` on a result
#   postgres: core + postgres + runners; a TypeScript app (tsx) and a plain Node ESM app with an
#             in-process ThreadRunner
# and the installed core's logs: JSON into a pipe, pino-pretty's format with NENC_LOG_FORMAT=pretty.
# Each project is typechecked with tsc against the installed .d.ts, and `npm ls --all` must report
# no missing, invalid or extraneous package. Needs the packages built (`pnpm build`), Redis and
# PostgreSQL on loopback, and the npm registry for third-party dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FIXTURES="$ROOT/scripts/install-check"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nenc-install.XXXXXX")"
RUNNERS=()
cleanup() {
  for pid in "${RUNNERS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  if [[ "${NENC_KEEP_INSTALL_DIR:-}" == "" ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
fail() { echo "test:install FAILED: $*" >&2; exit 1; }
RUN_ID="$(date +%s)-$$"
export NENC_REDIS_URL="${NENC_REDIS_URL:-redis://127.0.0.1:6379}"
export NENC_PG_URL="${NENC_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== pack every publishable package into $WORK/tarballs"
mkdir -p "$WORK/tarballs"
for dir in "$ROOT"/packages/*/; do
  [[ "$(node -p "require('$dir/package.json').private === true")" == "true" ]] && continue
  (cd "$dir" && pnpm pack --pack-destination "$WORK/tarballs" >/dev/null)
done
for tgz in "$WORK"/tarballs/*.tgz; do
  manifest="$(tar -xzOf "$tgz" package/package.json)"
  if grep -q '"workspace:' <<<"$manifest"; then fail "$(basename "$tgz") still has a workspace: range"; fi
  node -e 'const m = JSON.parse(process.argv[1]); if (m.publishConfig?.access !== "public") { console.error(`${m.name}: publishConfig.access is not "public"`); process.exit(1) }' "$manifest" \
    || fail "$(basename "$tgz") would not publish as a public scoped package"
done
ls "$WORK/tarballs"
tarball() { echo "$WORK/tarballs/nenc-$1-$(node -p "require('$ROOT/packages/$1/package.json').version").tgz"; }

# An empty ESM project holding the fixture files of $1; the rest are what to npm install.
new_project() {
  local name=$1; shift
  mkdir -p "$WORK/$name"
  cp "$FIXTURES/$name"/* "$WORK/$name/"
  cd "$WORK/$name"
  npm init -y >/dev/null
  npm pkg set type=module
  echo "== $name: npm install $*"
  npm install --no-audit --no-fund --loglevel=error "$@"
  npm install --no-audit --no-fund --loglevel=error -D typescript@~5.9 @types/node@^20.19 "${DEV_EXTRA[@]}"
  echo "== $name: npm ls --all"
  npm ls --all >/dev/null || { npm ls --all; fail "$name: npm ls reports a problem"; }
  echo "== $name: tsc --noEmit (the installed type declarations)"
  npx --no-install tsc -p tsconfig.json
}

# `nenc runner start` from the installed bin, in the background; waits until it says it runs.
start_runner() {
  local log=$1; shift
  ./node_modules/.bin/nenc runner start "$@" 2>"$log" &
  RUNNERS+=($!)
  for _ in $(seq 1 100); do
    grep -q 'runs app' "$log" && return 0
    kill -0 "${RUNNERS[-1]}" 2>/dev/null || { cat "$log"; fail "nenc runner start $* exited"; }
    sleep 0.1
  done
  cat "$log"; fail "nenc runner start $* did not start"
}

# SIGTERM to the last runner started: it must stop gracefully (exit 0).
stop_runner() {
  local pid="${RUNNERS[-1]}"
  kill -TERM "$pid"
  local code=0; wait "$pid" || code=$?
  unset 'RUNNERS[-1]'
  [[ $code == 0 ]] || fail "nenc runner start exited $code on SIGTERM"
}

echo "== redis project"
DEV_EXTRA=()
# The cli depends on @nenc/monitor (for `nenc monitor`), which is not on the registry yet.
new_project redis "$(tarball core)" "$(tarball redis)" "$(tarball runners)" "$(tarball monitor)" "$(tarball cli)" 'ioredis@^5.4.0'
export NENC_CHECK_APP_ID="install-check-$RUN_ID"
start_runner runner-ts.log --app ./app.ts
out="$(npx --no-install tsx main.ts)" || fail "redis: tsx main.ts failed: $out"
echo "tsx main.ts → $out"
total_id="$(node -p "JSON.parse(process.argv[1]).totalId" "$out")"
shown="$(./node_modules/.bin/nenc invocation show "$total_id" --app ./app.ts --json)"
node -e 'const r = JSON.parse(process.argv[1]); if (r.status !== "success" || r.result !== 9) process.exit(1)' "$shown" \
  || fail "redis: nenc invocation show: $shown"
echo "nenc invocation show $total_id → success, result 9"
stop_runner
# `nenc monitor` from the installed bin serves its invocation list over the same backend.
./node_modules/.bin/nenc monitor --app ./app.ts --port 0 2>monitor.log &
RUNNERS+=($!)
for _ in $(seq 1 100); do grep -q ' on http' monitor.log && break; sleep 0.1; done
monitor_url="$(grep -o 'http://[^;]*' monitor.log | head -1)"
[[ -n "$monitor_url" ]] || { cat monitor.log; fail "nenc monitor did not start"; }
page="$(curl -fsS "$monitor_url/invocations/$total_id")" || fail "nenc monitor: GET $monitor_url/invocations/$total_id failed"
[[ "$page" == *"$total_id"* && "$page" == *success* ]] || fail "nenc monitor: the page of $total_id does not show it succeeded"
echo "nenc monitor → $monitor_url/invocations/$total_id shows success"
stop_runner
start_runner runner-esm.log --app ./app.mjs
out="$(node main.mjs)" || fail "redis: node main.mjs failed: $out"
echo "node main.mjs → $out"
stop_runner
node -e '
  import("ioredis").then(async ({ Redis }) => {
    const r = new Redis(process.env.NENC_REDIS_URL)
    for (const app of [process.env.NENC_CHECK_APP_ID, `${process.env.NENC_CHECK_APP_ID}-esm`]) {
      const keys = await r.keys(`*${app}*`)
      if (keys.length) await r.del(...keys)
    }
    await r.quit()
  })'

# Logs from the installed core: JSON into a pipe, pino-pretty (a dependency it must resolve) on request.
log_line() { NENC_LOG_LEVEL=warn node --input-type=module -e "import { createLogger } from '@nenc/core'; createLogger('check').warn({ invocationId: 'i-1' }, 'hello')"; }
json="$(log_line)"
node -e 'const l = JSON.parse(process.argv[1]); if (l.msg !== "hello" || l.invocationId !== "i-1") process.exit(1)' "$json" \
  || fail "logs: expected a JSON line in a pipe, got: $json"
pretty="$(NENC_LOG_FORMAT=pretty log_line)"
[[ "$pretty" == *WARN* && "$pretty" == *hello* && "$pretty" != \{* ]] || fail "logs: expected a pino-pretty line, got: $pretty"
echo "logs: JSON in a pipe, pretty with NENC_LOG_FORMAT=pretty"

echo "== postgres project"
# @nenc/postgres's declarations use pg's types, which pg itself does not ship.
DEV_EXTRA=('@types/pg@^8.11.0')
new_project postgres "$(tarball core)" "$(tarball postgres)" "$(tarball runners)" 'pg@^8.13.0' 'tsx@^4.20.0'
export NENC_CHECK_SCHEMA="nenc_install_${RUN_ID//-/_}"
out="$(npx --no-install tsx main.ts)" || fail "postgres: tsx main.ts failed: $out"
echo "tsx main.ts → $out"
out="$(node main.mjs)" || fail "postgres: node main.mjs failed: $out"
echo "node main.mjs → $out"
node -e '
  import("pg").then(async ({ default: pg }) => {
    const c = new pg.Client(process.env.NENC_PG_URL)
    await c.connect()
    await c.query(`drop schema if exists ${process.env.NENC_CHECK_SCHEMA} cascade`)
    await c.end()
  })'

echo "test:install passed: packed tarballs install with npm and run on Redis and PostgreSQL"
