"""`conformance report`: re-render a report from its certification.json alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Re-render certification.html from a certification.json (and print a text summary)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        metavar="PATH",
        help="a certification.json written by certify or callbacks (or the directory holding it)",
    )
    parser.add_argument(
        "--html",
        metavar="OUT",
        help="where to write the HTML (default: certification.html beside PATH; '-' for standard output)",
    )
    parser.add_argument(
        "--text",
        action="store_true",
        help="print a text summary (verdict, per-API table, coverage gaps, every failure with its reproduction); "
        "with --text alone no HTML is written",
    )


def run(args: argparse.Namespace) -> int:
    from .._errors import UsageError
    from ..reporting import HTML_FILE, JSON_FILE, load_report, render_html, render_text
    from ..reporting._files import write_atomically

    source = Path(args.path)
    if source.is_dir():
        source = source / JSON_FILE
    document = load_report(source)
    if args.text:
        sys.stdout.write(render_text(document))
    if args.html or not args.text:
        html = render_html(document)
        if args.html == "-":
            sys.stdout.write(html)
        else:
            out = Path(args.html) if args.html else source.with_name(HTML_FILE)
            try:
                write_atomically(out, html)
            except OSError as exc:
                raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
            if not args.text:
                print(f"wrote {out}")
    return 0
