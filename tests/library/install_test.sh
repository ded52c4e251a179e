#!/usr/bin/env bash
# The library as a consumer gets it: the "dev" component installed into a temp prefix, its
# headers checked (self-contained; no Asio/Beast, hiredis, MySQL, gRPC, protobuf, Qt or toml++),
# examples/ configured and built on its own against it with find_package(seckill CONFIG), and the
# built limiter_service run on loopback: 200 until the limit, then 429 with Retry-After and the
# RateLimit fields; after SIGHUP with a new rule file, the new limit; a bad file keeps it.
#
#   tests/library/install_test.sh BUILD_DIR [FLAGS]   (FLAGS: extra compile and link flags)
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
FLAGS="${2:-}"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d /tmp/seckill-lib.XXXXXX)"
PID=""
cleanup() {
  [[ -z "$PID" ]] || kill -TERM "$PID" 2>/dev/null || true
  [[ -z "$PID" ]] || wait "$PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "==> $*"; }

PREFIX="$TMP/prefix"
say "cmake --install $BUILD --component dev --prefix $PREFIX"
cmake --install "$BUILD" --component dev --prefix "$PREFIX" >"$TMP/install.log" 2>&1 ||
  fail "install: $(tail -20 "$TMP/install.log")"
INC="$PREFIX/include/seckill"
[[ -f "$INC/engine/embed/embedded_limiter.h" ]] || fail "no engine/embed/embedded_limiter.h under $INC"
# lib/ or, with a /usr-style layout, lib/<multiarch>/ (GNUInstallDirs)
CONFIG="$(find "$PREFIX" -path '*/cmake/seckill/seckillConfig.cmake' | head -1)"
[[ -n "$CONFIG" && -f "$(dirname "$CONFIG")/seckillConfigVersion.cmake" ]] ||
  fail "no package config: $(cd "$PREFIX" && find . -name '*.cmake')"

# The installed headers: nothing from the I/O side, and every project include resolves inside
# the installed tree.
bad="$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](boost/|asio|hiredis|mysql|mariadb|grpc|google/protobuf|toml\+\+|Q[A-Za-z]|spdlog|nlohmann)' "$INC" || true)"
[[ -z "$bad" ]] || fail "installed headers include I/O libraries:"$'\n'"$bad"
while IFS= read -r inc; do
  [[ -f "$INC/$inc" ]] || fail "an installed header includes \"$inc\", which is not installed"
done < <(grep -rhoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"engine/[^"]+"' "$INC" | sed 's/.*"\(.*\)"/\1/' | sort -u)
say "headers: $(find "$INC" -name '*.h' | wc -l) installed, std + abseil only, self-contained"

say "examples/ against the installed package"
cmake -S "$SRC/examples" -B "$TMP/build" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_CXX_COMPILER="${CXX:-c++}" -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$FLAGS" \
  >"$TMP/configure.log" 2>&1 || fail "configure: $(tail -30 "$TMP/configure.log")"
grep -q "seckill_DIR:PATH=$PREFIX" "$TMP/build/CMakeCache.txt" || fail "find_package(seckill) did not find $PREFIX"
cmake --build "$TMP/build" -j2 >"$TMP/build.log" 2>&1 || fail "build: $(tail -40 "$TMP/build.log")"
SERVICE="$TMP/build/limiter_service"
[[ -x "$SERVICE" ]] || fail "no limiter_service built"

rules() {  # BURST: 1 request an hour per user, bursts of BURST
  printf '[[rule]]\npath = "/api/**"\nscope = "user"\nrate = 1\nper = "h"\nburst = %s\n' "$1" >"$TMP/rules.toml"
}
rules 2
"$SERVICE" --port 0 --rules "$TMP/rules.toml" >"$TMP/service.log" 2>&1 &
PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/service.log")"
  [[ -n "$PORT" ]] && break
  kill -0 "$PID" 2>/dev/null || fail "limiter_service exited: $(cat "$TMP/service.log")"
  sleep 0.1
done
[[ -n "$PORT" ]] || fail "limiter_service did not listen: $(cat "$TMP/service.log")"
URL="http://127.0.0.1:$PORT/api/orders"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-User-Id: $1" "$URL"; }
expect_codes() {  # USER N: N answers 200, then a 429
  local user="$1" n="$2" i c
  for i in $(seq 1 "$n"); do
    c="$(code "$user")"
    [[ "$c" == 200 ]] || fail "$user request $i: $c, not 200"
  done
  c="$(code "$user")"
  [[ "$c" == 429 ]] || fail "$user request $((n + 1)): $c, not 429"
}

expect_codes alice 2
curl -s -D "$TMP/headers" -o /dev/null -H "X-User-Id: alice" "$URL"
grep -qi '^Retry-After: [0-9]' "$TMP/headers" || fail "429 without Retry-After: $(cat "$TMP/headers")"
grep -qi '^RateLimit-Policy: "/api/\*\* user token_bucket 1/h";q=2;w=3600' "$TMP/headers" ||
  fail "429 without the RateLimit-Policy field: $(cat "$TMP/headers")"
grep -qi '^RateLimit: ' "$TMP/headers" || fail "429 without the RateLimit field: $(cat "$TMP/headers")"
expect_codes bob 2
say "rules v1 (burst 2): 200 200 429 per user, with Retry-After and RateLimit"

rules 4
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q '^rules: version 2 ' "$TMP/service.log" && break; sleep 0.1; done
grep -q '^rules: version 2 ' "$TMP/service.log" || fail "no reload after SIGHUP: $(cat "$TMP/service.log")"
expect_codes alice 4
say "SIGHUP with burst 4: version 2, 4 x 200 then 429"

printf '[[rule]]\npath = "/api/**"\nrate = "fast"\n' >"$TMP/rules.toml"
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q 'rules refused' "$TMP/service.log" && break; sleep 0.1; done
grep -q "rules refused, version 2 stays: $TMP/rules.toml:3: " "$TMP/service.log" ||
  fail "a bad rule file was not refused with its line: $(cat "$TMP/service.log")"
expect_codes carol 4
counters="$(curl -s --max-time 5 "http://127.0.0.1:$PORT/counters")"
grep -q '^version 2$' <<<"$counters" || fail "/counters: $counters"
grep -q 'passed=8 .*limited=2 ' <<<"$counters" || fail "/counters: $counters"
say "a bad file is refused naming its line; version 2 stays; /counters: $(tr '\n' ' ' <<<"$counters")"

kill -TERM "$PID"
wait "$PID" || fail "limiter_service did not stop cleanly: $(tail -5 "$TMP/service.log")"
PID=""
echo "PASS"
