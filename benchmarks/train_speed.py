"""fairnn's training loop vs. a plain torch DataLoader loop, timed in the same run.

Three loops train the same MLP (fresh, same seed) with Adam and BCE on the same Adult
training split for the same number of steps and batch size; the DataLoader
loop is the textbook ``for X, y in DataLoader(TensorDataset(...), shuffle=True)``.
The third is fairnn's loop with torch's per-parameter (unfused) optimizer update,
which is what fairnn used before :mod:`fairnn.training.optim`. The script prints the
median wall time of each over ``--repeats`` runs and the ratios. Run: ``python benchmarks/train_speed.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fairnn.training.loop as loop_module
from fairnn.datasets import load_dataset
from fairnn.nn import MLP
from fairnn.training import TrainConfig, fit


def plain_loop(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int, batch: int, seed: int
) -> int:
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    steps = 0
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            steps += 1
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    train = load_dataset(args.dataset, seed=0).train.to(args.device)
    d = train.n_features
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        select="last",
        progress=False,
        device=args.device,
    )
    fused = loop_module.make_optimizer
    unfused = functools.partial(fused, fused=False)
    t_fairnn, t_plain, t_unfused = [], [], []
    for r in range(args.repeats):
        for make, times in ((fused, t_fairnn), (unfused, t_unfused)):
            loop_module.make_optimizer = make  # type: ignore[assignment]
            torch.manual_seed(r)
            m = MLP(d, args.hidden).to(args.device)
            t0 = time.perf_counter()
            fit(m, train, None, cfg, seed=r)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        loop_module.make_optimizer = fused

        torch.manual_seed(r)
        m = MLP(d, args.hidden).to(args.device)
        t0 = time.perf_counter()
        steps = plain_loop(m, train.X, train.y, args.epochs, args.batch_size, r)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        t_plain.append(time.perf_counter() - t0)

    f, p, u = (statistics.median(t) for t in (t_fairnn, t_plain, t_unfused))
    print(
        f"# {args.dataset} train split: {len(train)} rows x {d} features; MLP {args.hidden}; "
        f"batch {args.batch_size}; {args.epochs} epochs = {steps} steps; device {args.device}"
    )
    print(
        f"# torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}"
    )
    print(f"plain DataLoader loop : {p:7.3f} s  ({steps / p:8.1f} steps/s)")
    print(f"fit, unfused optimizer: {u:7.3f} s  ({steps / u:8.1f} steps/s)")
    print(f"fairnn.training.fit   : {f:7.3f} s  ({steps / f:8.1f} steps/s)")
    print(
        f"speed-up (plain / fairnn): {p / f:.2f}x; fused optimizer (unfused / fused): {u / f:.2f}x"
    )


if __name__ == "__main__":
    main()
