"""``inkmath train``: train a model from a recipe and flags (torch trainer, or the NumPy engine)."""

from __future__ import annotations

import json
import sys

from inkmath.errors import InkmathError
from inkmath.cli.common import jsonable as _jsonable


def register(subparsers) -> None:
    from inkmath.training.config import TrainConfig

    d = TrainConfig()  # the defaults a flag falls back to when neither it nor the recipe sets the key
    p = subparsers.add_parser("train", help="train a model on a data set (checkpoints, resume, metrics.csv)")
    p.add_argument("dataset", nargs="?", help="training data spec, e.g. mnist:train, hasy:fold=1:train (or from --config)")
    p.add_argument("--model", help=f"registry model (see `inkmath models`; default: the recipe's, else {d.model})")
    p.add_argument("--config", help="YAML recipe (configs/*.yaml); flags override it (default: none, the built-in defaults)")
    p.add_argument("--out", help="run folder (checkpoints, metrics.csv, weights; default: the recipe's)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    p.add_argument("--epochs", type=int, help=f"passes over the training data (default: the recipe's, else {d.epochs})")
    p.add_argument("--batch-size", type=int, help=f"images per step (default: the recipe's, else {d.batch_size})")
    p.add_argument("--lr", type=float, help=f"peak learning rate (default: the recipe's, else {d.lr:g})")
    p.add_argument("--seed", type=int, help=f"random seed: same seed, same run (default: the recipe's, else {d.seed})")
    p.add_argument("--augment", choices=["none", "light", "strong"],
                   help=f"augmentation preset (default: the recipe's, else {d.augment})")
    p.add_argument("--limit", type=int, help="train on a stratified subset of N images (default: all)")
    p.add_argument("--val", help="validation data spec (default: a share of the training set)")
    p.add_argument("--test", help="test data spec, evaluated at the end with the best weights (default: none)")
    p.add_argument("--engine", choices=["torch", "numpy"], help=f"torch or the NumPy-only engine (default: the recipe's, else {d.engine})")
    p.add_argument("--threads", type=int, help="CPU threads (default: the recipe's, else torch's own choice)")
    p.add_argument("--precision", choices=["fp32", "bf16", "auto"],
                   help="fp32 (default) or bf16 autocast, about 2x faster on CPUs with AMX/AVX512-BF16; auto picks")
    p.add_argument("--name", help="name written into the weights' card (default: the run folder's name)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other config key, e.g. --set label_smoothing=0.1 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from inkmath.training.config import make_config

    overrides = {"dataset": args.dataset, "model": args.model, "out": args.out, "epochs": args.epochs,
                 "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed, "engine": args.engine,
                 "augment": args.augment, "limit": args.limit, "test": args.test, "val": args.val,
                 "threads": args.threads, "name": args.name, "precision": args.precision}
    for item in args.set or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise InkmathError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.replace("-", "_")] = value
    cfg = make_config(args.config, overrides)
    if cfg.engine == "numpy":
        from inkmath.training.numpy_engine import train_from_config

        command = "inkmath " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("inkmath") else None
        result = train_from_config(cfg, resume=args.resume, command=command)
        print(json.dumps(_jsonable(result)))
        return 0
    if cfg.engine != "torch":
        raise InkmathError(f"Unknown engine {cfg.engine!r}; choose torch or numpy")
    from inkmath.training.loop import fit

    result = fit(cfg, resume=args.resume, progress=not args.quiet)
    if "metrics" in result:
        print(json.dumps(_jsonable({"out": result["out"], "weights": result["weights"], "metrics": result["metrics"]})))
    return 0
