"""Per-rule run time and memory from Snakemake's benchmark files (``benchmarks/<rule>/*.tsv``)."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

__all__ = ["benchmark_table"]


def _read(path: Path) -> dict[str, float]:
    frame = pd.read_csv(path, sep="\t")
    row = frame.iloc[-1]
    return {"s": float(row["s"]), "max_rss": float(pd.to_numeric(row.get("max_rss"),
                                                                  errors="coerce"))}


def benchmark_table(bench_dir: str | os.PathLike, out: str | os.PathLike) -> pd.DataFrame:
    """Write an HTML table of run time (s) and peak memory (MB) per job, grouped by rule.

    Returns the per-rule totals (columns rule, jobs, total_s, max_s, max_rss_mb).
    """
    bench_dir = Path(bench_dir)
    rows = []
    for path in sorted(bench_dir.rglob("*.tsv")):
        rel = path.relative_to(bench_dir)
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        rows.append({"rule": rule, "job": rel.stem, **_read(path)})
    jobs = pd.DataFrame(rows, columns=["rule", "job", "s", "max_rss"])
    totals = (jobs.groupby("rule").agg(jobs=("job", "count"), total_s=("s", "sum"),
                                       max_s=("s", "max"), max_rss_mb=("max_rss", "max"))
              .reset_index())
    lines = ["<html><head><meta charset='utf-8'><title>run time and memory</title></head>"
             "<body><h3>Per rule</h3><table border='1' cellpadding='3'><tr><th>rule</th>"
             "<th>jobs</th><th>total s</th><th>max s</th><th>max RSS MB</th></tr>"]
    for r in totals.itertuples():
        lines.append(f"<tr><td>{html.escape(r.rule)}</td><td>{r.jobs}</td>"
                     f"<td>{r.total_s:.2f}</td><td>{r.max_s:.2f}</td>"
                     f"<td>{r.max_rss_mb:.1f}</td></tr>")
    lines.append("</table><h3>Per job</h3><table border='1' cellpadding='3'><tr><th>rule</th>"
                 "<th>job</th><th>s</th><th>max RSS MB</th></tr>")
    for r in jobs.itertuples():
        lines.append(f"<tr><td>{html.escape(r.rule)}</td><td>{html.escape(r.job)}</td>"
                     f"<td>{r.s:.2f}</td><td>{r.max_rss:.1f}</td></tr>")
    lines.append("</table></body></html>")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return totals
