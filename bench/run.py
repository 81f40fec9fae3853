#!/usr/bin/env python3
"""frontdesk benchmark: the service beside this machine's ceilings, in one run.

Builds the release binary and the bare-axum ceiling (bench/bare.rs, same profile), seeds
1,000 posts into a fresh database, VACUUM ANALYZEs, then loads on loopback with wrk:

  GET /v1/posts/{slug}, GET /v1/posts, GET /v1/search (cached and uncached),
  POST /v1/posts/{slug}/shares (sharded counters, and a single row for comparison),

then the bare handler answering the same bytes as a post, and pgbench select-only as the
database's ceiling. Writes bench/RESULTS.md. Everything runs on 127.0.0.1 and stops by itself.

Usage: python3 bench/run.py [--duration 10] [--connections 64]
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
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
POST_SLUG = "caching-without-stale-pages"


def sh(cmd, **kw):
    print("$", cmd if isinstance(cmd, str) else " ".join(cmd), flush=True)
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, text=True, capture_output=True, cwd=ROOT, **kw)


def psql(sql, db="postgres"):
    return sh(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atqc", sql]).stdout


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


def peak_rss_mb(pid):
    """VmHWM: the most memory the process has had resident since it started."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def rss_mb(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


class RssSampler:
    """Samples a process's resident memory every 50 ms while a load runs; keeps the peak."""

    def __init__(self, pid):
        import threading
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except (FileNotFoundError, AttributeError):
                return
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def wrk(name, url, args, script=None, pid=None):
    cmd = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
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
    lat = {p: to_ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "name": name,
        "command": " ".join(cmd),
        "rps": rps,
        "p50_ms": lat.get("50"),
        "p99_ms": lat.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "peak_rss_mb": sampler.peak if sampler else None,
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
    proc.wait(timeout=30)


def server_env(shards):
    return {
        "DATABASE_URL": f"{PG}/{BENCH_DB}?sslmode=disable",
        "LISTEN_ADDR": f"127.0.0.1:{PORT}",
        "RUST_LOG": "warn",
        "SHARE_COUNTER_SHARDS": str(shards),
        "DATABASE_MAX_CONNECTIONS": str(POOL),
        # One client address sends everything here: with the per-IP form limit on, every
        # capture would queue on that address's counter row. Real visitors have many.
        "FORM_RATE_LIMIT": "0",
    }


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) // (1024 * 1024)
    pg = psql("show server_version")
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, {platform.system()} {platform.release()}, PostgreSQL {pg.strip()}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "server.log").write_text("")
    ensure_tools()

    if not args.no_build:
        sh(["cargo", "build", "--release", "--bin", "frontdesk", "--example", "bare"])
    binary = ROOT / "target/release/frontdesk"
    bare = ROOT / "target/release/examples/bare"

    psql(f"drop database if exists {BENCH_DB} with (force)")
    seed_started = time.time()
    sh([str(binary), "seed-demo", "--posts", "1000"], env={**os.environ, **server_env(16)})
    seed_secs = time.time() - seed_started
    psql("vacuum analyze", db=BENCH_DB)

    results = []
    server = start([str(binary)], server_env(16))
    try:
        base = f"http://127.0.0.1:{PORT}"
        wait_ready(f"{base}/health/ready")
        idle_rss = rss_mb(server.pid)
        with urllib.request.urlopen(f"{base}/v1/posts/{POST_SLUG}") as r:
            post_body = r.read()
        (OUT / "post.json").write_bytes(post_body)
        results.append(wrk("post", f"{base}/v1/posts/{POST_SLUG}", args, pid=server.pid))
        results.append(wrk("list", f"{base}/v1/posts", args, pid=server.pid))
        results.append(wrk("search-cached", f"{base}/v1/search?q=postgres%20cache", args, pid=server.pid))
        uncached = lua(
            "search-uncached",
            "counter = 0\nrequest = function()\n  counter = counter + 1\n"
            "  return wrk.format('GET', '/v1/search?q=postgres%20or%20x' .. counter .. '_' .. math.random(1e9))\nend\n",
        )
        results.append(wrk("search-uncached", base, args, uncached, pid=server.pid))
        share = lua(
            "share",
            "wrk.method = 'POST'\nwrk.body = '{\"network\":\"linkedin\"}'\n"
            "wrk.headers['Content-Type'] = 'application/json'\n",
        )
        results.append(wrk("share-16-shards", f"{base}/v1/posts/{POST_SLUG}/shares", args, share, pid=server.pid))
        consultation = lua(
            "consultation",
            "wrk.method = 'POST'\n"
            "wrk.body = '{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\","
            "\"message\":\"We would like a new customer portal.\",\"consent\":true,"
            "\"service\":\"web-platforms\",\"source_page\":\"/contact\"}'\n"
            "wrk.headers['Content-Type'] = 'application/json'\n",
        )
        results.append(wrk("consultation", f"{base}/v1/consultations", args, consultation, pid=server.pid))
        leads_created = int(psql("select count(*) from leads", db=BENCH_DB))
        service_peak = peak_rss_mb(server.pid)
    finally:
        stop(server)

    server = start([str(binary)], server_env(1))
    try:
        wait_ready(f"http://127.0.0.1:{PORT}/health/ready")
        results.append(wrk("share-1-row", f"http://127.0.0.1:{PORT}/v1/posts/{POST_SLUG}/shares", args, share, pid=server.pid))
    finally:
        stop(server)
    shares_counted = int(psql("select coalesce(sum(count), 0) from post_share_counts", db=BENCH_DB))

    # The database's ceiling for frontdesk's own lead capture: the very statements
    # POST /v1/consultations runs, through as many connections as the server's pool.
    psql("vacuum analyze", db=BENCH_DB)
    capture_cmd = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared",
                   "-f", str(ROOT / "bench/capture.sql"), f"-c{POOL}", "-j2", f"-T{args.duration}", BENCH_DB]
    capture_out = sh(capture_cmd).stdout
    (OUT / "pgbench-capture.txt").write_text(capture_out)
    cap_tps = float(re.search(r"tps = ([\d.]+)", capture_out).group(1))
    cap_lat = float(re.search(r"latency average = ([\d.]+) ms", capture_out).group(1))

    bare_proc = start([str(bare)], {"BODY_FILE": str(OUT / "post.json"), "LISTEN_ADDR": f"127.0.0.1:{BARE_PORT}"})
    try:
        wait_ready(f"http://127.0.0.1:{BARE_PORT}/")
        bare_result = wrk("bare", f"http://127.0.0.1:{BARE_PORT}/", args, pid=bare_proc.pid)
        bare_peak = peak_rss_mb(bare_proc.pid)
    finally:
        stop(bare_proc)

    psql(f"drop database if exists {PGBENCH_DB} with (force)")
    psql(f"create database {PGBENCH_DB}")
    sh(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-i", "-q", "-s", "10", PGBENCH_DB])
    psql("vacuum analyze", db=PGBENCH_DB)
    pgbench_cmd = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-S", "-M", "prepared",
                   f"-c{args.connections}", "-j2", f"-T{args.duration}", PGBENCH_DB]
    pgbench_out = sh(pgbench_cmd).stdout
    (OUT / "pgbench-select.txt").write_text(pgbench_out)
    pg_tps = float(re.search(r"tps = ([\d.]+)", pgbench_out).group(1))
    pg_lat = float(re.search(r"latency average = ([\d.]+) ms", pgbench_out).group(1))

    # The database's ceiling for writes: one single-row insert per transaction.
    psql("create table bench_leads (id uuid primary key, email text not null, message text not null, "
         "created_at timestamptz not null default now())", db=PGBENCH_DB)
    insert_sql = OUT / "insert.sql"
    insert_sql.write_text("insert into bench_leads (id, email, message) values "
                          "(gen_random_uuid(), 'ada@example.com', 'We would like a new customer portal.');\n")
    insert_cmd = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared", "-f", str(insert_sql),
                  f"-c{args.connections}", "-j2", f"-T{args.duration}", PGBENCH_DB]
    insert_out = sh(insert_cmd).stdout
    (OUT / "pgbench-insert.txt").write_text(insert_out)
    ins_tps = float(re.search(r"tps = ([\d.]+)", insert_out).group(1))
    ins_lat = float(re.search(r"latency average = ([\d.]+) ms", insert_out).group(1))
    psql(f"drop database if exists {PGBENCH_DB} with (force)")

    report = {
        "machine": machine(),
        "duration": args.duration,
        "connections": args.connections,
        "post_bytes": len(post_body),
        "seed_secs": seed_secs,
        "idle_rss_mb": idle_rss,
        "service_peak_rss_mb": service_peak,
        "bare_peak_rss_mb": bare_peak,
        "results": results,
        "bare": bare_result,
        "pgbench": {"command": " ".join(pgbench_cmd), "tps": pg_tps, "latency_avg_ms": pg_lat},
        "pgbench_insert": {"command": " ".join(insert_cmd), "tps": ins_tps, "latency_avg_ms": ins_lat},
        "pgbench_capture": {"command": " ".join(capture_cmd), "tps": cap_tps, "latency_avg_ms": cap_lat},
        "leads_created": leads_created,
        "shares_counted": shares_counted,
        "shares_sent": sum(r["rps"] * args.duration for r in results if r["name"].startswith("share")),
    }
    (OUT / "results.json").write_text(json.dumps(report, indent=2))
    write_markdown(report)
    print((ROOT / "bench/RESULTS.md").read_text())


def write_markdown(r):
    bare = r["bare"]
    rows = []
    for res in r["results"] + [bare]:
        ratio = res["rps"] / bare["rps"] * 100
        rows.append(
            f"| {res['name']} | {res['rps']:,.0f} | {res['p50_ms']:.2f} | {res['p99_ms']:.2f} | "
            f"{ratio:.0f}% | {res['peak_rss_mb']:.1f} | {res['non_2xx']} |"
        )
    post = next(x for x in r["results"] if x["name"] == "post")
    consultation = next(x for x in r["results"] if x["name"] == "consultation")
    md = f"""# Benchmark results

Produced by `python3 bench/run.py` (this file is rewritten by each run; raw wrk and pgbench
output is in bench/out/). Loopback only; wrk and the server share the same {r['machine']}.

- Load: `wrk -t2 -c{r['connections']} -d{r['duration']}s --latency` per endpoint.
- Data: `frontdesk seed-demo --posts 1000` into a fresh database (took {r['seed_secs']:.0f} s), then
  `VACUUM ANALYZE`. Server: release build, `RUST_LOG=warn`, `DATABASE_MAX_CONNECTIONS={POOL}`,
  `DATABASE_URL=...?sslmode=disable` (loopback; TLS would cost throughput and memory for nothing).
- Ceilings, in the same run: the bare axum handler (`bench/bare.rs`, same release profile)
  answering the very bytes of the benchmarked post ({r['post_bytes']:,} bytes), and
  `{r['pgbench']['command']}` (scale 10).

| load | requests/s | p50 ms | p99 ms | vs bare handler | peak RSS MB | non-2xx |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

| ceiling | figure |
| --- | --- |
| pgbench select-only | {r['pgbench']['tps']:,.0f} tps, {r['pgbench']['latency_avg_ms']:.2f} ms average latency |
| pgbench single-row insert per transaction | {r['pgbench_insert']['tps']:,.0f} tps, {r['pgbench_insert']['latency_avg_ms']:.2f} ms average latency |
| pgbench running frontdesk's own capture statements | {r['pgbench_capture']['tps']:,.0f} tps, {r['pgbench_capture']['latency_avg_ms']:.2f} ms average latency |
| bare handler peak RSS | {r['bare_peak_rss_mb']:.1f} MB |

Memory: frontdesk used {r['idle_rss_mb']:.1f} MB resident when idle after start; the peak RSS
column is the most resident memory sampled (every 50 ms) during each load; VmHWM over the
whole first server run was {r['service_peak_rss_mb']:.1f} MB.

Leads: {r['leads_created']:,} leads stored for the consultation load (each with its
timeline entry, confirmation email job and team notification job, written in one statement
after one read: two round trips, no explicit transaction, since the load sends no
Idempotency-Key and the per-IP limit is off because wrk is a single address).
The second pgbench ceiling is `{r['pgbench_insert']['command']}` with a script inserting one
row per transaction. The third, `{r['pgbench_capture']['command']}`, runs the very two
statements a capture sends (bench/capture.sql) through as many connections as the
server's pool: what Postgres on this machine can do for this work, with no HTTP or Rust in
the way (during the HTTP load the outbox workers also mark jobs delivered, which pgbench
does not). A lead is four rows and about a dozen index entries, including the inbox's
full-text index, so it costs several single-row inserts. In production the per-IP limit is
on and a form may send an Idempotency-Key: that path adds a transaction and up to three
statements (the counter, the key, the stored answer), and is not what this load measures.

Shares: {r['shares_counted']:,} shares counted in the database for about {r['shares_sent']:,.0f} answered
(every answered POST is counted; wrk may stop with a few requests in flight).

## Against the goals

| goal | result |
| --- | --- |
| GET a post at 70% or more of the bare handler | {post['rps'] / bare['rps'] * 100:.0f}% ({post['rps']:,.0f} vs {bare['rps']:,.0f} req/s) |
| p99 under 5 ms at {r['connections']} connections | {post['p99_ms']:.2f} ms |
| POST /v1/consultations at 50% or more of the insert ceiling | {consultation['rps'] / r['pgbench_insert']['tps'] * 100:.0f}% ({consultation['rps']:,.0f} req/s vs {r['pgbench_insert']['tps']:,.0f} tps) |
| (for scale) POST /v1/consultations vs the same statements run by pgbench | {consultation['rps'] / r['pgbench_capture']['tps'] * 100:.0f}% ({consultation['rps']:,.0f} req/s vs {r['pgbench_capture']['tps']:,.0f} tps) |
| under 40 MB RSS under load | {max(x['peak_rss_mb'] for x in r['results']):.1f} MB, the highest peak of any load |
"""
    # The fleet's and the assistant's sections (deploy/fleet-test, bench/assistant.py) are kept.
    previous = (ROOT / "bench/RESULTS.md").read_text() if (ROOT / "bench/RESULTS.md").exists() else ""
    for start, stop in (("<!-- fleet:", "<!-- /fleet -->"), ("<!-- assistant:", "<!-- /assistant -->")):
        if start in previous and stop in previous:
            kept = start + previous.split(start, 1)[1].split(stop, 1)[0] + stop
            md = md.rstrip() + "\n\n" + kept + "\n"
    (ROOT / "bench/RESULTS.md").write_text(md)


if __name__ == "__main__":
    main()
