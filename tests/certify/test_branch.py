"""Branch and bound over the input domain (fairnn.certify.branch): sound, covering, the same
for any number of workers, close to the MILP's exact value, and stoppable."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from torch import nn

from fairnn.certify import certify_global
from fairnn.certify.branch import Search, certify_branch
from fairnn.certify.config import CertifyConfig
from fairnn.certify.leaves import LeafPool
from fairnn.certify.problem import prepare
from fairnn.certify.witness import BestPair, feasible
from fairnn.datasets.core import Feature, FeatureMeta
from fairnn.errors import ConfigError
from tests.certify.test_certify import random_seq


def _features() -> FeatureMeta:
    """Two continuous columns, an integer (raw 0..4), a 3-way one-hot block and a sensitive
    3-way block (metric weight 0: the pair may differ in it at any ε)."""
    return FeatureMeta(
        (
            Feature("a", "a", "continuous", -1.0, 1.0),
            Feature("b", "b", "continuous", 0.0, 2.0),
            Feature("k", "k", "integer", -1.0, 1.0, offset=2.0, scale=2.0),
            Feature("c=x", "c", "onehot", 0.0, 1.0, block="c", category="x"),
            Feature("c=y", "c", "onehot", 0.0, 1.0, block="c", category="y"),
            Feature("c=z", "c", "onehot", 0.0, 1.0, block="c", category="z"),
            Feature("s=p", "s", "onehot", 0.0, 1.0, block="s", category="p", sensitive=True),
            Feature("s=q", "s", "onehot", 0.0, 1.0, block="s", category="q", sensitive=True),
            Feature("s=r", "s", "onehot", 0.0, 1.0, block="s", category="r", sensitive=True),
        )
    )


def _net(seed: int, hidden: list[int], act: str = "relu") -> nn.Sequential:
    return random_seq(np.random.default_rng(seed), 9, hidden, act)


def _search(seq, eps, time_limit=1.0, **kw) -> tuple[Search, object]:
    net, dom, met = prepare(seq, _features(), metric="linf")
    cfg = CertifyConfig(eps=eps, time_limit=time_limit, progress=False, **kw).resolve("global")
    search = Search(net, dom, met, cfg, BestPair(), keep_pruned=True)
    with LeafPool() as pool:
        search.run(pool, time.perf_counter(), threading.Event())
    return search, (net, dom, met)


@pytest.mark.parametrize("act", ["relu", "sigmoid"])
def test_branch_bound_is_sound_and_leaves_cover_the_domain(act):
    seq = _net(1, [8, 8], act)
    eps = 0.2
    search, (net, dom, met) = _search(seq, eps, time_limit=1.0)
    upper = search.upper()
    assert upper >= search.best.value
    assert search.stats["explored"] > 1  # it did branch
    rng = np.random.default_rng(0)
    X1 = dom.sample(400, rng)
    X2 = dom.project(X1 + rng.uniform(-eps, eps, X1.shape))
    X2[:, 3:6] = X1[:, 3:6]  # ε < 1: the category cannot change
    X2[:, 2] = X1[:, 2]  # an integer step (1/2) is beyond ε
    X2[:, 6:9] = dom.sample(len(X1), rng)[:, 6:9]  # any sensitive category
    ok = np.array([feasible(dom, met, eps, a, b) for a, b in zip(X1, X2, strict=True)])
    assert ok.sum() > 300
    vals = np.abs(net.f(X1) - net.f(X2))
    live = search.all_leaves()
    assert search.moving == [[6, 7, 8]]
    for x1, x2, v in zip(X1[ok], X2[ok], vals[ok], strict=True):
        assert v <= upper + 1e-12
        holders = [
            lf
            for lf in live + search.pruned
            if np.all(lf.lo <= x1) and np.all(x1 <= lf.hi) and np.all(x2[6:9] <= lf.top2[6:9])
        ]
        assert holders, "a feasible pair lies in no leaf"
        # each leaf that holds x' bounds its pairs (a pruned one: by the witness)
        for lf in holders:
            assert v <= (lf.upper if lf in live else search.best.value) + 1e-12


def _branch(seq, workers=1, **kw):
    """The branch certificate of a tiny logit net; leaves go to their MILP once they have at
    most 4 unstable neurons (the default, 32, would close the whole domain at once)."""
    net, dom, met = prepare(seq, _features(), metric="linf", output="logit")
    cfg = CertifyConfig(eps=0.15, time_limit=20, progress=False, target_gap=1e-3, workers=workers)
    return certify_branch(
        net,
        dom,
        met,
        cfg.resolve("global"),
        BestPair(),
        time.perf_counter(),
        threading.Event(),
        milp_unstable=4,
        batch=4,
        **kw,
    )


def test_branch_certificate_same_for_one_and_two_workers():
    seq = _net(2, [6, 6])
    one = _branch(seq, workers=1)
    two = _branch(seq, workers=2, start="fork")  # fork: no 2 s torch import per worker
    for key in ("explored", "pruned", "milp", "closed_by_milp", "open", "closed", "rounds"):
        assert one.details[key] == two.details[key], key
    assert one.details["milp"] > 1  # the leaf MILPs ran on the workers
    assert one.delta_upper == two.delta_upper
    assert one.delta_lower == two.delta_lower
    assert one.witness == two.witness


def test_branch_reaches_the_exact_milp_value():
    seq = _net(2, [6, 6])
    exact = certify_global(
        seq, _features(), eps=0.15, output="logit", progress=False, target_gap=1e-3
    )
    assert exact.status == "optimal"
    br = _branch(seq)
    assert br.details["explored"] > 1 and br.details["closed_by_milp"] > 1
    assert br.status == "optimal"
    assert br.delta_upper >= exact.delta_lower - 1e-9  # sound against the MILP's real pair
    assert br.delta_upper <= exact.delta_upper * (1 + 1e-3) + 1e-9
    assert br.gap <= 1e-3


def test_branch_stopped_returns_a_valid_anytime_certificate():
    seq = _net(4, [8, 8])
    net, dom, met = prepare(seq, _features(), metric="linf")
    cfg = CertifyConfig(eps=0.2, time_limit=30, progress=False, search="branch")
    stop = threading.Event()
    stop.set()  # Ctrl-C before the first round
    cert = certify_branch(
        net, dom, met, cfg.resolve("global"), BestPair(), time.perf_counter(), stop
    )
    assert cert.details["interrupted"] is True
    assert cert.details["explored"] == 1 and cert.details["open"] + cert.details["pruned"] == 1
    assert cert.delta_upper >= cert.delta_lower
    assert cert.delta_upper == pytest.approx(cert.details["relaxation_bound"])
    assert cert.time_s < 10


def test_leaf_pool_checks_its_settings():
    with pytest.raises(ConfigError, match="backend"):
        LeafPool(2, "spark")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="scheduler"):
        LeafPool(2, "local", "tcp://x:8786")
    with LeafPool(1) as pool:
        assert pool.map(abs, [-1, 2, -3]) == [1, 2, 3]


def test_certify_command_takes_the_search_and_its_workers():
    from fairnn.certify.command import certify_model

    seq = _net(2, [6, 6])
    common = dict(eps=0.15, domain=_features(), time_limit=1, progress=False, output="logit")
    out = certify_model(seq, search="branch", **common)
    assert out["details"]["search"] == "branch" and out["details"]["workers"] == 1
    assert out["delta_lower"] <= out["delta_upper"]
    with pytest.raises(ConfigError, match="search"):
        certify_model(seq, search="bfs", **common)


def test_branch_shows_its_bound_on_a_terminal(monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    cert = certify_global(_net(3, [40, 24]), _features(), eps=0.1, time_limit=1.5, search="branch")
    assert "explored" in cert.details
    assert "proven bound" in capsys.readouterr().err
