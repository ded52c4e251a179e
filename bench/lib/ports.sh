# free_port: a loopback port nothing listens on, for the bench scripts (sourced, bash).
#
# Ports come from below the kernel's ephemeral range: a port that is the local end of a client
# connection (wrk opens a thousand, and tests running beside us pick ports with bind(0), which
# draws from that range) cannot be listened on, so a probe that finds it closed would still lose
# the race. Callers define die().
SECKILL_EPHEMERAL_LOW="$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
free_port() {
  local port i low=10000 span
  if ((SECKILL_EPHEMERAL_LOW > low + 2000)); then
    span=$((SECKILL_EPHEMERAL_LOW - low))
  else  # an unusual range that starts low: use the ports above it instead
    low=61000 span=4000
  fi
  for i in $(seq 1 200); do
    port=$((low + RANDOM % span))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}
