#!/usr/bin/env python3
"""The Ghost Content API beside frontdesk's own public reads, in one run.

On a demo site with --posts published posts (release binary, loopback, sslmode=disable,
VACUUM ANALYZE first), alternates wrk loads A B A B (--pairs) of:

    GET /v1/posts?limit=15                          vs  GET /ghost/api/content/posts/?key=K&limit=15&include=tags,authors
    GET /v1/posts/{slug}                            vs  GET /ghost/api/content/posts/slug/{slug}/?key=K&include=tags,authors

and reports requests per second of each and the median ratio (Ghost path / own path), with
the server's resident memory after the loads. Both are served from the content cache; the
Ghost answer is the larger body (every field Ghost has, tags and authors embedded).

Usage: python3 bench/ghost.py --binary target/release/frontdesk [--posts 1000] [--duration 5] [--pairs 3]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

PG = "postgres://postgres@127.0.0.1:5432"
DB = "frontdesk_bench_ghost"
PORT = 18480


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True, **kw).stdout


def post_json(url, body, token=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json",
                                          **({"authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)


def wrk(url, duration):
    out = sh(f"wrk -t2 -c64 -d{duration}s '{url}'")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_section(r):
    from pathlib import Path
    path = Path(__file__).resolve().parent / "RESULTS.md"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    rows = "\n".join(
        f"| {name} | {r[name]['own_rps']} | {r[name]['ghost_rps']} | {r[name]['ratio_median']} "
        f"({r[name]['ratio_range'][0]}–{r[name]['ratio_range'][1]}) | {r[name]['bytes']['own']} / {r[name]['bytes']['ghost']} |"
        for name in ("list", "read"))
    s = r["setup"]
    section = f"""<!-- ghost: written by bench/ghost.py; bench/run.py keeps it -->
## The Ghost Content API beside the own reads

`python3 bench/ghost.py --binary {s['binary']} --posts {s['posts']} --duration {s['duration_s']} --pairs {s['pairs']}`
on {cpu} ({os.cpu_count()} cores), loopback, wrk {s['wrk']}, sslmode={s['sslmode']}, VACUUM ANALYZE first; loads
alternate own, Ghost, own, Ghost…; both answers come from the content cache.

| load | own req/s | Ghost req/s | Ghost/own (median, range) | bytes own / Ghost |
| --- | --- | --- | --- | --- |
{rows}

list: `/v1/posts?limit=15` vs `/ghost/api/content/posts/?key=K&limit=15&include=tags,authors` (Ghost's
answer carries each post's html by default); read: `/v1/posts/{{slug}}` vs
`/ghost/api/content/posts/slug/{{slug}}/?key=K&include=tags,authors`. Resident memory after the loads:
{r['rss_mb_after']} MB.
<!-- /ghost -->"""
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    start, stop = "<!-- ghost:", "<!-- /ghost -->"
    if start in old and stop in old:
        before, rest = old.split(start, 1)
        after = rest.split(stop, 1)[1]
        path.write_text(before + section + after)
    else:
        path.write_text(old.rstrip() + "\n\n" + section + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    url = f"{PG}/{DB}?sslmode=disable"
    env = {"DATABASE_URL": url, "RUST_LOG": "error", "PATH": "/usr/bin:/bin"}
    subprocess.run(f"dropdb -h 127.0.0.1 -U postgres --if-exists {DB}", shell=True, check=True)
    sh(f"{args.binary} seed-demo --posts {args.posts}", env=env)
    password = "bench-ghost-owner-password-1234"
    sh(f"echo {password} | {args.binary} admin create --email bench@example.com --role owner --password-stdin", env=env)
    sh(f"psql '{url}' -qc 'vacuum analyze'")
    server = subprocess.Popen([args.binary, "serve"], env={**env, "LISTEN_ADDR": f"127.0.0.1:{PORT}", "METRICS_ADDR": "off"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = post_json(f"{base}/v1/auth/login", {"email": "bench@example.com", "password": password})["token"]
        key = post_json(f"{base}/v1/admin/content-api-keys", {"name": "bench"}, token)["secret"]
        slug = json.load(urllib.request.urlopen(f"{base}/v1/posts?limit=1"))["items"][0]["slug"]
        loads = [
            ("list", f"{base}/v1/posts?limit=15",
             f"{base}/ghost/api/content/posts/?key={key}&limit=15&include=tags,authors"),
            ("read", f"{base}/v1/posts/{slug}",
             f"{base}/ghost/api/content/posts/slug/{slug}/?key={key}&include=tags,authors"),
        ]
        results = {}
        for name, own, ghost in loads:
            sizes = [len(urllib.request.urlopen(u).read()) for u in (own, ghost)]
            wrk(own, 1)
            wrk(ghost, 1)
            pairs = [(wrk(own, args.duration), wrk(ghost, args.duration)) for _ in range(args.pairs)]
            ratios = [g / o for o, g in pairs]
            results[name] = {
                "own_rps": [round(o) for o, _ in pairs], "ghost_rps": [round(g) for _, g in pairs],
                "ratio_median": round(statistics.median(ratios), 2),
                "ratio_range": [round(min(ratios), 2), round(max(ratios), 2)],
                "bytes": {"own": sizes[0], "ghost": sizes[1]},
            }
        results["rss_mb_after"] = round(rss_mb(server.pid), 1)
        results["setup"] = {"posts": args.posts, "duration_s": args.duration, "pairs": args.pairs,
                            "wrk": "-t2 -c64", "sslmode": "disable", "binary": args.binary}
        print(json.dumps(results, indent=2))
        write_section(results)
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(f"dropdb -h 127.0.0.1 -U postgres --if-exists {DB}", shell=True)


if __name__ == "__main__":
    sys.exit(main())
