#!/usr/bin/env python3
"""Newsletter benchmark: a post sent as an issue to 10,000 confirmed subscribers, delivered
to an SMTP server on loopback (bench/smtp_sink.py, started here).

1. Unpaced (NEWSLETTER_SEND_RATE=0): how fast the machinery goes (building the issue, one
   delivery row and one outbox job per reader, each message claimed, personalised, handed
   to SMTP and recorded); from the POST to the last delivery recorded.
2. Paced (NEWSLETTER_SEND_RATE=200, 2,000 readers): that the pace holds.

Uses the release binary (built if missing), its own database (dropped at the end), and
writes its section of bench/RESULTS.md between the `<!-- newsletter:` marks (bench/run.py
keeps it) and bench/out/newsletter.json.

Usage: python3 bench/newsletter.py [--recipients 10000] [--paced 2000] [--rate 200]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the shared helpers: server, psql, RSS sampling)

DB = "frontdesk_bench_newsletter"


def seed(binary, readers):
    bench.psql(f"drop database if exists {DB} with (force)")
    bench.sh([str(binary), "seed-demo", "--posts", "20"], env={**os.environ, **bench.server_env(db=DB)})
    email, password = "editor@bench.example", "newsletter bench editor password"
    subprocess.run([str(binary), "admin", "create", "--email", email, "--role", "editor", "--password-stdin"],
                   input=password + "\n", text=True, check=True, capture_output=True,
                   env={**os.environ, **bench.server_env(db=DB)})
    bench.psql("delete from newsletter_subscribers", db=DB)
    bench.psql(f"""insert into newsletter_subscribers (id, email, status, consent_text_version, confirmed_at)
                   select gen_random_uuid(), 'reader' || n || '@example.com', 'confirmed', 'v1', now()
                   from generate_series(1, {readers}) n""", db=DB)
    bench.psql("vacuum analyze", db=DB)
    return email, password


def token(base, email, password):
    body = json.dumps({"email": email, "password": password}).encode()
    answer = bench.fetch(f"{base}/v1/auth/login", body, {"Content-Type": "application/json"})
    return json.loads(answer)["token"]


def send_issue(binary, readers, rate, post):
    """One issue of `post` to `readers` readers at `rate` messages/s (0: unpaced)."""
    email, password = seed(binary, readers)
    count_file = bench.OUT / "newsletter-smtp-count.txt"
    count_file.unlink(missing_ok=True)
    sink = subprocess.Popen([sys.executable, str(bench.ROOT / "bench/smtp_sink.py"), str(bench.SMTP_PORT), str(count_file)],
                            cwd=bench.ROOT, stdout=subprocess.DEVNULL, stderr=open(bench.OUT / "smtp.log", "w"))
    try:
        time.sleep(0.5)
        env = bench.server_env(db=DB, SMTP_URL=f"smtp://127.0.0.1:{bench.SMTP_PORT}",
                               NEWSLETTER_SEND_RATE=str(rate), OUTBOX_POLL_MS="200")
        with bench.Server(binary, env) as server:
            bearer = token(server.base, email, password)
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
            started = time.time()
            issue = json.loads(bench.fetch(f"{server.base}/v1/admin/newsletter/issues",
                                           json.dumps({"post": post}).encode(), headers))
            first_sent = None
            with bench.RssSampler(server.pid) as sampler:
                deadline = started + 600
                while time.time() < deadline:
                    got = json.loads(bench.fetch(f"{server.base}/v1/admin/newsletter/issues/{issue['id']}",
                                                 headers={"Authorization": f"Bearer {bearer}"}))
                    if first_sent is None and got["stats"]["sent"] > 0:
                        first_sent = time.time()
                    if got["status"] == "sent":
                        break
                    time.sleep(0.1)
            secs = time.time() - started
            rss_after = bench.rss_mb(server.pid)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    received = int(count_file.read_text()) if count_file.exists() else 0
    stats = got["stats"]
    sending_secs = time.time() - (first_sent or started)
    return {"readers": readers, "rate": rate, "secs": secs, "status": got["status"],
            "stats": stats, "received": received, "mails_per_sec": stats["sent"] / secs,
            "first_mail_after_secs": (first_sent - started) if first_sent else None,
            "sending_secs": sending_secs, "peak_rss_mb": sampler.peak, "rss_after_mb": rss_after}


def markdown(r):
    u, p = r["unpaced"], r["paced"]
    return f"""<!-- newsletter: written by bench/newsletter.py; bench/run.py keeps it -->
## The newsletter

`python3 bench/newsletter.py` on {r['date']}: {r['machine']}. Release build,
`DATABASE_URL=...?sslmode={bench.SSLMODE}`, {bench.OUTBOX_WORKERS} outbox workers (the default), the
demo's post `{r['post']}` sent with `POST /v1/admin/newsletter/issues` to confirmed subscribers seeded
in SQL (`VACUUM ANALYZE`d), delivered to `bench/smtp_sink.py` on loopback (Python asyncio,
accepts every message); timed from the POST until the issue reads `sent`.

| run | readers | sent | received by SMTP | failed / uncertain | time s | mails/s | first mail after s | peak RSS MB | RSS after MB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| unpaced (`NEWSLETTER_SEND_RATE=0`) | {u['readers']:,} | {u['stats']['sent']:,} | {u['received']:,} | {u['stats']['failed']} / {u['stats']['uncertain']} | {u['secs']:.1f} | **{u['mails_per_sec']:,.0f}** | {u['first_mail_after_secs'] or 0:.2f} | {u['peak_rss_mb']:.1f} | {u['rss_after_mb']:.1f} |
| paced at {p['rate']}/s | {p['readers']:,} | {p['stats']['sent']:,} | {p['received']:,} | {p['stats']['failed']} / {p['stats']['uncertain']} | {p['secs']:.1f} | {p['mails_per_sec']:,.0f} | {p['first_mail_after_secs'] or 0:.2f} | {p['peak_rss_mb']:.1f} | {p['rss_after_mb']:.1f} |

Each message is its own outbox job and delivery row: claimed 8 at a time per worker, checked
against the reader's subscription in the statement that claims it, personalised (the reader's
unsubscribe and preferences links in both parts), handed to the kept SMTP connection, and
recorded. The paced run should take about readers / rate seconds: the jobs are due one
1/rate apart, whichever replica runs them.
<!-- /newsletter -->"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10000)
    parser.add_argument("--paced", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200)
    args = parser.parse_args()
    bench.OUT.mkdir(parents=True, exist_ok=True)
    binary = bench.ROOT / "target/release/frontdesk"
    if not binary.exists():
        bench.sh(["cargo", "build", "--release", "--bin", "frontdesk"], env={**os.environ, "SQLX_OFFLINE": "true"})
    report = {"date": time.strftime("%Y-%m-%d"), "machine": bench.machine(), "post": bench.POST_SLUG}
    try:
        report["unpaced"] = send_issue(binary, args.recipients, 0, bench.POST_SLUG)
        report["paced"] = send_issue(binary, args.paced, args.rate, bench.POST_SLUG)
    finally:
        bench.psql(f"drop database if exists {DB} with (force)")
    (bench.OUT / "newsletter.json").write_text(json.dumps(report, indent=2))
    section = markdown(report)
    path = bench.ROOT / "bench/RESULTS.md"
    text = path.read_text() if path.exists() else ""
    start, stop = "<!-- newsletter:", "<!-- /newsletter -->"
    if start in text and stop in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(stop, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
