#!/usr/bin/env python3
"""The soak's traffic, sampler and checks (bench/soak starts the servers and calls this).

Runs against one engine already listening on --url, whose process is --pid, for --duration
seconds, then checks what docs/soak.md lists and writes into --out:
  samples.tsv   one row per --interval: resources, the engine's p99, Redis memory, orders
  result.json   every figure and check
  chunks.log    the seckill-load chunks' summaries
Exit code: 0 every check passed, 1 a check failed, 2 bad arguments.

Traffic (all of it modest on purpose: the soak is about time and drift, not peak rates):
  - seckill-load, in back-to-back chunks of --chunk seconds (short enough that its own
    one-order-per-user lookups never meet an order already forgotten by the embedded store):
      fresh   sale SALE, new shopper each attempt, token first, 5 % of the orders paid
      pool    sale SALE, one pool of 400 shoppers for the whole soak, 20 % paid (409
              duplicate, re-buys after expiry)
      gated   sale GATED, fresh shoppers above the sale's [[rule]] rate (429 rate_limited)
  - the ledger shoppers (this file): token, order, the same order replayed with its token
    (same order id, Idempotent-Replayed), a second order without a token (409), then pay,
    cancel (and buy again, a repeating shopper) or abandon (the engine expires it); every
    201's order id is recorded and looked up at the end;
  - slow and abandoned connections: silent, partial heads, a byte every second, a request
    whose answer is never read, resets; the engine must close every one by itself;
  - a rule reload every --reload-every seconds: the config file's GATED rate is rewritten
    (alternating two values) and the engine gets SIGHUP.
"""

import argparse
import http.client
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

STOP = threading.Event()
LOCK = threading.Lock()


def log(msg):
    print(f"soak: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /metrics and /proc


def http_get(host, port, path, timeout=5.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def parse_metrics(text):
    """{name: {labels_string: value}}; labels_string is '' or 'k="v",...'."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == '#':
            continue
        m = METRIC_RE.match(line)
        if not m:
            continue
        labels = (m.group(2) or '')[1:-1]
        out.setdefault(m.group(1), {})[labels] = float(m.group(3))
    return out


def metric(m, name, labels=''):
    return m.get(name, {}).get(labels, 0.0)


def metric_sum(m, name):
    return sum(m.get(name, {}).values())


def buckets(m):
    """The latency histogram as [(upper bound in s, cumulative count)], +Inf last."""
    out = []
    for labels, v in m.get("seckill_http_request_duration_seconds_bucket", {}).items():
        le = labels.split('"')[1]
        out.append((float('inf') if le == "+Inf" else float(le), v))
    return sorted(out)


def window_quantile(b0, b1, q):
    """The q-quantile (ms) of the requests between two cumulative histograms, interpolated
    linearly inside its bucket as Prometheus' histogram_quantile does; None when empty."""
    if not b0 or not b1:
        return None
    delta = [(ub, c1 - c0) for (ub, c1), (_, c0) in zip(b1, b0)]
    total = delta[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower, prev = 0.0, 0.0
    for ub, c in delta:
        if c >= rank:
            if ub == float('inf'):
                return lower * 1000
            inside = c - prev
            frac = (rank - prev) / inside if inside > 0 else 1.0
            return (lower + (ub - lower) * frac) * 1000
        lower, prev = ub, c
    return None


def proc_status(pid):
    rss = threads = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads, len(os.listdir(f"/proc/{pid}/fd"))


def redis_used_memory(port):
    """used_memory of the redis-server on 127.0.0.1:port, in bytes (inline INFO command)."""
    if not port:
        return None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"INFO memory\r\n")
            data = b""
            while b"\r\n" not in data:
                data += s.recv(4096)
            size = int(data[1:data.index(b"\r\n")])
            start = data.index(b"\r\n") + 2
            while len(data) < start + size:
                data += s.recv(65536)
            for line in data[start:start + size].decode().splitlines():
                if line.startswith("used_memory:"):
                    return int(line.split(":")[1])
    except (OSError, ValueError):
        return None
    return None


# ---------------------------------------------------------------- sampler


class Sampler(threading.Thread):
    def __init__(self, a, t0):
        super().__init__(daemon=True)
        self.a, self.t0 = a, t0
        self.rows = []  # dicts, with the raw buckets under "_b"

    def sample(self):
        a = self.a
        rss, threads, fds = proc_status(a.pid)
        _, text = http_get(a.host, a.port, "/metrics")
        m = parse_metrics(text)
        orders = metric_sum(m, "seckill_orders")
        row = {
            "t": round(time.monotonic() - self.t0, 1),
            "rss_kb": rss, "fds": fds, "threads": threads,
            "connections": int(metric(m, "seckill_http_connections")),
            "orders_total": int(orders),
            "orders_held": int(orders - metric(m, "seckill_orders_forgotten_total")),
            "forgotten": int(metric(m, "seckill_orders_forgotten_total")),
            # The one-hour stats ring, which grows for the engine's first hour by design.
            "history_kb": int(metric(m, "seckill_stats_history_bytes")) // 1024,
            "redis_used_kb": (lambda v: None if v is None else v // 1024)(redis_used_memory(a.redis_port)),
            "_b": buckets(m),
        }
        prev = self.rows[-1]["_b"] if self.rows else None
        row["p99_ms"] = window_quantile(prev, row["_b"], 0.99)
        self.rows.append(row)
        return row

    def run(self):
        next_at = time.monotonic()
        while not STOP.is_set():
            try:
                r = self.sample()
                log(f"t={r['t']:.0f}s rss={r['rss_kb']}kB fds={r['fds']} threads={r['threads']} "
                    f"p99={fmt(r['p99_ms'])}ms orders held={r['orders_held']} "
                    f"redis={r['redis_used_kb']}kB")
            except OSError as e:
                log(f"sample failed: {e}")
            next_at += self.a.interval
            STOP.wait(max(0.0, next_at - time.monotonic()))


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


# ---------------------------------------------------------------- rule reloads


class Reloader(threading.Thread):
    def __init__(self, a):
        super().__init__(daemon=True)
        self.a = a
        self.sent = 0
        with open(a.rule_template) as f:
            self.template = f.read()

    def run(self):
        rates = self.a.gated_rates
        while not STOP.wait(self.a.reload_every):
            rate = rates[(self.sent + 1) % len(rates)]
            tmp = self.a.config + ".new"
            with open(tmp, "w") as f:
                f.write(self.template.replace("@GATED_RATE@", str(rate)))
            os.replace(tmp, self.a.config)
            os.kill(self.a.pid, signal.SIGHUP)
            self.sent += 1
            log(f"rule reload {self.sent}: gated rate {rate}/s, SIGHUP sent")


# ---------------------------------------------------------------- seckill-load chunks

SUMMARY_RE = {k: re.compile(r"^\s+" + re.escape(k) + r"\s+(\d+)", re.M)
              for k in ("offered", "sent", "201", "409", "410", "429", "503", "other", "errors",
                        "paid", "pay failed", "replayed", "token failures")}


class LoadStream(threading.Thread):
    """seckill-load runs, one after the other, until the end of the soak."""

    def __init__(self, a, name, args, t_end):
        super().__init__(daemon=True)
        self.a, self.name, self.args, self.t_end = a, name, args, t_end
        self.totals = {k: 0 for k in SUMMARY_RE}
        self.chunks = 0
        self.failed = []
        self.p99s = []

    def run(self):
        while not STOP.is_set():
            left = self.t_end - time.monotonic()
            if left < 5:
                break
            length = int(min(self.a.chunk, left))
            cmd = [self.a.load, "--url", self.a.url, "--duration", f"{length}s", "--drain", "3s",
                   "--no-progress", "--threads", "1"] + self.args
            p = subprocess.run(cmd, capture_output=True, text=True)
            self.chunks += 1
            with LOCK, open(os.path.join(self.a.out, "chunks.log"), "a") as f:
                f.write(f"==== {self.name} chunk {self.chunks}: {' '.join(cmd)} (exit {p.returncode})\n")
                f.write(p.stdout)
                f.write(p.stderr)
            for k, rx in SUMMARY_RE.items():
                mm = rx.search(p.stdout)
                if mm:
                    self.totals[k] += int(mm.group(1))
            mm = re.search(r"p99 ([0-9.]+)", p.stdout)
            if mm:
                self.p99s.append(float(mm.group(1)))
            if p.returncode != 0:
                self.failed.append(f"chunk {self.chunks} exit {p.returncode}: "
                                   + "; ".join(l.strip() for l in (p.stdout + p.stderr).splitlines()
                                               if "violation" in l or "FAIL" in l or "error" in l.lower())[:300])


# ---------------------------------------------------------------- ledger shoppers


class Ledger(threading.Thread):
    """Shoppers whose every order is recorded: id, fate, and when it finished."""

    FATES = ("pay", "cancel", "abandon")

    def __init__(self, a, index, run_id):
        super().__init__(daemon=True)
        self.a, self.index, self.run_id = a, index, run_id
        self.orders = []  # {id, user, fate, done_at (monotonic), pay_before_mono}
        self.problems = []
        self.counts = {"attempts": 0, "201": 0, "replays_ok": 0, "dup_409": 0, "410": 0,
                       "other": 0, "errors": 0}
        self.conn = None

    def request(self, method, path, user, headers=None):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.a.host, self.a.port, timeout=5)
                h = {"X-User-Id": user, "Content-Length": "0"}
                h.update(headers or {})
                self.conn.request(method, path, headers=h)
                r = self.conn.getresponse()
                body = r.read()
                return r.status, (json.loads(body) if body else {}), r
            except (OSError, http.client.HTTPException, ValueError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise OSError("unreachable")

    def problem(self, msg):
        with LOCK:
            if len(self.problems) < 20:
                self.problems.append(msg)

    def shop(self, n):
        a = self.a
        user = f"lg{self.run_id}-{self.index}-{n}"
        fate = self.FATES[n % 3]
        base = f"/api/v1/sales/{a.sale}"
        # "cancel": the shopper cancels, comes back and pays (a repeating shopper).
        actions = ["cancel", "pay"] if fate == "cancel" else [fate]
        for action in actions:
            self.counts["attempts"] += 1
            st, tok, _ = self.request("POST", base + "/tokens", user)
            if st != 200:
                self.counts["other"] += 1
                self.problem(f"{user}: token answered {st} {tok}")
                return
            key = {"Idempotency-Key": tok["token"]}
            st, order, _ = self.request("POST", base + "/orders", user, key)
            if st == 410:
                self.counts["410"] += 1
                return
            if st != 201:
                self.counts["other"] += 1
                self.problem(f"{user}: order answered {st} {order}")
                return
            self.counts["201"] += 1
            oid = order["order_id"]
            rec = {"id": oid, "user": user, "fate": action, "created": time.monotonic()}
            with LOCK:
                self.orders.append(rec)
            st, again, resp = self.request("POST", base + "/orders", user, key)
            if (st == 201 and again.get("order_id") == oid
                    and resp.getheader("Idempotent-Replayed") == "true"):
                self.counts["replays_ok"] += 1
            else:
                self.problem(f"{user}: replay of {oid} answered {st} {again}")
            st, dup, _ = self.request("POST", base + "/orders", user)
            if st == 409:
                self.counts["dup_409"] += 1
            else:
                self.problem(f"{user}: second order without token answered {st} {dup}")
            if action == "cancel":
                st, body, _ = self.request("POST", f"/api/v1/orders/{oid}/cancel", user)
                ok = st == 200 and body.get("state") == "cancelled"
            elif action == "pay":
                st, body, _ = self.request("POST", f"/api/v1/orders/{oid}/pay", user)
                ok = st == 200 and body.get("state") == "paid"
            else:
                st, body, _ = self.request("GET", f"/api/v1/orders/{oid}", user)
                ok = st == 200 and body.get("state") == "pending_payment"
            rec["done_at"] = time.monotonic()
            if not ok:
                self.problem(f"{user}: {action} of {oid} answered {st} {body}")

    def run(self):
        period = 1.0 / self.a.ledger_rate
        n = 0
        next_at = time.monotonic()
        while not STOP.is_set() and time.monotonic() < self.a.t_end:
            try:
                self.shop(n)
            except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                self.counts["errors"] += 1
                self.problem(f"shopper {n}: {e!r}")
            n += 1
            next_at += period
            STOP.wait(max(0.0, next_at - time.monotonic()))
        if self.conn:
            self.conn.close()


# ---------------------------------------------------------------- slow and abandoned connections


TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8  # linux/tcp_states.h


def tcp_state(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


class SlowClients(threading.Thread):
    """Every few seconds, opens connections that misbehave and leaves them; records when the
    engine closes each (EOF or reset on our side)."""

    KINDS = ("silent", "partial_head", "byte_a_second", "unread_answer", "reset")

    def __init__(self, a):
        super().__init__(daemon=True)
        self.a = a
        self.live = {}  # socket -> [kind, opened, next_byte_at, bytes_sent]
        self.closed = {k: [] for k in self.KINDS}  # lifetimes, s
        self.opened = {k: 0 for k in self.KINDS}
        self.head = (f"POST /api/v1/sales/{a.sale}/orders HTTP/1.1\r\nHost: soak\r\n"
                     "X-User-Id: slowpoke\r\nContent-Length: 0\r\n\r\n").encode()

    def open_one(self, kind):
        s = socket.create_connection((self.a.host, self.a.port), timeout=2)
        s.setblocking(False)
        now = time.monotonic()
        self.opened[kind] += 1
        if kind == "partial_head":
            s.send(self.head[:40])
        elif kind == "unread_answer":
            s.send(f"GET /api/v1/sales/{self.a.sale} HTTP/1.1\r\nHost: soak\r\n\r\n".encode())
        elif kind == "reset":
            s.send(self.head[:25])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST with a request half sent
            self.closed[kind].append(0.0)
            return
        self.live[s] = [kind, now, now + 1.0, 0]

    def run(self):
        next_open = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_open and not STOP.is_set() and now < self.a.t_end:
                for kind in self.KINDS:
                    try:
                        self.open_one(kind)
                    except OSError as e:
                        log(f"slow client {kind}: {e}")
                next_open = now + self.a.slow_every
            if STOP.is_set() and not self.live:
                return
            for s, st in list(self.live.items()):
                if st[0] == "byte_a_second" and now >= st[2] and st[3] < len(self.head):
                    try:
                        s.send(self.head[st[3]:st[3] + 1])
                        st[3] += 1
                    except OSError:
                        pass
                    st[2] = now + 1.0
            # unread_answer is never read (its answer stays in our buffer): its close shows
            # as TCP_INFO's state CLOSE_WAIT (the engine's FIN arrived). The others are read.
            gone = [s for s, st in self.live.items()
                    if st[0] == "unread_answer" and tcp_state(s) in (TCP_CLOSE_WAIT, TCP_CLOSE)]
            watched = [s for s, st in self.live.items() if st[0] != "unread_answer"]
            readable = select.select(watched, [], [], 0.2)[0] if watched else []
            if not watched:
                STOP.wait(0.2)
            for s in readable:
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    gone.append(s)  # else an answer (408, 400) before the close
            for s in gone:
                kind, opened = self.live.pop(s)[:2]
                self.closed[kind].append(time.monotonic() - opened)
                s.close()
            if STOP.is_set() and time.monotonic() > self.a.stop_at + self.a.slow_grace:
                return

    def leftovers(self):
        out = {}
        for s, st in self.live.items():
            out.setdefault(st[0], []).append(round(time.monotonic() - st[1], 1))
            s.close()
        return out


# ---------------------------------------------------------------- checks


def mysql_query(a, sql):
    p = subprocess.run(["mariadb", "--no-defaults", "-uroot", "-S", a.mysql_socket, "-N", "-B",
                        a.mysql_db, "-e", sql], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    return [line.split("\t") for line in p.stdout.splitlines() if line]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--load", required=True, help="seckill-load binary")
    ap.add_argument("--config", required=True, help="the engine's config file (rewritten on reloads)")
    ap.add_argument("--rule-template", required=True, help="the config with @GATED_RATE@")
    ap.add_argument("--gated-rates", default="10,12")
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--reload-every", type=float, default=30)
    ap.add_argument("--chunk", type=float, default=25)
    ap.add_argument("--sale", default="soak")
    ap.add_argument("--gated", default="gated")
    ap.add_argument("--pay-timeout", type=float, required=True)
    ap.add_argument("--keep-finished", type=float, default=None, help="memory orders: [orders] keep_finished, s")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every rate")
    ap.add_argument("--ledger-rate", type=float, default=1.5, help="ledger shoppers per second (2 threads)")
    ap.add_argument("--slow-every", type=float, default=5.0)
    ap.add_argument("--slow-grace", type=float, default=35.0)
    ap.add_argument("--rss-growth", type=float, default=5.0, help="max RSS growth after warm-up, %%")
    ap.add_argument("--p99-factor", type=float, default=2.0)
    ap.add_argument("--fd-slack", type=int, default=10)
    ap.add_argument("--redis-port", type=int, default=0)
    ap.add_argument("--mysql-socket", default="")
    ap.add_argument("--mysql-db", default="seckill")
    a = ap.parse_args()
    m = re.match(r"http://([0-9.]+):(\d+)$", a.url)
    if not m:
        ap.error("--url wants http://IP:PORT")
    a.host, a.port = m.group(1), int(m.group(2))
    a.gated_rates = [int(x) for x in a.gated_rates.split(",")]
    a.ledger_rate = a.ledger_rate * a.scale / 2  # per thread
    os.makedirs(a.out, exist_ok=True)
    open(os.path.join(a.out, "chunks.log"), "w").close()
    production = bool(a.mysql_socket)

    def rate(r):
        return max(1, round(r * a.scale))

    sampler = Sampler(a, time.monotonic())
    sampler.sample()  # before any traffic
    idle = sampler.rows[0]
    log(f"idle engine: rss {idle['rss_kb']} kB, fds {idle['fds']}, threads {idle['threads']}")
    m0 = parse_metrics(http_get(a.host, a.port, "/metrics")[1])

    t0 = time.monotonic()
    sampler.t0 = t0
    sampler.rows[0]["t"] = 0.0
    a.t_end = t0 + a.duration
    run_id = f"{int(time.time()) % 100000:05d}{random.randrange(1000):03d}"
    # The gated sale is offered twice its limit whatever --scale says: the 429s are the point.
    gated_rate = max(rate(20), 2 * max(a.gated_rates))
    streams = [
        LoadStream(a, "fresh", ["--sale", a.sale, "--users", "fresh", "--token", "--pay-fraction", "0.05",
                                "--connections", "4", "--shape", f"steady:{rate(12)}"], a.t_end),
        # One pool for the whole soak (a fixed prefix): the same 400 shoppers in every chunk.
        LoadStream(a, "pool", ["--sale", a.sale, "--users", "pool:400", "--user-prefix", f"pl{run_id}",
                               "--pay-fraction", "0.2",
                               "--connections", "4", "--shape", f"steady:{rate(8)}"], a.t_end),
        LoadStream(a, "gated", ["--sale", a.gated, "--users", "fresh", "--connections", "4",
                                "--shape", f"steady:{gated_rate}"], a.t_end),
    ]
    ledgers = [Ledger(a, i, run_id) for i in range(2)]
    slow = SlowClients(a)
    reloader = Reloader(a)
    a.stop_at = a.t_end
    for th in streams + ledgers + [slow, reloader]:
        th.start()
    sampler.start()
    log(f"traffic for {a.duration:.0f}s: seckill-load fresh {rate(12)}/s, pool {rate(8)}/s, "
        f"gated {gated_rate}/s; ledger {2 * a.ledger_rate:.1f} shoppers/s; slow connections "
        f"{len(SlowClients.KINDS)} every {a.slow_every:.0f}s; rule reload every {a.reload_every:.0f}s")

    for th in streams + ledgers:
        th.join(timeout=max(1.0, a.t_end - time.monotonic() + 60))
    STOP.set()
    sampler.join()
    if time.monotonic() - t0 - sampler.rows[-1]["t"] >= a.interval / 2:
        sampler.sample()  # the end of the traffic (a shorter interval: skipped when tiny)
    reloader.join()
    last_traffic = time.monotonic()
    a.stop_at = last_traffic
    rows = sampler.rows

    # Quiesce: every unpaid order expires, the slow connections are closed by the engine.
    settle = a.pay_timeout + 3
    log(f"traffic over; waiting {settle:.0f}s for the last unpaid orders to expire")
    time.sleep(settle)
    if production:
        for _ in range(60):
            mm = parse_metrics(http_get(a.host, a.port, "/metrics")[1])
            if metric(mm, "seckill_order_writer_lag") == 0:
                break
            time.sleep(0.5)
        time.sleep(2.5)  # the repository's counts refresh every second
    slow.join(timeout=a.slow_grace + 5)
    # Wait for the engine to close what is left (idle keep-alives, the slow connections).
    after = [r for r in rows if r["t"] >= a.warmup - 0.5]
    base = after[0] if after else rows[-1]
    own_base = base["fds"] - base["connections"]
    for _ in range(int(a.slow_grace * 2)):
        m1 = parse_metrics(http_get(a.host, a.port, "/metrics")[1])
        fd_after = proc_status(a.pid)[2]
        conns_after = int(metric(m1, "seckill_http_connections"))
        if conns_after <= 1 and fd_after - conns_after <= own_base + 2:
            break
        time.sleep(0.5)
    leftovers = slow.leftovers()

    checks = []

    def check(name, ok, detail):
        checks.append({"check": name, "ok": bool(ok), "detail": detail})
        log(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")

    # ---- resources
    end = rows[-1]
    # Growth without the stats history's own (it fills for an hour, then stays; an engine older
    # than its gauge reports 0, and then nothing is taken out).
    history_growth = end["history_kb"] - base["history_kb"]
    raw = 100.0 * (end["rss_kb"] - base["rss_kb"]) / base["rss_kb"]
    growth = 100.0 * (end["rss_kb"] - base["rss_kb"] - history_growth) / base["rss_kb"]
    peak = max(r["rss_kb"] for r in after) if after else end["rss_kb"]
    check("rss bounded", growth <= a.rss_growth,
          f"{base['rss_kb']} kB at {base['t']:.0f}s -> {end['rss_kb']} kB at {end['t']:.0f}s "
          f"({raw:+.1f}%; {growth:+.1f}% without the stats history's {history_growth:+d} kB, "
          f"limit +{a.rss_growth:g}%; peak after warm-up {peak} kB)")
    third = max(1, len(after) // 3)
    fd_first = max(r["fds"] for r in after[:third]) if after else idle["fds"]
    fd_last = max(r["fds"] for r in after[-third:]) if after else idle["fds"]
    # After the run: the fds that are not shopper connections (listeners, backends' sockets,
    # files) as many as at the end of warm-up; the backends' pools may have grown until then.
    check("fds flat", fd_last <= fd_first + a.fd_slack and fd_after - conns_after <= own_base + 2,
          f"max {fd_first} in the first third after warm-up, {fd_last} in the last third "
          f"(slack {a.fd_slack}); without shopper connections: {own_base} at {base['t']:.0f}s, "
          f"{fd_after - conns_after} after the run ({conns_after} connections left; idle engine "
          f"{idle['fds']} fds)")
    th_after = sorted({r["threads"] for r in after}) if after else [end["threads"]]
    check("threads flat", len(th_after) == 1 and th_after[0] == end["threads"],
          f"threads after warm-up: {th_after} (idle {idle['threads']})")

    def at(t):
        return min(rows, key=lambda r: abs(r["t"] - t))
    span = min(60.0, a.warmup)
    first = window_quantile(rows[0]["_b"], at(span)["_b"], 0.99)
    last_a = at(end["t"] - span)
    last = window_quantile(last_a["_b"], end["_b"], 0.99)
    check("p99 stable", first is not None and last is not None and last <= a.p99_factor * first,
          f"engine p99 {fmt(first)} ms over 0-{at(span)['t']:.0f}s, {fmt(last)} ms over "
          f"{last_a['t']:.0f}-{end['t']:.0f}s (limit {a.p99_factor:g}x)")

    # ---- the books
    sales = (a.sale, a.gated)
    total = sum(metric(m1, "seckill_stock_total", f'sale="{s}"') for s in sales)
    left = sum(metric(m1, "seckill_stock_left", f'sale="{s}"') for s in sales)
    paid = metric(m1, "seckill_orders", 'state="paid"')
    pending = metric(m1, "seckill_orders", 'state="pending_payment"')
    cancelled = metric(m1, "seckill_orders", 'state="cancelled"')
    check("stock balances", total == paid + pending + left,
          f"stock {total:.0f} = paid {paid:.0f} + pending {pending:.0f} + left {left:.0f}"
          f" (= {paid + pending + left:.0f})")

    load_201 = sum(s.totals["201"] for s in streams)
    load_paid = sum(s.totals["paid"] for s in streams)
    load_err = sum(s.totals["errors"] for s in streams)
    ledger_orders = [o for l in ledgers for o in l.orders]
    ledger_201 = len(ledger_orders)
    ids = [o["id"] for o in ledger_orders]
    all_201 = load_201 + ledger_201
    created = metric(m1, "seckill_order_events_total", 'event="created"') - \
        metric(m0, "seckill_order_events_total", 'event="created"')
    # An error (no answer: reset, timeout) may or may not have created an order; none may be
    # missing and none may be counted twice.
    check("every 201 is one order", all_201 <= created <= all_201 + load_err
          and len(set(ids)) == len(ids) and paid + pending + cancelled == created,
          f"201s: seckill-load {load_201} + ledger {ledger_201} = {all_201}; orders created "
          f"{created:.0f}; orders by state {paid + pending + cancelled:.0f}; ledger ids distinct "
          f"{len(set(ids))}/{len(ids)}; seckill-load errors (answer unknown) {load_err}")

    ledger_paid = sum(1 for o in ledger_orders if o["fate"] == "pay")
    ledger_cancel = sum(1 for o in ledger_orders if o["fate"] == "cancel")
    ledger_abandon = sum(1 for o in ledger_orders if o["fate"] == "abandon")
    exp_expired = (load_201 - load_paid) + ledger_abandon
    expired = metric(m1, "seckill_order_events_total", 'event="cancelled_expired"')
    by_shopper = metric(m1, "seckill_order_events_total", 'event="cancelled_shopper"')
    queued = metric(m1, "seckill_cancel_queue_pending")
    check("expired units returned once",
          pending == 0 and expired == exp_expired and by_shopper == ledger_cancel
          and paid == load_paid + ledger_paid and left == total - paid and queued == 0,
          f"pending {pending:.0f} after {settle:.0f}s, delayed cancels queued {queued:.0f}; expired {expired:.0f} (expected "
          f"{exp_expired}: unpaid seckill-load 201s + ledger abandons); shopper cancels "
          f"{by_shopper:.0f} (ledger {ledger_cancel}); paid {paid:.0f} (expected "
          f"{load_paid + ledger_paid}); left {left:.0f} = stock - paid {total - paid:.0f}")

    # Every ledger order, read back: state and reason as its fate says.
    want = {"pay": ("paid", None), "cancel": ("cancelled", "shopper"), "abandon": ("cancelled", "expired")}
    bad, forgotten_ok = [], 0
    conn = http.client.HTTPConnection(a.host, a.port, timeout=5)
    for o in ledger_orders:
        conn.request("GET", f"/api/v1/orders/{o['id']}", headers={"X-User-Id": o["user"]})
        r = conn.getresponse()
        body = r.read()
        if r.status == 404 and not production and a.keep_finished is not None:
            finished = o["done_at"] if o["fate"] != "abandon" else o["created"] + a.pay_timeout
            if time.monotonic() - max(finished, o["created"] + a.pay_timeout) >= a.keep_finished - 2:
                forgotten_ok += 1
                continue
        st = json.loads(body) if body else {}
        state, reason = want[o["fate"]]
        if r.status != 200 or st.get("state") != state or (reason and st.get("cancel_reason") != reason):
            bad.append(f"{o['id']} ({o['fate']}): {r.status} {st}")
    conn.close()
    check("ledger orders as their shoppers left them", not bad,
          f"{ledger_201 - len(bad)}/{ledger_201} read back right ({forgotten_ok} finished and "
          f"forgotten after keep_finished, as documented)" + (f"; wrong: {bad[:5]}" if bad else ""))

    if production:
        rows_db = mysql_query(a, "SELECT state, reason, COUNT(*) FROM orders GROUP BY state, reason")
        n_db = sum(int(r[2]) for r in rows_db)
        by = {(int(r[0]), int(r[1])): int(r[2]) for r in rows_db}
        db_paid = sum(v for (s, _), v in by.items() if s == 1)
        db_pending = sum(v for (s, _), v in by.items() if s == 0)
        check("MariaDB holds every 201 once", n_db == all_201 and db_paid == paid and db_pending == pending,
              f"rows {n_db} (201s {all_201}); paid {db_paid}, pending {db_pending}; by (state, reason): "
              f"{ {f'{k[0]},{k[1]}': v for k, v in sorted(by.items())} }")
        found = {}
        for i in range(0, len(ids), 500):
            part = ",".join("'" + x + "'" for x in ids[i:i + 500])
            for r in mysql_query(a, f"SELECT id, state, reason FROM orders WHERE id IN ({part})"):
                found.setdefault(r[0], []).append((int(r[1]), int(r[2])))
        codes = {"pay": (1, 0), "cancel": (2, 1), "abandon": (2, 2)}
        wrong = [o["id"] for o in ledger_orders if found.get(o["id"]) != [codes[o["fate"]]]]
        check("ledger orders in MariaDB", not wrong,
              f"{ledger_201 - len(wrong)}/{ledger_201} present once with the right state and reason"
              + (f"; wrong: {wrong[:5]}" if wrong else ""))

    # ---- the traffic itself
    failed = [f"{s.name} {f}" for s in streams for f in s.failed]
    check("seckill-load checks", not failed,
          f"{sum(s.chunks for s in streams)} chunks, all checks passed" if not failed else "; ".join(failed[:5]))
    problems = [p for l in ledgers for p in l.problems]
    lc = {k: sum(l.counts[k] for l in ledgers) for k in ledgers[0].counts}
    check("ledger shoppers", not problems and lc["replays_ok"] == ledger_201 and lc["dup_409"] == ledger_201,
          f"{lc['attempts']} attempts, {ledger_201} orders ({ledger_paid} paid, {ledger_cancel} cancelled by "
          f"the shopper, {ledger_abandon} abandoned); replays answered with the same order {lc['replays_ok']}; "
          f"second orders answered 409 {lc['dup_409']}; 410 {lc['410']}"
          + (f"; problems: {problems[:3]}" if problems else ""))
    limited = sum(s.totals["429"] for s in streams)
    check("rate-limited path", limited > 0, f"429 answers: {limited}")
    reloads_ok = metric(m1, "seckill_rules_reloads_total", 'result="ok"') - \
        metric(m0, "seckill_rules_reloads_total", 'result="ok"')
    reloads_bad = metric(m1, "seckill_rules_reloads_total", 'result="rejected"') - \
        metric(m0, "seckill_rules_reloads_total", 'result="rejected"')
    check("rule reloads", reloads_ok == reloader.sent and reloads_bad == 0,
          f"SIGHUPs {reloader.sent}, reloads ok {reloads_ok:.0f}, rejected {reloads_bad:.0f}; rules version "
          f"{metric(m0, 'seckill_rules_version'):.0f} -> {metric(m1, 'seckill_rules_version'):.0f}")
    opened = sum(slow.opened.values())
    closed = {k: len(v) for k, v in slow.closed.items()}
    longest = {k: round(max(v), 1) for k, v in slow.closed.items() if v}
    check("slow connections closed by the engine", not leftovers,
          f"opened {opened} ({', '.join(f'{k} {n}' for k, n in slow.opened.items())}); closed "
          f"{sum(closed.values())}; longest life by kind (s): {longest}"
          + (f"; still open at the end (age s): {leftovers}" if leftovers else ""))

    # ---- files
    cols = ["t", "rss_kb", "fds", "threads", "p99_ms", "connections", "orders_held", "forgotten",
            "orders_total", "redis_used_kb", "history_kb"]
    with open(os.path.join(a.out, "samples.tsv"), "w") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join("" if r[c] is None else (f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]))
                              for c in cols) + "\n")
    summary = {
        "duration_s": a.duration, "warmup_s": a.warmup, "production": production,
        "idle": {k: idle[k] for k in ("rss_kb", "fds", "threads")},
        "load": {s.name: s.totals | {"chunks": s.chunks, "p99_ms_chunks": s.p99s} for s in streams},
        "ledger": lc | {"orders": ledger_201, "paid": ledger_paid, "cancelled": ledger_cancel,
                        "abandoned": ledger_abandon},
        "slow_connections": {"opened": slow.opened, "closed": closed, "longest_s": longest},
        "reloads_sent": reloader.sent,
        "forgotten": metric(m1, "seckill_orders_forgotten_total"),
        "checks": checks,
        "samples": [{k: v for k, v in r.items() if k != "_b"} for r in rows],
    }
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump(summary, f, indent=1)
    ok = all(c["ok"] for c in checks)
    log("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, http.client.HTTPException) as e:
        STOP.set()
        log(f"FAIL the engine stopped answering or died: {e!r}")
        sys.exit(1)
