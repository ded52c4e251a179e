#!/usr/bin/env bash
# Installs the Debian 12 packages seckill needs to build and test, and only
# those that are missing: a machine that has them all is left untouched (no
# apt-get update, no network). redis-server and mariadb-server are there for the
# Redis and MariaDB tests, which start their own instances on free loopback ports;
# wrk, nginx-light and gnuplot-nox for the smoke test of bench/run-all (and python3 with
# gnuplot for the soak's one-minute form); openssl
# makes the admin API's TLS test certificates; dpkg-dev (dpkg-shlibdeps), lintian and systemd
# (systemd-analyze) check the Debian packages the build makes. libqt6opengl6-dev is only a
# Recommends of qt6-base-dev (skipped here), but Qt6Charts' CMake package needs Qt6::OpenGL;
# xvfb and xauth run the console's screenshots; clang and libclang-rt-dev (libFuzzer) build the
# fuzz targets, which the test suite runs for a short time (docs/fuzzing.md).
#
#   installer/install-deps.sh           build + test dependencies
#   installer/install-deps.sh --bench   also valgrind and linux-perf, for bench/run-all's
#                                       instruction counts
#   installer/install-deps.sh --check   only report what is missing (exit 1 if anything is)
#
# Runs as root; otherwise through sudo when it is available.
set -euo pipefail

packages=(
  build-essential cmake g++ pkg-config
  libboost-dev libboost-system-dev
  libabsl-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev rapidjson-dev
  libhiredis-dev libmariadb-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server mariadb-server
  curl python3
  qt6-base-dev qt6-base-dev-tools qt6-qpa-plugins qt6-charts-dev qt6-svg-dev libgl-dev
  libqt6opengl6-dev libxkbcommon-dev
  fonts-dejavu-core xvfb xauth
  wrk nginx-light gnuplot-nox
  dpkg-dev lintian systemd help2man
  clang libclang-rt-dev
)
# Instruction counts in bench/run-all (perf stat where the CPU counters are readable, else
# callgrind); without them run-all says "not measured".
bench_packages=(valgrind linux-perf)

check_only=0
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=("${bench_packages[@]}") ;;
    --check) check_only=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: missing: ${missing[*]}" >&2
if ((check_only)); then
  exit 1
fi

as_root=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-deps: not root and sudo is not available; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
