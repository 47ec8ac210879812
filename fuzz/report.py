#!/usr/bin/env python3
"""Rewrites the results table of FUZZING.md from the libFuzzer logs of `make fuzz`.

usage: report.py <log-dir> <FUZZING.md> <target>...

Each fuzz/logs/<target>.log is read for libFuzzer's final statistics (-print_final_stats=1) and
its last coverage line; a run that ended on a crash is reported with its artifact. The table goes
between the `<!-- fuzz-results:start -->` and `<!-- fuzz-results:end -->` markers.
"""

import datetime
import pathlib
import re
import subprocess
import sys

START, END = "<!-- fuzz-results:start -->", "<!-- fuzz-results:end -->"


def stat(text, name):
    m = re.search(rf"^stat::{name}:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def row(target, log):
    if not log.exists():
        return f"| `{target}` | not run | | | | | |"
    text = log.read_text(encoding="utf-8", errors="replace")
    runs = stat(text, "number_of_executed_units")
    done = re.search(r"^Done (\d+) runs in (\d+) second", text, re.M)
    seconds = int(done.group(2)) if done else None
    per_sec = stat(text, "average_exec_per_sec")
    rss = stat(text, "peak_rss_mb")
    cov = re.findall(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", text, re.M)
    coverage = f"{cov[-1][0]} / {cov[-1][2]}" if cov else ""
    artifact = re.search(r"Test unit written to (\S+)", text)
    if artifact:
        panic = re.search(r"panicked at ([^\n]+)\n([^\n]*)", text)
        where = f" at `{panic.group(1).strip()}`: {panic.group(2).strip()[:120]}" if panic else ""
        finding = f"**crash** `{artifact.group(1)}`{where}"
    elif done:
        finding = "none"
    else:
        # Stopped from outside (e.g. a deadline): the last status line says how far it got.
        last = re.findall(r"^#(\d+)\s", text, re.M)
        runs = int(last[-1]) if last else runs
        finding = "none (run stopped before its limit)"
    fmt = lambda v: f"{v:,}" if isinstance(v, int) else ""
    return f"| `{target}` | {fmt(runs)} | {fmt(seconds)} | {fmt(per_sec)} | {coverage} | {fmt(rss)} | {finding} |"


def main():
    logs, doc, targets = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        f"Last `make fuzz`: {now}, commit `{commit}`.",
        "",
        "| target | executions | seconds | exec/s | coverage (edges / corpus) | peak RSS MB | findings |",
        "|---|---:|---:|---:|---|---:|---|",
        *[row(t, logs / f"{t}.log") for t in targets],
        END,
    ]
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"{START}\n{END}\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + "\n".join(lines) + tail
    else:
        text += "\n" + "\n".join(lines) + "\n"
    doc.write_text(text, encoding="utf-8")
    print("\n".join(lines[3:-1]))


if __name__ == "__main__":
    main()
