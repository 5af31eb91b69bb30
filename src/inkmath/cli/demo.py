"""``inkmath demo``: the shipped models on the bundled examples (what ``make demo`` does)."""

from __future__ import annotations

from pathlib import Path

from inkmath.errors import InkmathError, __version__
from inkmath.cli.common import console as _console
from inkmath.cli.common import file_error_line


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the shipped models on the bundled examples (what `make demo` does)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    """The main job on the bundled examples: symbols with the shipped classifiers, equations read and solved."""
    from importlib import resources

    from inkmath.imageio import read_image
    from inkmath.predict import Predictor
    from inkmath.weights import list_shipped

    con = _console()
    folder = Path(str(resources.files("inkmath").joinpath("examples")))
    shipped = list_shipped()
    con.print(f"[bold]inkmath {__version__}[/] demo - shipped weights: {', '.join(shipped) or 'none'}")
    con.print("\n[bold]Symbols[/] (`inkmath predict --weights mnist`)")
    digits = Predictor.load("mnist") if "mnist" in shipped else None
    for f in sorted(folder.glob("digit_*.png")):
        if digits is None:
            con.print("  the mnist weights are not shipped in this installation")
            break
        top = digits.predict([read_image(f)], top=3)[0]
        con.print(f"  {f.name}: " + ", ".join(f"{p.label} ({p.prob:.3f})" for p in top), highlight=False)
    con.print("\n[bold]Expressions[/] (`inkmath recognize`)")
    from inkmath.equation.recognize import recognize_image

    failed = 0
    for f in sorted(folder.glob("*.png")):
        if f.name.startswith("digit_"):
            continue
        try:
            rec = recognize_image(read_image(f))
        except InkmathError as e:
            con.print(f"  {file_error_line(f.name, str(e).removeprefix(f'{f}: '))}", style="red", markup=False)
            failed += 1
            continue
        answer = rec.answer or {}
        con.print(f"  {f.name}: [cyan]{rec.latex}[/]  ->  {answer.get('text') or answer.get('reason') or ''}",
                  highlight=False)
    con.print("\nDraw your own: `inkmath serve`, then open http://127.0.0.1:8000")
    return 1 if failed else 0
