#!/usr/bin/env bash
# The fault suite (`pnpm test:faults`): the black-box fault scenarios of issue 9 and 10, on real
# servers and real processes. Each also runs within `pnpm test`; this runs just them, quickly,
# after a build:
#   kill -9 of a runner (in flight, and while running concurrency holds parked work), SIGTERM
#   with a grace period, a frozen runner (SIGSTOP/SIGCONT) that wakes up, a child that dies, task
#   timeouts, a Redis restart during routing and waiting (AOF on), PostgreSQL connections
#   terminated while callers wait, a claim reply lost after the write, corrupt records and
#   wrong-typed keys.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { local pkg=$1; shift; echo "== $pkg: $*"; pnpm --filter "$pkg" exec vitest run "$@"; }
run @nenc/runners test/process-signals.test.ts test/frozen-runner.test.ts test/graceful-stop.test.ts \
  test/supervision.test.ts test/timeouts.test.ts test/thread-runner.test.ts
run @nenc/redis test/fault.test.ts test/corrupt-data.test.ts test/corrupt-records-e2e.test.ts
run @nenc/postgres test/errors.test.ts
run @nenc/integration test/postgres-outage.test.ts
