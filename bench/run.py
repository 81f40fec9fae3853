#!/usr/bin/env python3
"""frontdesk benchmark: the service beside this machine's ceilings, in one run.

Builds the release binary and the bare-axum ceiling (bench/bare.rs, same profile), then:

1. Goals, on 1,000 seeded posts: each frontdesk load alternates with its ceiling, A B A B
   (--pairs, at least three), and the ratio reported is the median of the pairs with its
   range, so one noisy run does not decide:
     GET /v1/posts/{slug}   vs the bare handler answering the same bytes
     GET /v1/posts          vs the bare handler answering the same bytes
     GET /v1/search, a new query each time (pairs of words from the posts' titles and
                            excerpts)  vs pgbench -S
     POST /v1/consultations, the production path (per-IP limit on, a different client
                            address and an Idempotency-Key on every request)
                            vs pgbench running the same statements (bench/capture.sql)
   with resident memory right after start, during and after every load, after 6 and 10
   concurrent logins, and where it goes (/proc smaps).
2. The outbox: 5,000 confirmation emails queued, drained to an SMTP server on loopback
   (bench/smtp_sink.py, started here); mails per second.
3. Growth: 1,000, 10,000 and 100,000 published posts (--sizes): seed time, database size,
   post read, list first and deep page, search, RSS feed, sitemap, RSS.

Everything runs on 127.0.0.1 and stops by itself. Writes bench/RESULTS.md (keeping the
fleet's and the assistant's sections) and bench/out/results.json.

Usage: python3 bench/run.py [--duration 10] [--pairs 3] [--sizes 1000,10000,100000]
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "frontdesk_bench"
PGBENCH_DB = "frontdesk_pgbench"
POOL = 16  # the server's DATABASE_MAX_CONNECTIONS
PORT = 18080
BARE_PORT = 18081
SMTP_PORT = 18025
OUTBOX_WORKERS = 2  # the default
POST_SLUG = "caching-without-stale-pages"
SSLMODE = "disable"  # loopback: TLS would cost throughput and memory for nothing
GOALS = {
    "idle_rss_mb": 12,
    "login_rss_mb": 25,
    "peak_rss_mb": 25,
    "post": 0.8,
    "list": 0.7,
    "search": 0.25,
    "search_p99_ms": 25,
    "capture": 0.7,
}


def sh(cmd, **kw):
    print("$", cmd if isinstance(cmd, str) else " ".join(cmd), flush=True)
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, text=True, capture_output=True, cwd=ROOT, **kw)


def psql(sql, db="postgres"):
    return sh(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atqc", sql]).stdout.strip()


def ensure_tools():
    if not shutil.which("wrk"):
        sh("apt-get install -y wrk || (apt-get update && apt-get install -y wrk)")
    for tool in ("wrk", "pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required")


def wait_ready(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{url} did not become ready")


def status_kb(pid, field):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1))


def rss_mb(pid):
    return status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid):
    """VmHWM: the most memory the process has had resident since it started."""
    return status_kb(pid, "VmHWM") / 1024


def where_memory_goes(pid):
    """Resident memory by kind of mapping: the binary's own pages, the heap, thread
    stacks and other anonymous mappings (allocator arenas, argon2's blocks)."""
    kinds = {}
    current = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            name = fields[5] if len(fields) > 5 else ""
            if name.endswith("/frontdesk"):
                current = "binary (code and read-only data)"
            elif name == "[heap]":
                current = "heap (brk: the main thread's allocations)"
            elif name == "[stack]":
                current = "main thread's stack"
            elif name.startswith("/"):
                current = "shared libraries"
            elif name.startswith("["):
                current = "kernel ([vdso], [vvar])"
            else:
                current = "anonymous (other threads' arenas and stacks, large allocations)"
        elif fields and fields[0] == "Rss:" and current:
            kinds[current] = kinds.get(current, 0) + int(fields[1])
    return {k: v / 1024 for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])}


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


class RssSampler:
    """Samples a process's resident memory every 50 ms while a load runs; keeps the peak."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except (FileNotFoundError, AttributeError, ProcessLookupError):
                return
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def wrk(name, url, duration, connections=64, script=None, pid=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    sampler = RssSampler(pid) if pid else None
    if sampler:
        with sampler:
            out = sh(cmd).stdout
    else:
        out = sh(cmd).stdout
    (OUT / f"wrk-{name}.txt").write_text(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    lat = {p: to_ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result = {
        "name": name,
        "command": " ".join(cmd),
        "rps": rps,
        "requests": requests,
        "p50_ms": lat.get("50"),
        "p99_ms": lat.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }
    if sampler:
        result["peak_rss_mb"] = sampler.peak
        time.sleep(1)
        result["rss_after_mb"] = rss_mb(pid)
    return result


def pgbench(name, args, db, clients, duration):
    cmd = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-M", "prepared", *args,
           f"-c{clients}", "-j2", f"-T{duration}", db]
    out = sh(cmd).stdout
    (OUT / f"pgbench-{name}.txt").write_text(out)
    return {
        "name": name,
        "command": " ".join(cmd),
        "rps": float(re.search(r"tps = ([\d.]+)", out).group(1)),
        "latency_avg_ms": float(re.search(r"latency average = ([\d.]+) ms", out).group(1)),
    }


def lua(name, body):
    path = OUT / f"{name}.lua"
    path.write_text(body)
    return path


def start(cmd, env):
    full_env = {**os.environ, **env}
    return subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=open(OUT / "server.log", "a"))


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_env(db=BENCH_DB, **extra):
    return {
        "DATABASE_URL": f"{PG}/{db}?sslmode={SSLMODE}",
        "LISTEN_ADDR": f"127.0.0.1:{PORT}",
        "RUST_LOG": "warn",
        "DATABASE_MAX_CONNECTIONS": str(POOL),
        "SMTP_URL": "",
        "OUTBOX_WORKERS": str(OUTBOX_WORKERS),
        **extra,
    }


class Server:
    def __init__(self, binary, env):
        self.proc = start([str(binary)], env)
        self.base = f"http://127.0.0.1:{PORT}"
        wait_ready(f"{self.base}/health/ready")
        time.sleep(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    @property
    def pid(self):
        return self.proc.pid


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) // (1024 * 1024)
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, {platform.system()} {platform.release()}"


def versions():
    def first_line(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"

    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    # This file rewrites bench/RESULTS.md: a change there is not a change of what is measured.
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--",
                            ".", ":!bench/RESULTS.md"], capture_output=True, text=True).stdout.strip()
    return {
        "frontdesk": commit + (" (with uncommitted changes)" if dirty else ""),
        "rustc": first_line(["rustc", "-V"]),
        "postgres": psql("show server_version"),
        "wrk": first_line(["wrk", "-v"]).split(" [")[0],
        "pgbench": first_line(["pgbench", "-V"]),
    }


def seed(binary, posts):
    psql(f"drop database if exists {BENCH_DB} with (force)")
    started = time.time()
    out = sh([str(binary), "seed-demo", "--posts", str(posts)], env={**os.environ, **server_env()}).stdout
    secs = time.time() - started
    psql("vacuum analyze", db=BENCH_DB)
    password = re.search(r"the password (\S+)", out)
    login = re.search(r"/v1/auth/login as (\S+)", out)
    return secs, (login.group(1) if login else None, password.group(1) if password else None)


def fetch(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


# Gives each wrk thread its own `id` (0, 1) and a request counter `k`, so that the
# threads' requests never coincide.
THREAD_IDS = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local k = 0
"""


def search_script(name, run=0):
    """A new search each time: two words of the posts' titles and excerpts, in an order
    no request repeats (each wrk thread walks its own half of the pairs, each run starts
    where no earlier one went)."""
    rows = psql("select string_agg(distinct title || ' ' || excerpt, ' ') from posts where status = 'published'",
                db=BENCH_DB)
    stop_words = set("a an and are as at be but by for from has have how in into is it its of on or "
                     "than that the their them then there these they this to was we what when which "
                     "who why will with you your".split())
    words = sorted({w for w in re.findall(r"[a-z]{4,}", rows.lower()) if w not in stop_words})
    random.Random(7).shuffle(words)
    body = "words = {" + ",".join(f'"{w}"' for w in words) + "}\n" + THREAD_IDS + """
function request()
  local n = #words
  local i = (RUN * 1000003 + k * 2 + id) % (n * n)
  k = k + 1
  local a = words[i % n + 1]
  local b = words[math.floor(i / n) % n + 1]
  return wrk.format("GET", "/v1/search?q=" .. a .. "%20" .. b)
end
"""
    return lua(name, body.replace("RUN", str(run))), len(words)


def capture_script(run):
    """The production path: a different client address (X-Forwarded-For from the trusted
    loopback proxy) and a new Idempotency-Key on every request, never one of an earlier run
    (which would be answered from the stored reply, or counted against its address)."""
    return lua(f"consultation-{run}", THREAD_IDS + f"""
local base = {run * 4_000_000}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","message":"We would like a new customer portal.","consent":true,"service":"web-platforms","source_page":"/contact"}}'
function request()
  k = k + 1
  local n = base + k * 2 + id
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  wrk.headers["Idempotency-Key"] = string.format("bench-{run}-%d-%d", id, k)
  return wrk.format()
end
""")


def median_pairs(a_runs, b_runs):
    ratios = [a["rps"] / b["rps"] for a, b in zip(a_runs, b_runs)]
    return {
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "rps": statistics.median(a["rps"] for a in a_runs),
        "ceiling_rps": statistics.median(b["rps"] for b in b_runs),
        "p50_ms": statistics.median(a["p50_ms"] for a in a_runs if a.get("p50_ms") is not None),
        "p99_ms": statistics.median(a["p99_ms"] for a in a_runs if a.get("p99_ms") is not None),
        "p99_max_ms": max(a["p99_ms"] for a in a_runs if a.get("p99_ms") is not None),
        "non_2xx": sum(a.get("non_2xx", 0) for a in a_runs),
        "peak_rss_mb": max(a.get("peak_rss_mb", 0) for a in a_runs),
        "rss_after_mb": a_runs[-1].get("rss_after_mb"),
        "runs": [a["rps"] for a in a_runs],
        "requests": [a.get("requests", 0) for a in a_runs],
        "socket_errors": [a.get("socket_errors", "") for a in a_runs if a.get("socket_errors")],
        "ceiling_runs": [b["rps"] for b in b_runs],
    }


def alternate(pairs, a, b):
    a_runs, b_runs = [], []
    for _ in range(pairs):
        a_runs.append(a())
        b_runs.append(b())
    return median_pairs(a_runs, b_runs)


def logins(base, pid, email, password, concurrent):
    body = json.dumps({"email": email, "password": password}).encode()
    errors = []
    addresses = iter(range(1, 255))

    def one():
        # Each login from its own address: the per-address login limit is not measured here.
        headers = {"Content-Type": "application/json", "X-Forwarded-For": f"10.250.{concurrent}.{next(addresses)}"}
        try:
            fetch(f"{base}/v1/auth/login", body, headers)
        except Exception as err:  # reported below
            errors.append(str(err))

    threads = [threading.Thread(target=one) for _ in range(concurrent)]
    with RssSampler(pid) as sampler:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    time.sleep(2)
    return {"concurrent": concurrent, "errors": len(errors), "peak_rss_mb": sampler.peak, "rss_after_mb": rss_mb(pid)}


def goals(args, binary, bare):
    seed_secs, (email, password) = seed(binary, 1000)
    report = {"seed_secs": seed_secs}
    bodies = OUT / "bodies"
    shutil.rmtree(bodies, ignore_errors=True)
    bodies.mkdir(parents=True)

    psql(f"drop database if exists {PGBENCH_DB} with (force)")
    psql(f"create database {PGBENCH_DB}")
    sh(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-i", "-q", "-s", "10", PGBENCH_DB])
    psql("vacuum analyze", db=PGBENCH_DB)

    env = server_env(TRUSTED_PROXIES="127.0.0.1/32")
    with Server(binary, env) as server:
        base = server.base
        report["idle_rss_mb"] = rss_mb(server.pid)
        report["memory_at_start"] = where_memory_goes(server.pid)
        (bodies / "post.json").write_bytes(fetch(f"{base}/v1/posts/{POST_SLUG}"))
        (bodies / "list.json").write_bytes(fetch(f"{base}/v1/posts"))
        bare_proc = start([str(bare)], {"BODY_DIR": str(bodies), "LISTEN_ADDR": f"127.0.0.1:{BARE_PORT}"})
        try:
            bare_base = f"http://127.0.0.1:{BARE_PORT}"
            wait_ready(f"{bare_base}/post")
            d, pid = args.duration, server.pid
            report["post"] = alternate(
                args.pairs,
                lambda: wrk("post", f"{base}/v1/posts/{POST_SLUG}", d, pid=pid),
                lambda: wrk("bare-post", f"{bare_base}/post", d, pid=bare_proc.pid),
            )
            report["list"] = alternate(
                args.pairs,
                lambda: wrk("list", f"{base}/v1/posts", d, pid=pid),
                lambda: wrk("bare-list", f"{bare_base}/list", d, pid=bare_proc.pid),
            )
            report["bare_peak_rss_mb"] = peak_rss_mb(bare_proc.pid)
            report["bare_rss_mb"] = rss_mb(bare_proc.pid)
        finally:
            stop(bare_proc)
        _, words = search_script("search")
        report["search_words"] = words
        search_runs = []

        def search_load():
            script, _ = search_script(f"search-{len(search_runs)}", len(search_runs))
            search_runs.append(script)
            return wrk("search", base, d, script=script, pid=pid)

        report["search"] = alternate(
            args.pairs,
            search_load,
            lambda: pgbench("select", ["-S"], PGBENCH_DB, 64, d),
        )
        report["search_cached"] = wrk("search-cached", f"{base}/v1/search?q=postgres%20cache", d, pid=pid)
        capture_sql = ROOT / "bench/capture.sql"
        stored = []

        def capture_load():
            before = int(psql("select count(*) from leads", db=BENCH_DB))
            capture = capture_script(len(stored))
            result = wrk("consultation", f"{base}/v1/consultations", d, script=capture, pid=pid)
            stored.append(int(psql("select count(*) from leads", db=BENCH_DB)) - before)
            return result

        def capture_ceiling():
            psql("vacuum analyze", db=BENCH_DB)
            return pgbench("capture", ["-n", "-f", str(capture_sql)], BENCH_DB, POOL, d)

        report["capture"] = alternate(
            args.pairs,
            capture_load,
            capture_ceiling,
        )
        report["leads_stored"] = sum(stored)
        report["leads_answered"] = sum(report["capture"]["requests"])
        # Every answered capture stores a lead (wrk stops with a few requests in flight):
        # fewer would mean replies that did not do the work, and a figure worth nothing.
        if report["leads_stored"] < report["leads_answered"] - 64 * args.pairs:
            sys.exit(f"{report['leads_stored']} leads stored for {report['leads_answered']} answered")
        report["memory_after_loads"] = where_memory_goes(server.pid)
        report["peak_rss_mb"] = peak_rss_mb(server.pid)
        if email and password:
            report["logins"] = [logins(base, server.pid, email, password, n) for n in (6, 10)]
        report["memory_after_logins"] = where_memory_goes(server.pid)
        report["vmhwm_mb"] = peak_rss_mb(server.pid)
    psql(f"drop database if exists {PGBENCH_DB} with (force)")
    return report


def outbox(binary, jobs=5000):
    """Queues `jobs` confirmation emails with the server stopped, starts it with an SMTP
    server on loopback, and times the drain."""
    psql("update outbox_jobs set status = 'done' where status <> 'done'", db=BENCH_DB)
    psql(f"""insert into outbox_jobs (id, kind, payload, max_attempts)
             select gen_random_uuid(), 'email', jsonb_build_object(
                 'to', 'visitor' || n || '@example.com', 'purpose', 'lead_confirmation',
                 'subject', 'We received your consultation request (FD-2026-' || lpad(n::text, 6, '0') || ')',
                 'text', 'Hello,' || chr(10) || chr(10) || 'Thank you for your consultation request. We read every request and will reply within one business day.' || chr(10)),
                 8
             from generate_series(1, {jobs}) n""", db=BENCH_DB)
    psql("vacuum analyze outbox_jobs", db=BENCH_DB)
    count_file = OUT / "smtp-count.txt"
    count_file.unlink(missing_ok=True)
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench/smtp_sink.py"), str(SMTP_PORT), str(count_file)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(OUT / "smtp.log", "w"))
    try:
        time.sleep(0.5)
        env = server_env(SMTP_URL=f"smtp://127.0.0.1:{SMTP_PORT}", MAIL_FROM="frontdesk <frontdesk@localhost>")
        started = time.time()
        with Server(binary, env) as server:
            deadline = started + 300
            done = 0
            with RssSampler(server.pid) as sampler:
                while time.time() < deadline:
                    done = int(psql("select count(*) from outbox_jobs where status <> 'done'", db=BENCH_DB))
                    if done == 0:
                        break
                    time.sleep(0.1)
            secs = time.time() - started
            remaining = done
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    received = int(count_file.read_text()) if count_file.exists() else 0
    return {"jobs": jobs, "secs": secs, "remaining": remaining, "received": received,
            "rate": (jobs - remaining) / secs, "peak_rss_mb": sampler.peak}


def deep_cursor(depth):
    """The cursor of the page `depth` posts down the list, as the service encodes it."""
    import base64
    row = psql(f"""select json_build_object('published_at', to_char(published_at at time zone 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'id', id)::text
                   from posts where status = 'published' order by published_at desc, id desc
                   offset {depth} limit 1""", db=BENCH_DB)
    return base64.urlsafe_b64encode(row.encode()).decode().rstrip("=")


def cold_ms(url):
    started = time.time()
    body = fetch(url)
    return (time.time() - started) * 1000, len(body)


def growth(args, binary, sizes):
    rows = []
    for size in sizes:
        seed_secs, _ = seed(binary, size)
        db_bytes = int(psql(f"select pg_database_size('{BENCH_DB}')"))
        d = args.growth_duration
        with Server(binary, server_env()) as server:
            base, pid = server.base, server.pid
            idle = rss_mb(pid)
            cursor = deep_cursor(max(0, size - 40))
            row = {"posts": size, "seed_secs": seed_secs, "db_mb": db_bytes / 1024 / 1024, "idle_rss_mb": idle}
            row["feed_cold_ms"], _ = cold_ms(f"{base}/v1/feeds/rss")
            row["sitemap_cold_ms"], row["sitemap_bytes"] = cold_ms(f"{base}/sitemap.xml")
            row["list_deep_cold_ms"], _ = cold_ms(f"{base}/v1/posts?cursor={cursor}")
            script, _ = search_script(f"search-{size}")
            sitemap = fetch(f"{base}/sitemap.xml")
            row["sitemap_is_index"] = b"<sitemapindex" in sitemap
            sitemap_url = f"{base}/sitemaps/1.xml" if row["sitemap_is_index"] else f"{base}/sitemap.xml"
            loads = [
                ("post", f"{base}/v1/posts/{POST_SLUG}", None),
                ("list", f"{base}/v1/posts", None),
                ("list_deep", f"{base}/v1/posts?cursor={cursor}", None),
                ("search", base, script),
                ("feed", f"{base}/v1/feeds/rss", None),
                ("sitemap", sitemap_url, None),
            ]
            for name, url, s in loads:
                row[name] = wrk(f"{name}-{size}", url, d, script=s, pid=pid)
            row["errors"] = {name: (row[name]["non_2xx"], row[name]["socket_errors"]) for name, _, _ in loads
                             if row[name]["non_2xx"] or row[name]["socket_errors"]}
            row["rss_after_mb"] = rss_mb(pid)
            row["vmhwm_mb"] = peak_rss_mb(pid)
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per load of the goals")
    parser.add_argument("--growth-duration", type=int, default=5, help="seconds per load of the growth table")
    parser.add_argument("--pairs", type=int, default=3, help="alternating pairs per goal (at least 3)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="post counts of the growth table")
    parser.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    args = parser.parse_args()
    if args.pairs < 3:
        sys.exit("--pairs must be at least 3")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "server.log").write_text("")
    ensure_tools()

    if not args.no_build:
        sh(["cargo", "build", "--release", "--bin", "frontdesk", "--example", "bare"],
           env={**os.environ, "SQLX_OFFLINE": "true"})
    binary = ROOT / "target/release/frontdesk"
    bare = ROOT / "target/release/examples/bare"

    started = time.time()
    report = {
        "machine": machine(),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d"),
        "duration": args.duration,
        "growth_duration": args.growth_duration,
        "pairs": args.pairs,
    }
    report["goals"] = goals(args, binary, bare)
    report["outbox"] = outbox(binary)
    report["growth"] = growth(args, binary, [int(s) for s in args.sizes.split(",") if s])
    psql(f"drop database if exists {BENCH_DB} with (force)")
    report["bench_secs"] = time.time() - started
    (OUT / "results.json").write_text(json.dumps(report, indent=2))
    write_markdown(report)
    print((ROOT / "bench/RESULTS.md").read_text())


def fmt_ratio(r):
    return f"{r['ratio']:.2f}× ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})"


def met(ok):
    return "met" if ok else "**not met**"


def memory_table(title, kinds):
    lines = [f"| {title} | MB |", "| --- | ---: |"]
    lines += [f"| {k} | {v:.1f} |" for k, v in kinds.items() if v >= 0.05]
    lines.append(f"| total | {sum(kinds.values()):.1f} |")
    return "\n".join(lines)


def write_markdown(r):
    g = r["goals"]
    v = r["versions"]
    loads = ("post", "list", "search", "capture")
    peak_loads = max(g[k]["peak_rss_mb"] for k in loads)
    peak_loads = max(peak_loads, g["search_cached"]["peak_rss_mb"])
    logins = g.get("logins", [])
    login_rss = max((x["rss_after_mb"] for x in logins), default=float("nan"))
    login_text = " / ".join(f"{x['rss_after_mb']:.1f}" for x in logins) or "not measured"
    rows = [
        ("RSS right after start, migrated and seeded database", f"{g['idle_rss_mb']:.1f} MB",
         f"< {GOALS['idle_rss_mb']} MB", g["idle_rss_mb"] < GOALS["idle_rss_mb"]),
        ("RSS after 6 / 10 concurrent logins, then idle", f"{login_text} MB",
         f"< {GOALS['login_rss_mb']} MB", login_rss < GOALS["login_rss_mb"]),
        ("peak RSS under any bench load (sampled every 50 ms)", f"{peak_loads:.1f} MB (bare handler {g['bare_peak_rss_mb']:.1f} MB)",
         f"< {GOALS['peak_rss_mb']} MB", peak_loads < GOALS["peak_rss_mb"]),
        ("GET /v1/posts/{slug} vs bare handler", f"{fmt_ratio(g['post'])}: {g['post']['rps']:,.0f} vs {g['post']['ceiling_rps']:,.0f} req/s, p99 {g['post']['p99_ms']:.2f} ms",
         f"≥ {GOALS['post']}×", g["post"]["ratio"] >= GOALS["post"]),
        ("GET /v1/posts (list) vs bare handler at its size", f"{fmt_ratio(g['list'])}: {g['list']['rps']:,.0f} vs {g['list']['ceiling_rps']:,.0f} req/s",
         f"≥ {GOALS['list']}×", g["list"]["ratio"] >= GOALS["list"]),
        ("search, a new query each time, 1,000 posts, vs pgbench -S", f"{fmt_ratio(g['search'])}: {g['search']['rps']:,.0f} req/s vs {g['search']['ceiling_rps']:,.0f} tps",
         f"≥ {GOALS['search']}×", g["search"]["ratio"] >= GOALS["search"]),
        ("search p99 (median of the runs; worst run)", f"{g['search']['p99_ms']:.1f} ms; {g['search']['p99_max_ms']:.1f} ms",
         f"< {GOALS['search_p99_ms']} ms", g["search"]["p99_ms"] < GOALS["search_p99_ms"]),
        ("POST /v1/consultations, production path, vs pgbench running the same statements",
         f"{fmt_ratio(g['capture'])}: {g['capture']['rps']:,.0f} req/s vs {g['capture']['ceiling_rps']:,.0f} tps",
         f"≥ {GOALS['capture']}×", g["capture"]["ratio"] >= GOALS["capture"]),
    ]
    goal_table = "\n".join(f"| {a} | {b} | {c} | {met(d)} |" for a, b, c, d in rows)

    def runs(x):
        return ", ".join(f"{a:,.0f}/{b:,.0f}" for a, b in zip(x["runs"], x["ceiling_runs"]))

    pair_table = "\n".join(
        f"| {name} | {runs(g[name])} | {g[name]['p50_ms']:.2f} | {g[name]['p99_ms']:.2f} | {g[name]['peak_rss_mb']:.1f} | {g[name]['rss_after_mb']:.1f} | {g[name]['non_2xx']} |"
        for name in loads
    )
    singles = "\n".join(
        f"| {x['name']} | {x['rps']:,.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['peak_rss_mb']:.1f} | {x['rss_after_mb']:.1f} | {x['non_2xx']} |"
        for x in (g["search_cached"],)
    )
    login_rows = "\n".join(
        f"| {x['concurrent']} at once | {x['peak_rss_mb']:.1f} | {x['rss_after_mb']:.1f} | {x['errors']} |" for x in logins
    )
    o = r["outbox"]
    growth_rows = []
    for row in r["growth"]:
        def c(name):
            x = row[name]
            errors = f" ({x['non_2xx']} non-2xx)" if x["non_2xx"] else ""
            errors += f" (socket errors: {x['socket_errors']})" if x["socket_errors"] else ""
            return f"{x['rps']:,.0f} / {x['p99_ms']:.1f}{errors}"
        growth_rows.append(
            f"| {row['posts']:,} | {row['seed_secs']:.1f} | {row['db_mb']:,.0f} | {c('post')} | {c('list')} | {c('list_deep')} "
            f"| {c('search')} | {c('feed')} ({row['feed_cold_ms']:.0f}) | {c('sitemap')} ({row['sitemap_cold_ms']:.0f}) "
            f"| {row['idle_rss_mb']:.1f} / {row['rss_after_mb']:.1f} |"
        )
    md = f"""# Benchmark results

Produced by `python3 bench/run.py` on {r['date']} (this file is rewritten by each run; raw wrk
and pgbench output is in bench/out/, the figures in bench/out/results.json). The whole run
took {r['bench_secs'] / 60:.0f} minutes.

- Machine: {r['machine']}; wrk, pgbench, Postgres and the server share the two cores.
- Versions: frontdesk {v['frontdesk']}, {v['rustc']}, PostgreSQL {v['postgres']}, {v['wrk']}, {v['pgbench']}.
- Server: release build, `RUST_LOG=warn`, `DATABASE_MAX_CONNECTIONS={POOL}`,
  `DATABASE_URL=...?sslmode={SSLMODE}` (loopback: TLS would cost throughput and memory for
  nothing). Every database is `VACUUM ANALYZE`d after seeding (autovacuum is off here), and
  the capture ceiling's before each of its runs.
- Loads: `wrk -t2 -c64 --latency`, {r['duration']} s each for the goals, {r['growth_duration']} s for the
  growth table. Each goal alternates frontdesk (A) and its ceiling (B), A B A B, {r['pairs']} pairs; the
  ratio is the median of the pairs' ratios, with their range.

## Against the goals

| measure | result | goal | |
| --- | --- | --- | --- |
{goal_table}

Ceilings: the bare axum handler (`bench/bare.rs`, same release profile) answering the very
bytes frontdesk answered ({(OUT / 'bodies/post.json').stat().st_size:,} bytes for the post,
{(OUT / 'bodies/list.json').stat().st_size:,} for the list); `pgbench -S -M prepared -c64 -j2`
(scale 10) for search; `pgbench -M prepared -n -f bench/capture.sql -c{POOL} -j2` for lead
capture, the very statements the production path sends (a transaction: the per-IP counter,
the Idempotency-Key, the read, the write of lead, timeline and outbox jobs, the stored
answer) through as many connections as the server's pool.

| load | frontdesk / ceiling, each pair (req/s) | p50 ms | p99 ms | peak RSS MB | RSS after MB | non-2xx |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
{pair_table}

| other load (one run) | req/s | p50 ms | p99 ms | peak RSS MB | RSS after MB | non-2xx |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
{singles}

Search: {g['search_words']} distinct words of the posts' titles and excerpts, two per query, in
an order that repeats no query within a run, so none is answered from the content cache.
Lead capture: every request comes from a different address (X-Forwarded-For through the
trusted loopback proxy, so the per-IP limit counts each) with its own Idempotency-Key;
{g['leads_stored']:,} leads stored by the HTTP runs for about {g['leads_answered']:,.0f} answered (wrk
stops with a few requests in flight).

## The outbox

{o['jobs']:,} confirmation emails queued with the server stopped, then drained by its
{OUTBOX_WORKERS} outbox workers to an SMTP server on loopback (`bench/smtp_sink.py`: Python asyncio,
accepts every message): **{o['rate']:,.0f} mails/s** ({o['jobs'] - o['remaining']:,} delivered in
{o['secs']:.1f} s including the server's start, {o['received']:,} received by the SMTP server,
{o['remaining']} left); peak RSS meanwhile {o['peak_rss_mb']:.1f} MB. Workers claim 8 jobs per
statement, mark them delivered in one more, and reuse their SMTP connections.

## How cost grows

Each size is seeded into a fresh database (`frontdesk seed-demo --posts N`: the demo's 20
posts, then numbered copies of its published ones in bulk), `VACUUM ANALYZE`d, then served
by a fresh server. Loads: req/s / p99 ms (wrk leaves requests that time out after 2 s out of
its latencies; they are listed as socket errors); the feed's and the sitemap's first (uncached)
answer in ms in brackets; the deep page is 40 posts from the end, by its cursor. The sitemap
column loads /sitemap.xml, or /sitemaps/1.xml (50,000 URLs) where /sitemap.xml is an index.

| posts | seed s | DB MB | post | list | list, deep page | search | RSS feed (cold ms) | sitemap (cold ms) | RSS MB idle / after |
| --- | ---: | ---: | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(growth_rows)}

## Where the memory goes

Resident memory by mapping (/proc/PID/smaps) of the goals' server:

{memory_table("right after start", g["memory_at_start"])}

{memory_table("after every load", g["memory_after_loads"])}

{memory_table("after the logins", g["memory_after_logins"])}

| logins | peak RSS MB | RSS after, idle MB | failed |
| --- | ---: | ---: | ---: |
{login_rows}

VmHWM of that server over the whole run: {g['vmhwm_mb']:.1f} MB. The bare handler: {g['bare_rss_mb']:.1f} MB resident
after its loads, {g['bare_peak_rss_mb']:.1f} MB at most.
"""
    # Sections written by other tools are kept: the heap profile (by hand, see the
    # section), the fleet's (deploy/fleet-test), the assistant's (bench/assistant.py) and
    # the newsletter's (bench/newsletter.py) and the Ghost Content API's (bench/ghost.py).
    previous = (ROOT / "bench/RESULTS.md").read_text() if (ROOT / "bench/RESULTS.md").exists() else ""
    for start_mark, stop_mark in (("<!-- profile:", "<!-- /profile -->"), ("<!-- fleet:", "<!-- /fleet -->"),
                                  ("<!-- assistant:", "<!-- /assistant -->"),
                                  ("<!-- newsletter:", "<!-- /newsletter -->"),
                                  ("<!-- ghost:", "<!-- /ghost -->")):
        if start_mark in previous and stop_mark in previous:
            kept = start_mark + previous.split(start_mark, 1)[1].split(stop_mark, 1)[0] + stop_mark
            md = md.rstrip() + "\n\n" + kept + "\n"
    (ROOT / "bench/RESULTS.md").write_text(md)


if __name__ == "__main__":
    main()
