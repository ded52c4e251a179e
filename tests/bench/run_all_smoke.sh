#!/usr/bin/env bash
# Smoke test of bench/run-all (registered with ctest by tests/bench/CMakeLists.txt):
# runs it with --smoke into a fresh directory, then checks that the report and every
# picture exist and that the figures in the report are numbers above zero.
#
#   run_all_smoke.sh ROOT ENGINE LOAD CORE_BENCH RATELIMIT_BENCH MEMORY_BENCH FLOOR_SERVER WORKDIR
set -euo pipefail

if (($# != 8)); then
  echo "usage: $0 ROOT ENGINE LOAD CORE_BENCH RATELIMIT_BENCH MEMORY_BENCH FLOOR_SERVER WORKDIR" >&2
  exit 2
fi
root="$1" engine="$2" load="$3" core_bench="$4" rl_bench="$5" memory_bench="$6" floor="$7" work="$8"

out="$work/out"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# RUN_ALL_SMOKE_REUSE=1: check the report of the previous run again (when changing the checks).
if [[ "${RUN_ALL_SMOKE_REUSE:-}" == 1 && -s "$out/benchmarks.md" ]]; then
  echo "reusing $out"
else
  rm -rf "$work"
  mkdir -p "$work"
  echo "running: bench/run-all --smoke --out $out"
fi
if [[ -s "$out/benchmarks.md" && "${RUN_ALL_SMOKE_REUSE:-}" == 1 ]]; then
  :
elif ! "$root/bench/run-all" --smoke --out "$out" --engine "$engine" --load "$load" \
  --core-bench "$core_bench" --ratelimit-bench "$rl_bench" --memory-bench "$memory_bench" \
  --floor-server "$floor" \
  >"$work/run-all.log" 2>&1; then
  cat "$work/run-all.log" >&2
  echo "FAIL: bench/run-all --smoke exited non-zero (output above)" >&2
  exit 1
fi
report="$out/benchmarks.md"
[[ -s "$report" ]] || { cat "$work/run-all.log" >&2; echo "FAIL: no $report" >&2; exit 1; }
ok "report written"

# Every picture: a PNG file of some size.
for png in spike-tps spike-latency storm-tps storm-latency scaling; do
  f="$out/img/$png.png"
  if [[ -s "$f" ]] && [[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] &&
    (($(wc -c <"$f") > 2000)); then
    ok "$png.png is a PNG"
  else
    fail "$f is missing or not a PNG"
  fi
  grep -q "img/$png.png" "$report" || fail "the report does not show img/$png.png"
done

# Every section is there.
for heading in "## Summary" "## HTTP: the order endpoint next to nginx" \
  "## Rate-limited path: engine vs nginx limit_req" "## Stock strategies under a storm" \
  "## Scaling: hits/s by worker threads and connections" "## Load shape: a spike through the rate limiter" \
  "## Core: \`SaleService::placeOrder\`" "## Memory per pending order" "## Connections: idle keep-alive" \
  "## Traffic control microbenchmarks" "## How it was run" \
  "<!-- hand-written: begin -->"; do
  grep -qF "$heading" "$report" && ok "section: $heading" || fail "no section \"$heading\""
done

trim() { sed 's/^ *//; s/ *$//' <<<"$1"; }
positive() { awk -v x="$1" 'BEGIN { exit !(x ~ /^[0-9]+([.][0-9]+)?$/ && x + 0 > 0) }'; }

# Memory per order: both lines, with figures above zero.
for kind in "without token" "with token"; do
  line="$(grep -E "^$kind +RSS" "$report" | head -1)"
  if [[ "$line" =~ RSS\ +([0-9.]+)\ bytes/order\ +heap\ +([0-9.]+)\ bytes/order ]] &&
    awk -v a="${BASH_REMATCH[1]}" -v b="${BASH_REMATCH[2]}" 'BEGIN { exit !(a > 0 && b > 0) }'; then
    ok "memory per order ($kind): $line"
  else
    fail "memory per order ($kind): no figures above zero in \"$line\""
  fi
done

# Connections: the idle figures and the storm ratio, numbers above zero.
for pat in "idle keep-alive connections, engine: ([0-9.]+) KB" "idle keep-alive connections, nginx: ([0-9.]+) KB" \
  "connections: median ([0-9.]+) of"; do
  if [[ "$(cat "$report")" =~ $pat ]] &&
    awk -v a="${BASH_REMATCH[1]}" 'BEGIN { exit !(a > 0) }'; then
    ok "connections: ${BASH_REMATCH[0]}"
  else
    fail "connections: no figure above zero matching \"$pat\""
  fi
done

# Summary ratios and figures: "| figure | number |" rows, each a number above zero.
rows=0
while IFS='|' read -r _ name value _; do
  value="$(sed 's/^ *//; s/ *$//; s/^[+-]//; s/%$//' <<<"$value")"
  first="${value%% *}"
  [[ "$name" == *"vs 1000/s"* ]] && continue   # a deviation: may be 0 or negative
  rows=$((rows + 1))
  positive "$first" || fail "summary: \"$name\" is not a number above zero: $value"
done < <(sed -n '/^## Summary/,/^<!-- hand-written: begin -->/p' "$report" | grep '^| ' | grep -v '^| figure\|^|---')
((rows >= 4)) && ok "summary: $rows figures above zero" || fail "summary: only $rows figures"

# The order-endpoint and rate-limited tables (the floor too): requests/s above zero on every row.
for target in nginx engine-atomic engine floor; do
  line="$(grep -m1 "^| $target |" "$report" || true)"
  [[ -n "$line" ]] || { fail "no table row for $target"; continue; }
  rps="$(awk -F'|' '{ gsub(/ /, "", $3); print $3 }' <<<"$line")"
  positive "$rps" && ok "$target: $rps requests/s" || fail "$target: requests/s not above zero: $line"
done

# The paired Redis runs (when Redis is here): each side's CPU split, wrk and servers above zero.
if grep -q '^| redis-atomic |' "$report"; then
  split="$(grep -m1 -A3 '^CPU per request in the pairs' "$report" | tr '\n' ' ')"
  if [[ "$split" =~ nginx\ runs:\ wrk\ ([0-9.]+)\ µs\ \+\ nginx\ ([0-9.]+)\ µs.*engine\ runs:\ wrk\ ([0-9.]+)\ µs\ \+\ engine\ ([0-9.]+)\ µs\ \+\ redis-server\ ([0-9.]+)\ µs ]] &&
    positive "${BASH_REMATCH[1]}" && positive "${BASH_REMATCH[2]}" && positive "${BASH_REMATCH[3]}" &&
    positive "${BASH_REMATCH[4]}" && positive "${BASH_REMATCH[5]}"; then
    ok "paired CPU split: ${BASH_REMATCH[*]:1}"
  else
    fail "paired CPU split missing or zero: $split"
  fi
fi

# The strategy table: every embedded row has attempts/s, 201s and passed its checks; every
# Redis row has figures too or says why not.
embedded=0
while IFS='|' read -r _ store stock strategy rps n201 _ _ _ _ _ _ checks _; do
  store="$(trim "$store")" strategy="$(trim "$strategy")" rps="$(trim "$rps")"
  if [[ "$rps" == "not available: "* ]]; then
    [[ "$store" == Redis ]] || fail "embedded $strategy not available: $rps"
    ok "$store $strategy: $rps"
    continue
  fi
  [[ "$store" == embedded ]] && embedded=$((embedded + 1))
  positive "$rps" && positive "$(trim "$n201")" && [[ "$(trim "$checks")" == ok ]] &&
    ok "$store $(trim "$stock") $strategy: $rps attempts/s" ||
    fail "strategy row $store $strategy: rps=$rps 201=$n201 checks=$checks"
done < <(grep -E '^\| (embedded|Redis) \|' "$report")
((embedded == 4)) && ok "4 embedded strategy rows" || fail "$embedded embedded strategy rows, want 4"

# The scaling table: every point has hits/s and CPU above zero.
points=0
while IFS='|' read -r _ server threads conns hits _ _ scpu _ wcpu _; do
  points=$((points + 1))
  positive "$(trim "$hits")" && positive "$(trim "$wcpu")" ||
    fail "scaling point $server $threads x $conns: hits=$hits wrk cpu=$wcpu"
  [[ "$(trim "$scpu")" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "scaling point $server $threads x $conns: server cpu=$scpu"
done < <(grep -E '^\| (engine|nginx) \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9.]+ ms \|' "$report")
((points >= 8)) && ok "$points scaling points" || fail "$points scaling points, want 8"
grep -q '^\*\*Bottleneck\.\*\*' "$report" && ok "bottleneck named" || fail "no bottleneck paragraph"

# The spike: the limiter let something through and limited something during the spike.
line="$(grep -m1 '^| during the spike |' "$report" || true)"
IFS='|' read -r _ _ offered admitted limited _ <<<"$line"
positive "$(trim "$offered")" && positive "$(trim "$admitted")" && positive "$(trim "$limited")" &&
  ok "spike: offered $offered, admitted $admitted, limited $limited per second" ||
  fail "spike row: $line"
grep -q 'result: all checks passed' "$report" && ok "spike: seckill-load checks passed" || fail "spike: seckill-load checks did not pass"

if ((failures)); then
  echo "--- bench/run-all output ---" >&2
  cat "$work/run-all.log" >&2
  echo "$failures check(s) failed; report: $report" >&2
  exit 1
fi
echo "all checks passed"
