#!/usr/bin/env bash
# The Debian packages, checked without touching the system: built by CPack from the build
# directory, their metadata, contents and dependencies (dpkg-deb), lintian without errors, the
# unit (systemd-analyze verify, exposure <= 2.0), and the engine package unpacked into a temp
# root and started with its own packaged config: /healthz answers 200, and the admin API
# refuses a call without a token.
#
#   tests/installer/package_test.sh BUILD_DIR
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
ROOT_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d /tmp/seckill-pkg.XXXXXX)"
ENGINE_PID=""
cleanup() {
  [[ -z "$ENGINE_PID" ]] || kill -TERM "$ENGINE_PID" 2>/dev/null || true
  [[ -z "$ENGINE_PID" ]] || wait "$ENGINE_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "==> $*"; }
source "$ROOT_SRC/bench/lib/ports.sh"
die() { fail "$@"; }

VERSION="$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")/\1/p' "$BUILD/CPackConfig.cmake")"
[[ -n "$VERSION" ]] || fail "no CPackConfig.cmake in $BUILD (configure and build first)"

say "cpack -G DEB;TGZ ($VERSION)"
(cd "$BUILD" && cpack -G "DEB;TGZ" -B "$TMP/out" >"$TMP/cpack.log" 2>&1) || fail "cpack: $(tail -20 "$TMP/cpack.log")"
ENGINE_DEB="$(ls "$TMP"/out/seckill-engine_"$VERSION"_*.deb 2>/dev/null | head -1)"
[[ -f "$ENGINE_DEB" ]] || fail "no seckill-engine .deb: $(ls "$TMP/out")"
ls "$TMP"/out/*.tar.gz >/dev/null 2>&1 || fail "no .tar.gz archives"

check_deb() {  # DEB PACKAGE: name, version, a shlibdeps Depends, no lintian error
  local deb="$1" pkg="$2"
  [[ "$(dpkg-deb -f "$deb" Package)" == "$pkg" ]] || fail "$deb: Package is not $pkg"
  [[ "$(dpkg-deb -f "$deb" Version)" == "$VERSION" ]] || fail "$deb: Version is not $VERSION"
  local depends
  depends="$(dpkg-deb -f "$deb" Depends)"
  [[ "$depends" == *libc6* ]] || fail "$deb: Depends has no libc6 (shlibdeps did not run): $depends"
  say "$pkg: Depends: $depends"
  if command -v lintian >/dev/null 2>&1; then
    lintian --allow-root --no-tag-display-limit "$deb" >"$TMP/lintian-$pkg.log" 2>&1 || true
    if grep -q '^E: ' "$TMP/lintian-$pkg.log"; then
      fail "lintian errors in $pkg:"$'\n'"$(grep '^E: ' "$TMP/lintian-$pkg.log")"
    fi
    say "$pkg: lintian: $(grep -c '^W: ' "$TMP/lintian-$pkg.log" || true) warning(s), no error"
  else
    fail "lintian is not installed (installer/install-deps.sh installs it)"
  fi
}
check_contents() {  # DEB PATH...
  local deb="$1" listing
  shift
  listing="$(dpkg-deb -c "$deb")"
  for p in "$@"; do
    grep -q " \.$p\$" <<<"$listing" || fail "$deb lacks $p"
  done
}

check_deb "$ENGINE_DEB" seckill-engine
[[ "$(dpkg-deb -f "$ENGINE_DEB" Depends)" == *libgrpc++* ]] || fail "seckill-engine does not depend on libgrpc++"
check_contents "$ENGINE_DEB" /usr/bin/seckill-engine /usr/bin/seckillctl /etc/seckill/engine.toml \
  /lib/systemd/system/seckill-engine.service /usr/share/doc/seckill-engine/copyright \
  /usr/share/doc/seckill-engine/changelog.gz
dpkg-deb --ctrl-tarfile "$ENGINE_DEB" | tar -tf - | grep -q conffiles || fail "no conffiles"
dpkg-deb -e "$ENGINE_DEB" "$TMP/control"
grep -qx /etc/seckill/engine.toml "$TMP/control/conffiles" || fail "engine.toml is not a conffile"
for s in postinst prerm postrm; do [[ -x "$TMP/control/$s" ]] || fail "no $s"; done

CONSOLE_DEB="$(ls "$TMP"/out/seckill-console_"$VERSION"_*.deb 2>/dev/null | head -1 || true)"
if [[ -n "$CONSOLE_DEB" ]]; then
  check_deb "$CONSOLE_DEB" seckill-console
  [[ "$(dpkg-deb -f "$CONSOLE_DEB" Depends)" == *libqt6charts6* ]] || fail "seckill-console does not depend on libqt6charts6"
  check_contents "$CONSOLE_DEB" /usr/bin/seckill-console /usr/share/applications/seckill-console.desktop \
    /usr/share/metainfo/seckill-console.metainfo.xml \
    /usr/share/icons/hicolor/scalable/apps/seckill-console.svg \
    /usr/share/icons/hicolor/48x48/apps/seckill-console.png
fi
TOOLS_DEB="$(ls "$TMP"/out/seckill-tools_"$VERSION"_*.deb 2>/dev/null | head -1 || true)"
[[ -f "$TOOLS_DEB" ]] || fail "no seckill-tools .deb"
check_deb "$TOOLS_DEB" seckill-tools
check_contents "$TOOLS_DEB" /usr/bin/seckill-load

# The unit, as packaged.
ROOT="$TMP/root"
dpkg-deb -x "$ENGINE_DEB" "$ROOT"
UNIT="$ROOT/lib/systemd/system/seckill-engine.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  # verify wants the binaries the unit runs on this host: the same unit, pointed at the
  # unpacked ones.
  mkdir -p "$TMP/unit"
  sed "s#/usr/bin/seckill-engine#$ROOT/usr/bin/seckill-engine#g" "$UNIT" >"$TMP/unit/seckill-engine.service"
  systemd-analyze verify "$TMP/unit/seckill-engine.service" >"$TMP/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
  exposure="$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')"
  [[ -n "$exposure" ]] || fail "systemd-analyze security gave no exposure level"
  awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "exposure $exposure > 2.0"
  say "unit: verified, exposure $exposure"
else
  fail "systemd-analyze is not installed (package systemd)"
fi

# The packaged binary with the packaged config: the listeners and the state dir moved to temp
# places, a tokens file of its own.
PORT="$(free_port)"
ADMIN="$(free_port)"
printf 'pkg-test-token-0123456789abcdef operator test\n' >"$TMP/tokens"
chmod 600 "$TMP/tokens"
"$ROOT/usr/bin/seckill-engine" --config "$ROOT/etc/seckill/engine.toml" --listen "127.0.0.1:$PORT" \
  --admin-listen "127.0.0.1:$ADMIN" --admin-tokens "$TMP/tokens" --state-dir "$TMP/state" \
  >"$TMP/engine.log" 2>&1 &
ENGINE_PID=$!
for _ in $(seq 1 100); do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PORT/healthz" || true)"
  [[ "$code" == 200 ]] && break
  kill -0 "$ENGINE_PID" 2>/dev/null || fail "the packaged engine exited: $(cat "$TMP/engine.log")"
  sleep 0.1
done
[[ "$code" == 200 ]] || fail "/healthz did not answer 200: $(cat "$TMP/engine.log")"
set +e
SECKILL_TOKEN_FILE= "$ROOT/usr/bin/seckillctl" --engine "127.0.0.1:$ADMIN" status >"$TMP/noauth.out" 2>&1
rc=$?
set -e
[[ $rc == 3 ]] || fail "seckillctl without a token: exit $rc, not 3: $(cat "$TMP/noauth.out")"
grep -q UNAUTHENTICATED "$TMP/noauth.out" || fail "no UNAUTHENTICATED: $(cat "$TMP/noauth.out")"
"$ROOT/usr/bin/seckillctl" --engine "127.0.0.1:$ADMIN" --token-file "$TMP/tokens" status >"$TMP/auth.out" 2>&1 ||
  fail "seckillctl with the token: $(cat "$TMP/auth.out")"
say "packaged engine: /healthz 200; admin API refuses a call without a token and answers with one"
kill -TERM "$ENGINE_PID"
wait "$ENGINE_PID" || fail "the engine did not stop cleanly: $(tail -5 "$TMP/engine.log")"
ENGINE_PID=""
echo "PASS"
