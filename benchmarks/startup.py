"""Start-up cost of ``fairnn``, and a one-seed RUNNER run against a plain torch loop, in CPU seconds.

Each command runs in a fresh subprocess; its cost is the user + system CPU time of the
children (``resource.getrusage(RUSAGE_CHILDREN)`` before and after), the median over
``--repeats`` runs. Measured:

* ``python -c "import fairnn"``, ``fairnn --help`` (target: <= 0.5 s each) and
  ``python -c "import torch"`` as a reference;
* ``fairnn train --data adult --recipe runner --method vanilla --seed 0 --quiet`` against a
  plain torch script doing the same optimizer steps: the same MLP shape, number of steps and
  batch size, on random tensors the size of the training split, with ``torch.optim.Adam``
  (interpreter start and ``import torch`` included on both sides; target: ratio <= 1.3).
  The plain script runs twice: with ``torch.optim.Adam``'s defaults (the target's reference)
  and with ``fused=True``, the update fairnn uses (:mod:`fairnn.training.optim`).

The step count and batch size come from the runner protocol (:mod:`fairnn.experiments.protocols`),
so the two sides stay in step. Both sides run with ``OMP_NUM_THREADS=--threads``. The machine's
load average is printed, because CPU time on a busy machine is noisy.
Run: ``python benchmarks/startup.py [--repeats 3] [--epochs N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys

IMPORT_TARGET_S = 0.5
TRAIN_TARGET_RATIO = 1.3

PLAIN = """
import sys
import torch
from torch import nn

n, d, steps, batch = (int(v) for v in sys.argv[1:5])
hidden = [int(v) for v in sys.argv[5].split(",")]
fused = sys.argv[6:] == ["fused"] or None
torch.manual_seed(0)
X, y = torch.randn(n, d), (torch.rand(n) < 0.25).float()
layers, width = [], d
for h in hidden:
    layers += [nn.Linear(width, h), nn.ReLU()]
    width = h
model = nn.Sequential(*layers, nn.Linear(width, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
loss_fn = nn.BCEWithLogitsLoss()
for _ in range(steps):
    idx = torch.randint(n, (batch,))
    opt.zero_grad(set_to_none=True)
    loss_fn(model(X[idx]).squeeze(1), y[idx]).backward()
    opt.step()
"""


def cpu_seconds(
    commands: dict[str, list[str]], env: dict[str, str], repeats: int
) -> dict[str, float]:
    """Median user + system CPU seconds of running each command to completion.

    The commands take turns (one run of each per round), so a change in the machine's
    load hits them alike.
    """
    sys.stdout.flush()
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {name: statistics.median(r) for name, r in runs.items()}


def runner_shape(epochs: int | None) -> tuple[int, int, int, int, list[int]]:
    """(rows, features, steps, batch, hidden) of a one-seed vanilla run on the runner recipe."""
    from fairnn.datasets import load_dataset
    from fairnn.experiments import protocol
    from fairnn.methods import Architecture

    cfg = protocol("runner", "dp", "vanilla")
    train = load_dataset("adult", recipe="runner", seed=0).train
    steps = (epochs or cfg["epochs"]) * cfg["steps_per_epoch"]
    batch = cfg["per_cell"] * train.groups.n_groups
    return len(train), train.n_features, steps, batch, Architecture().hidden


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, help="train fewer epochs (both sides); default: 10")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    py = sys.executable
    fairnn = shutil.which("fairnn", path=os.path.dirname(py)) or shutil.which("fairnn")
    if fairnn is None:
        sys.exit("the fairnn command is not installed next to this Python")
    n, d, steps, batch, hidden = runner_shape(args.epochs)
    train_cmd = [fairnn, "train", "--data", "adult", "--recipe", "runner"]
    train_cmd += ["--method", "vanilla", "--seed", "0", "--quiet"]
    if args.epochs:
        train_cmd += ["--epochs", str(args.epochs)]
    plain_cmd = [py, "-c", PLAIN, str(n), str(d), str(steps), str(batch)]
    plain_cmd.append(",".join(map(str, hidden)))

    print(
        f"# python benchmarks/startup.py --repeats {args.repeats} --threads {args.threads}"
        + (f" --epochs {args.epochs}" if args.epochs else "")
    )
    print(f"# load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        f"# train: {steps} steps of batch {batch}, MLP {d}-{'-'.join(map(str, hidden))}-1, "
        f"{n} training rows; CPU seconds, median of {args.repeats}"
    )
    t = cpu_seconds(
        {
            "import fairnn": [py, "-c", "import fairnn"],
            "fairnn --help": [fairnn, "--help"],
            "import torch": [py, "-c", "import torch"],
        },
        env,
        args.repeats,
    )
    t |= cpu_seconds(
        {
            "fairnn train": train_cmd,
            "plain torch loop": plain_cmd,
            "plain, fused Adam": [*plain_cmd, "fused"],
        },
        env,
        args.repeats,
    )
    ok = {True: "ok", False: "OVER"}
    for name in ("import fairnn", "fairnn --help"):
        verdict = ok[t[name] <= IMPORT_TARGET_S]
        print(f"{name:<20} {t[name]:6.2f} s   target <= {IMPORT_TARGET_S} s  {verdict}")
    print(f"{'import torch':<20} {t['import torch']:6.2f} s   (reference)")
    for name in ("fairnn train", "plain torch loop", "plain, fused Adam"):
        print(f"{name:<20} {t[name]:6.2f} s")
    ratio = t["fairnn train"] / t["plain torch loop"]
    verdict = ok[ratio <= TRAIN_TARGET_RATIO]
    print(f"{'train / plain':<20} {ratio:6.2f}x  target <= {TRAIN_TARGET_RATIO}x  {verdict}")
    fused = t["fairnn train"] / t["plain, fused Adam"]
    print(f"{'train / plain fused':<20} {fused:6.2f}x  (fairnn's optimizer is fused Adam)")
    print(f"# load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
