"""Time every parser on ordinary and adversarial input at growing sizes: parsing must stay linear.

    python benchmarks/bench_parsers.py                    # 1, 2 and 4 MB, then 10 MB of each input
    python benchmarks/bench_parsers.py --sizes 0.02,0.04 --max-mb 0 --check   # quick (tests/test_parsing_linear.py)

For each input it prints the seconds at each size and the ratio of each size's time to the
previous one. Linear means doubling the input at most doubles the time, plus a constant:
``t(2n) <= 2 t(n) + SLACK``; ``--check`` exits 1 when an input breaks that, or when the
``--max-mb`` input takes over ``--max-seconds`` (5 s).

Times are the CPU time of this process (``time.process_time``) by default: on a machine other
jobs share, wall time measures them as much as the parser (``--clock wall`` for wall time). Each
time is the best of two runs, at every size and at ``--max-mb``: on this shared virtual machine
the same parse of the same input varies by up to 25 % from one run to the next.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.parsing.feeds import parse_feed
from pipeline.parsing.html import html_to_text, strip_boilerplate
from pipeline.parsing.reader import parse_bytes

SLACK = 0.05  # seconds: the constant of "at most doubles, plus a constant"
MB = 1_000_000
LIMIT = 10**12  # no body-size limit while timing: the parsers must read it all


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _json_array(size: int) -> bytes:  # 15,000 tiny articles: the quadratic line counting
    item = '{"title": "T", "body": "Short text number %d.", "url": "https://x.org/%d"}'
    n = max(1, size // 80)
    return ("[\n" + ",\n".join(item % (i, i) for i in range(n)) + "\n]").encode()


def _json_lines(size: int) -> bytes:
    item = '{"title": "T", "body": "Short text number %d.", "url": "https://x.org/%d"}\n'
    return "".join(item % (i, i) for i in range(max(1, size // 80))).encode()


def _plain(size: int) -> bytes:
    para = "AVONFORD – The council approved a new bridge over the river on Monday after a long debate.\n\n"
    return ("date 2024-01-09 Home page local\n\nFrom: Ana Lima\n\n" + _repeat(para, size) + "(al)\n").encode()


def _feed(size: int, description: str) -> bytes:
    """Items with ``description``: ``%d`` in it becomes the item's number."""
    item = ("<item><title>T{n}</title><link>https://x.org/{n}</link><pubDate>Tue, 12 Mar 2024 10:00:00 GMT"
            "</pubDate><description>" + description.replace("%d", "{n}") + "</description></item>")
    count = max(1, size // len(item.format(n=0)))
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
            + "".join(item.format(n=i) for i in range(count)) + "</channel></rss>").encode()



def _reader(data: bytes) -> object:
    return list(parse_bytes(data, "bench", max_body_bytes=LIMIT))


# name -> (kind, input of about N bytes, parser)
CASES: dict[str, tuple[str, Callable[[int], Any], Callable[[Any], object]]] = {
    "json array of tiny articles": ("ordinary", _json_array, _reader),
    "json lines": ("ordinary", _json_lines, _reader),
    "plain text (seed format)": ("ordinary", _plain, _reader),
    "plain text, whitespace before the author code": (
        "adversarial", lambda n: ("date 2024-01-09 x\n\nText" + " " * n + "x (al)\n").encode(), _reader),
    "plain text, whitespace in the breadcrumb and byline": (
        "adversarial", lambda n: ("date 2024-01-09 a" + " " * (n // 2) + "b\nFrom: A" + " " * (n // 2)
                                  + "B\n\nText.\n").encode(), _reader),
    "json, one deeply nested value": ("adversarial", lambda n: b"[" * n, _reader),
    "json, one long string of escapes": (
        "adversarial", lambda n: ('{"body": "' + _repeat("\\u00e9 ", n) + '"}').encode(), _reader),
    "cp1251 file (encoding detection)": (
        "ordinary", lambda n: _repeat("Министр заявил во вторник, что планы не изменятся. ", n // 2).encode("cp1251"),
        _reader),
    "ascii with one stray byte at the end": ("adversarial", lambda n: _repeat("plain text ", n).encode() + b"\xe9",
                                             _reader),
    "html paragraphs and tables": (
        "ordinary", lambda n: _repeat("<p>A <b>bold</b> claim &amp; more.</p><table><tr><td>a</td><td>b</td></tr>"
                                      "</table>", n), html_to_text),
    "html, '<a' repeated": ("adversarial", lambda n: _repeat("<a", n), html_to_text),
    "html, unclosed <div> nesting": ("adversarial", lambda n: _repeat("<div>", n) + "x",
                                     html_to_text),
    "html, '&' and '<!--' runs": ("adversarial", lambda n: _repeat("&<!--", n), html_to_text),
    "page boilerplate lines": (
        "ordinary", lambda n: _repeat("CLOSE A video caption. Buzz60\nJUST WATCHED x Replay More Videos\n"
                                      "A real sentence of the story.\n", n), strip_boilerplate),
    "rss feed": ("ordinary", lambda n: _feed(n, "A short summary of the story."),
                 lambda d: list(parse_feed(d, "https://x.org/rss", max_body_bytes=LIMIT))),
    "rss feed, a different description per item": (
        "ordinary", lambda n: _feed(n, "Story %d: the council approved a new bridge over the river."),
        lambda d: list(parse_feed(d, "https://x.org/rss", max_body_bytes=LIMIT))),
    "rss feed, '&lt;a' repeated in a description": (
        "adversarial", lambda n: _feed(n, _repeat("&lt;a", 200_000)),
        lambda d: list(parse_feed(d, "https://x.org/rss", max_body_bytes=LIMIT))),
}


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def timed(parse: Callable[[Any], object], data: Any) -> float:
    start = clock()
    parse(data)
    return clock() - start


def run(sizes: list[float], max_mb: float, max_seconds: float, only: str | None = None) -> list[str]:
    """Prints one line per input; returns the problems found (empty when every parser is linear)."""
    problems: list[str] = []
    head = "  ".join(f"{s:>7g} MB" for s in sizes)
    print(f"{'input':<52} {'kind':<11} {head}  ratios{'':<12} {f'{max_mb:g} MB' if max_mb else ''}")
    for name, (kind, make, parse) in CASES.items():
        if only and only not in name:
            continue
        times = []
        for size in sizes:
            data = make(int(size * MB))
            times.append(min(timed(parse, data) for _ in range(2)))
        ratios = [later / earlier if earlier > 0 else 0.0 for earlier, later in pairwise(times)]
        for (small, big), (a, b) in zip(pairwise(sizes), pairwise(times), strict=True):
            if b > (big / small) * a + SLACK:
                problems.append(f"{name}: {big:g} MB took {b:.3f} s, {b / a if a else 0:.1f}x {small:g} MB's "
                                f"{a:.3f} s")
        big_time = ""
        if max_mb:
            data = make(int(max_mb * MB))
            seconds = min(timed(parse, data) for _ in range(2))  # the best of two, as at each size
            big_time = f"{seconds:7.2f} s"
            if seconds > max_seconds:
                problems.append(f"{name}: {max_mb:g} MB took {seconds:.2f} s (limit {max_seconds:g} s)")
        cells = "  ".join(f"{t:8.3f} s" for t in times)
        print(f"{name:<52} {kind:<11} {cells}  {' '.join(f'{r:4.2f}x' for r in ratios):<18} {big_time}", flush=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,2,4", help="input sizes in MB, comma-separated (default 1,2,4)")
    parser.add_argument("--max-mb", type=float, default=10, help="one more run at this size (0: none)")
    parser.add_argument("--max-seconds", type=float, default=5.0, help="time allowed for the --max-mb run")
    parser.add_argument("--only", help="only the inputs whose name contains this")
    parser.add_argument("--check", action="store_true", help="exit 1 when a parser is not linear")
    parser.add_argument("--json", help="also write the problems found to this file")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="what to time (default cpu)")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    problems = run([float(s) for s in args.sizes.split(",")], args.max_mb, args.max_seconds, args.only)
    for problem in problems:
        print("NOT LINEAR:", problem)
    if args.json:
        Path(args.json).write_text(json.dumps(problems))
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
