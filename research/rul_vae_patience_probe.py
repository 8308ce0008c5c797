"""Probe: how much early-stopping patience does a ``rul_vae`` member need, judged on validation?

Reads every saved training history of a subset
(``data/08_reporting/rul_vae/<subset>/training_history.json/<version>``; an ensemble's holds
each member's) and, for each patience, replays early stopping on the member's validation
loss: the epoch it would have kept and the epoch it would have stopped after. Training is
seeded and deterministic, and the learning rate decays per epoch (not on a plateau), so a
run with a smaller patience is the first epochs of this one: when it keeps the same epoch,
it is the same model, trained for fewer epochs. The test engines are not read. No training.

    python research/rul_vae_patience_probe.py --patience 2 3 5 10   # in a project that has run rul_vae
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def early_stop(val_loss: list[float], patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """(kept epoch, epochs trained), both counted from 1, as Keras' ``EarlyStopping`` with
    ``restore_best_weights`` would give on these validation losses (``mode="min"``)."""
    best = 0
    for epoch in range(1, len(val_loss)):
        if val_loss[epoch] < val_loss[best] - min_delta:
            best = epoch
        elif epoch - best >= patience:
            return best + 1, epoch + 1
    return best + 1, len(val_loss)


def member_histories(path: Path) -> list[tuple[str, list[float]]]:
    """(seed, validation losses) of every member of one saved history (one, for a single model)."""
    history = json.loads(path.read_text())
    if isinstance(history.get("members"), list):
        return [(str(m["seed"]), m["history"]["val_loss"]) for m in history["members"]]
    return [("single model", history["val_loss"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."), help="the project whose data/ holds the runs")
    parser.add_argument("--subset", default="FD001")
    parser.add_argument("--patience", type=int, nargs="+", default=[2, 3, 5, 10])
    args = parser.parse_args()
    folder = args.project / "data/08_reporting/rul_vae" / args.subset / "training_history.json"
    paths = sorted(folder.glob("*/training_history.json"))
    if not paths:
        raise SystemExit(f"no saved training history under {folder}: run `kedro run --pipeline=rul_vae` first")
    header = " | ".join(f"patience {p}: kept, trained" for p in args.patience)
    print(f"| run | member seed | epochs trained | {header} |")
    print("|---|---|---|" + "---|" * len(args.patience))
    for path in paths:
        for seed, val_loss in member_histories(path):
            cells = " | ".join("{}, {}".format(*early_stop(val_loss, p)) for p in args.patience)
            print(f"| {path.parent.name} | {seed} | {len(val_loss)} | {cells} |")


if __name__ == "__main__":
    main()
