#!/usr/bin/env bash
# Installs the seckill packages for real and takes them through their life: opt-in, needs root
# and a throwaway Debian 12 machine (it changes the system; the test suite never runs it).
#
#   installer/test-install.sh PACKAGE_DIR
#
# PACKAGE_DIR holds seckill-engine_*.deb (and seckill-tools, seckill-console if built), e.g.
# build/packages after `(cd build && cpack -G DEB)`. Steps: apt install ./seckill-engine_*.deb
# (pulling what it depends on), the service started (systemctl when systemd is PID 1, else the
# binary as the unit runs it), /healthz 200, `seckillctl status` with the token the install made,
# a reload, an edit of /etc/seckill/engine.toml, an upgrade to a rebuilt package (same content,
# a higher version) that keeps the edit, the token and the state, remove (config kept), purge
# (config, token and state gone).
set -euo pipefail
DIR="$(cd "$1" && pwd)"
((EUID == 0)) || { echo "test-install: run as root on a throwaway machine" >&2; exit 2; }
ENGINE_DEB="$(ls "$DIR"/seckill-engine_*.deb | head -1)"
WORK="$(mktemp -d /tmp/seckill-install.XXXXXX)"
say() { echo "==> $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
SYSTEMD=0
[[ "$(cat /proc/1/comm 2>/dev/null)" == systemd ]] && SYSTEMD=1
MANUAL_PID=""

start_service() {
  if ((SYSTEMD)); then
    systemctl restart seckill-engine
  else
    # As the unit would run it, minus the sandbox: the credential by hand.
    install -d -m 0700 /run/credentials/seckill-engine.service /var/lib/seckill
    install -m 0400 /etc/seckill/admin.tokens /run/credentials/seckill-engine.service/admin.tokens
    /usr/bin/seckill-engine --config /etc/seckill/engine.toml --check
    /usr/bin/seckill-engine --config /etc/seckill/engine.toml >"$WORK/engine.log" 2>&1 &
    MANUAL_PID=$!
  fi
  for _ in $(seq 1 100); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:8080/healthz || true)" == 200 ]] && return 0
    sleep 0.1
  done
  fail "/healthz does not answer 200"
}
stop_service() {
  if ((SYSTEMD)); then systemctl stop seckill-engine || true; fi
  if [[ -n "$MANUAL_PID" ]]; then kill -TERM "$MANUAL_PID"; wait "$MANUAL_PID" || true; MANUAL_PID=""; fi
}
reload_service() {
  if ((SYSTEMD)); then systemctl reload seckill-engine; else kill -HUP "$MANUAL_PID"; fi
}

say "apt install $ENGINE_DEB"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y "$ENGINE_DEB" | tee "$WORK/install.log"
grep -q "an operator token for the admin API is in /etc/seckill/admin.tokens" "$WORK/install.log" ||
  fail "the install did not say where the token is"
[[ "$(stat -c %a /etc/seckill/admin.tokens)" == 600 ]] || fail "admin.tokens is not 0600"
start_service
seckillctl --token-file /etc/seckill/admin.tokens status | tee "$WORK/status.out"
grep -q "operator" "$WORK/status.out" || fail "seckillctl status did not answer as the operator"
seckillctl --token-file /etc/seckill/admin.tokens sales create upgrade-check --stock 5 >/dev/null
reload_service
sleep 1
curl -sf http://127.0.0.1:8080/healthz >/dev/null || fail "no /healthz after the reload"

say "edit the config, then upgrade to a rebuilt package"
echo "# edited by test-install" >>/etc/seckill/engine.toml
TOKEN_BEFORE="$(sha256sum /etc/seckill/admin.tokens)"
dpkg-deb -R "$ENGINE_DEB" "$WORK/next"
VERSION="$(dpkg-deb -f "$ENGINE_DEB" Version)"
sed -i "s/^Version: .*/Version: ${VERSION}+1/" "$WORK/next/DEBIAN/control"
dpkg-deb -b "$WORK/next" "$WORK/seckill-engine_${VERSION}+1_amd64.deb" >/dev/null
stop_service
DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold "$WORK/seckill-engine_${VERSION}+1_amd64.deb"
grep -q "edited by test-install" /etc/seckill/engine.toml || fail "the upgrade lost the config edit"
[[ "$(sha256sum /etc/seckill/admin.tokens)" == "$TOKEN_BEFORE" ]] || fail "the upgrade changed the token"
start_service
seckillctl --token-file /etc/seckill/admin.tokens sales get upgrade-check >/dev/null ||
  fail "the upgrade lost the sale made through the API (state dir)"

say "remove, then purge"
stop_service
apt-get remove -y seckill-engine
[[ -f /etc/seckill/engine.toml && -f /etc/seckill/admin.tokens ]] || fail "remove did not keep the config and token"
apt-get purge -y seckill-engine
[[ ! -e /etc/seckill/admin.tokens && ! -e /var/lib/seckill && ! -e /var/lib/private/seckill ]] ||
  fail "purge left the token or the state behind"
echo "PASS"
