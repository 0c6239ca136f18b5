"""``etlkit demo``: seed, move and prove the demo data set, print the receipt."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from etlkit import receipt
from etlkit.demo import exit_code, run_demo


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the demo job on the embedded default and print its receipt",
        description="Seed the deterministic demo data into chDB, move it to DuckDB "
        "through the worker, prove the move and print the receipt summary.",
    )
    parser.add_argument(
        "--rows",
        type=_positive,
        default=receipt.PUBLISHED_ROWS,
        help="rows to seed (default: %(default)s, the published receipt)",
    )
    parser.add_argument(
        "--transport",
        choices=("fast", "protocol"),
        help="override the demo spec's transport",
    )
    parser.add_argument(
        "--reports",
        type=Path,
        help="folder for run evidence (default: reports/ in the repository)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    def on_phase(name: str) -> None:
        if not args.json:
            print(f"phase={name}", file=sys.stderr, flush=True)

    summary = run_demo(args.rows, args.transport, args.reports, on_phase)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(render(summary))
    return exit_code(summary)


def render(summary: dict) -> str:
    """The receipt summary as ``key=value`` lines a person can read."""
    lines = [
        f"run={summary['run_id']} status={summary['status']} "
        f"exit_code={summary['exit_code']}",
        f"evidence={summary['evidence']}",
        f"source={_quote(summary['source'])} destination={_quote(summary['destination'])} "
        f"transport={summary['transport']}",
        f"rows={_number(summary['rows'])} batches={summary['batches']} "
        f"bytes={_number(summary['bytes'])}",
        f"total_revenue={_money(summary['revenue'])}",
    ]
    tally = summary.get("tally_event_type") or {}
    if tally:
        ordered = sorted(tally.items(), key=lambda item: -int(item[1]))
        lines.append(
            "rows_per_event_type="
            + " · ".join(f"{name} {_number(count)}" for name, count in ordered)
        )
    checks = " ".join(
        f"{name}={'pass' if ok else 'FAIL'}" for name, ok in summary["checks"].items()
    )
    lines.append(
        f"checks={summary['checks_passed']}/{summary['checks_total']} {checks}"
    )
    lines.append(f"content_sha256={summary['content_sha256']}")
    lines.append(
        f"read_seconds={summary['read_seconds']} write_seconds={summary['write_seconds']} "
        f"rows_per_second={_number(summary['rows_per_second'])}"
    )
    lines.append(
        "phases="
        + " ".join(f"{p['name']}:{p['seconds']:.3f}s" for p in summary["phases"])
    )
    match = summary.get("matches_published_receipt")
    if match is None:
        lines.append("published_receipt=not compared (it covers 50,000 rows)")
    else:
        verdict = "reproduced" if all(match.values()) else "DIFFERS"
        lines.append(
            f"published_receipt={verdict} "
            + " ".join(
                f"{name}={'match' if ok else 'DIFFERS'}" for name, ok in match.items()
            )
        )
    if summary.get("error"):
        lines.append(
            f"error={_quote(summary['failure_class'] + ' ' + summary['error'])}"
        )
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"--rows must be at least 1, not {value}")
    return value


def _number(value) -> str:
    return "?" if value is None else f"{int(value):,}"


def _money(value) -> str:
    if value is None:
        return "?"
    whole, _, cents = str(value).partition(".")
    return f"{int(whole):,}.{cents or '00'}"


def _quote(text: str) -> str:
    return f'"{text}"' if " " in text else text
