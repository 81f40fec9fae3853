#!/usr/bin/env python3
"""The assistant's evaluation set, scored, into bench/RESULTS.md.

Runs `frontdesk eval-assistant` (a throwaway database with the demo content; the 90 cases the
built-in engine was tuned on and the 40 held-out ones written without seeing it) for the
built-in engine and, with --model-url, for a model behind an OpenAI-compatible API, and
rewrites the section of bench/RESULTS.md between the assistant markers. The list of changes
and their effect at the end of that section is kept as it is: add a line to it with each
change to an engine.

Usage: python3 bench/assistant.py [--model-url http://127.0.0.1:18181/v1] [--binary PATH]
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START = "<!-- assistant: written by bench/assistant.py; bench/run.py keeps it -->"
STOP = "<!-- /assistant -->"
CHANGES = "### Changes to the engines and their effect"


def run(binary, engine, model_url):
    env = {**os.environ}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/frontdesk_eval?sslmode=disable")
    if model_url:
        env["ASSISTANT_LLM_URL"] = model_url
    cmd = binary + ["eval-assistant", "--engine", engine]
    print("$", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    timing = [line.strip() for line in done.stdout.splitlines() if " cases in " in line]
    failures = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("FAIL")]
    if not table:
        sys.exit(f"eval-assistant printed no table (exit {done.returncode}):\n{done.stdout}")
    return table, timing, failures, done.returncode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-url", help="an OpenAI-compatible API to score as well")
    parser.add_argument("--binary", help="a built frontdesk binary (default: cargo run --release)")
    args = parser.parse_args()
    binary = [args.binary] if args.binary else ["cargo", "run", "--quiet", "--release", "--"]
    engine = "both" if args.model_url else "builtin"
    table, timing, failures, code = run(binary, engine, args.model_url)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    changes = f"{CHANGES}\n\n(none recorded yet)\n"
    if START in old and STOP in old:
        before, rest = old.split(START, 1)
        section, after = rest.split(STOP, 1)
        if CHANGES in section:
            changes = CHANGES + section.split(CHANGES, 1)[1].rstrip() + "\n"
    else:
        before, after = old.rstrip() + "\n\n", "\n"
    section = f"""{START}
## The assistant's answers, scored

Produced by `python3 bench/assistant.py{' --model-url ' + args.model_url if args.model_url else ''}` on {datetime.date.today()} at
{commit}{' (with uncommitted changes)' if dirty else ''}, {platform.machine()}, 2 cores: `frontdesk eval-assistant` on a throwaway
database seeded with the demo content. A case passes when the reply holds what a right
answer must (the sources it should cite, the intent, "I don't know" where nothing covers it,
what must not be said, what is stored: nothing without consent). `held-out` cases were
written by someone who had not seen the engine, after it was tuned on the others: they show
how far the tuning generalises. Answer quality beyond these checks is not scored.

{chr(10).join(timing)}

{chr(10).join(table)}

Failing cases (why, and what the built-in engine made of the last message):

{chr(10).join('- ' + f.removeprefix('FAIL ').replace('|', '/') for f in failures) or '- none'}

{changes}
{STOP}"""
    RESULTS.write_text(before + section + after)
    print(section)
    sys.exit(code)


if __name__ == "__main__":
    main()
