"""``inkmath download`` and ``inkmath datasets``: fetch the official data files, and show what is in place."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.cli.common import console as cli_console
from inkmath.cli.common import non_negative_int
from inkmath.data import catalog
from inkmath.data.catalog import CATALOG
from inkmath.equation.synth import crohme_wap  # noqa: F401 (registers the crohme-wap, crohme-page and crohme-real data sets)


def register(subparsers) -> None:
    names = ", ".join(CATALOG)
    p = subparsers.add_parser(
        "download", help="download a data set's official files (mnist, hasy, all)",
        description=f"Download official data files into the data dir, resuming and verifying checksums. "
                    f"Known sets: {names}; CROHME and the Kaggle symbols need a person (the command says how).")
    p.add_argument("name", help=f"{' | '.join(CATALOG)} | all")
    p.add_argument("--dest", "--data-dir", dest="dest",
                   help="data dir to download into (default: $INKMATH_DATA, else ./data)")
    p.add_argument("--mirror", help="base URL serving the data-dir layout (default: $INKMATH_MIRROR, else the "
                                    "official hosts)")
    p.add_argument("--force", action="store_true", help="replace files whose checksum is wrong (kept as .old)")
    p.add_argument("--checksum", action="append", default=[], metavar="FILE=ALGO:HEX",
                   help="expect this checksum instead of the catalog's, e.g. for a mirror that repacks a file: "
                        "HASYv2.tar.bz2=sha256:... (repeatable)")
    p.add_argument("--retries", type=non_negative_int, default=3,
                   help="retries per file and host on network errors (default 3)")
    p.add_argument("--json", action="store_true", help="one JSON object per file instead of tables")
    p.set_defaults(func=run_download)

    q = subparsers.add_parser("datasets", help="which data sets are in the data dir and which specs they allow",
                              description="List the known data sets, whether their files are in the data dir, "
                                          "and the dataset specs that then work.")
    q.add_argument("--data-dir", default=argparse.SUPPRESS, help="data dir to look in (default: $INKMATH_DATA)")
    q.add_argument("--verify", action="store_true", help="also compare checksums (reads every file)")
    q.add_argument("--json", action="store_true", help="one JSON object per data set")
    q.set_defaults(func=run_datasets)


def _root_from(args) -> Path:
    from inkmath.data import data_dir

    return data_dir(getattr(args, "dest", None) or getattr(args, "data_dir", None))


def run_download(args) -> int:
    from inkmath.data.download import download_set, parse_checksum

    console = cli_console(stderr=True)
    root = _root_from(args)
    if args.name == "all":
        names = list(CATALOG)
    else:
        names = [catalog.get(args.name).name]
    checksums = {}
    for item in args.checksum:
        key, eq, value = item.partition("=")
        if not eq:
            raise InkmathError(f"Bad --checksum {item!r}; write FILE=md5:<hex> or FILE=sha256:<hex>")
        parse_checksum(value)  # fail now, before any download
        checksums[key.strip()] = value
    failed = 0
    for name in names:
        info = CATALOG[name]
        if args.name == "all" and not info.downloadable:
            if not all((root / f.path).is_file() for f in info.files):
                text = catalog.manual_instructions(info, root)
                if args.json:
                    print(json.dumps({"dataset": name, "status": "manual", "instructions": text}))
                else:
                    console.print(f"[yellow]skipped {name}[/] (needs a person): {text}", highlight=False)
            continue
        try:
            results = download_set(name, root, base_url=args.mirror, progress=not args.json, force=args.force,
                                   retries=args.retries, checksums=checksums)
        except InkmathError as e:
            failed += 1
            if args.json:
                print(json.dumps({"dataset": name, "status": "error", "error": str(e)}))
            else:
                console.print(f"[red]error[/] {e}", highlight=False)
            continue
        for r in results:
            if args.json:
                print(json.dumps({"dataset": r.dataset, "path": str(r.path), "status": r.status, "size": r.size,
                                  "received": r.received}))
            else:
                console.print(f"{r.status:>10}  {r.path}  ({r.size:,} bytes)", highlight=False)
    return 1 if failed else 0


def run_datasets(args) -> int:
    from inkmath.data.download import dataset_status, human_size

    root = _root_from(args)
    chosen = getattr(args, "data_dir", None) or os.environ.get("INKMATH_DATA")
    if chosen and not root.is_dir():
        where = "--data-dir" if getattr(args, "data_dir", None) else "$INKMATH_DATA"
        raise InkmathError(f"{root}: no such folder ({where}); give the folder holding the data sets, or create it "
                           f"and run `inkmath download mnist` to fill it")
    status = dataset_status(root, verify=args.verify)
    if args.json:
        for s in status:
            print(json.dumps(s))
        return 0
    from rich.table import Table

    table = Table(title=f"Data sets under {root}")
    table.add_column("name", no_wrap=True)
    table.add_column("files", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("specs (once the files are in place)", overflow="fold")
    missing = not all(s["complete"] for s in status)
    if missing:
        table.add_column("get it", overflow="fold")
    for s in status:
        files = f"{s['found']}/{s['files_total']}"
        if args.verify and any(r.get("checksum") == "differs" for r in s["files"]):
            files += " [red]checksum differs[/]"
        colour = "green" if s["complete"] else ("yellow" if s["found"] else "dim")
        row = [f"[{colour}]{s['name']}[/]", files, human_size(s["size"]) if s["size"] else "-", "\n".join(s["specs"])]
        table.add_row(*row, *([] if not missing else ["" if s["complete"] else s["get"]]))
    cli_console().print(table)
    return 0
