"""fairnn.training.search: grids, criteria, budgets, bisection and what a search reports.

The searches run on small known functions (a gap that falls and an accuracy that falls
as a fairness weight λ grows), so every choice can be checked by hand, and once on a
real model: the reject-option θ of a vanilla network on German, bisected to a gap target.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from fairnn.errors import ConfigError
from fairnn.training.search import (
    Budget,
    MeetTarget,
    Minimize,
    Outcome,
    bisect,
    grid,
    log_grid,
    run_search,
)


def weighted(lam: float) -> Outcome[str]:
    """A stand-in for training with fairness weight λ: gap 1/(1+λ), accuracy 0.9 − 0.01·λ."""
    return Outcome(f"model λ={lam:g}", {"gap": 1.0 / (1.0 + lam), "accuracy": 0.9 - 0.01 * lam})


# -- candidates ---------------------------------------------------------------------------
def test_grids_include_both_ends_and_space_values_evenly():
    assert grid(0.0, 1.0, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert grid(2.0, 3.0, 1) == [2.0]
    lg = log_grid(1e-4, 1.0, 5)
    assert lg[0] == 1e-4 and lg[-1] == 1.0
    assert np.allclose(np.log10(lg), [-4, -3, -2, -1, 0])
    assert np.allclose(np.diff(np.log(lg)), np.log(10))


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: grid(1.0, 0.0, 3), "lo <= hi"),
        (lambda: grid(0.0, math.inf, 3), "finite"),
        (lambda: grid(0.0, 1.0, 0), "at least one"),
        (lambda: log_grid(0.0, 1.0, 3), "positive"),
        (lambda: Budget(max_trials=0), "max_trials"),
        (lambda: Budget(max_seconds=0), "max_seconds"),
        (lambda: MeetTarget("gap", math.nan), "finite"),
    ],
)
def test_bad_search_settings_raise_config_errors_naming_the_setting(call, word):
    with pytest.raises(ConfigError, match=word):
        call()


# -- run_search ---------------------------------------------------------------------------
def test_minimize_keeps_the_smallest_score_and_only_its_model():
    made = []

    def evaluate(x: float) -> Outcome[list[float]]:
        model = [x]
        made.append(model)
        return Outcome(model, {"loss": (x - 0.3) ** 2}, {"note": f"x={x}"})

    found = run_search([0.0, 0.2, 0.5, 0.9], evaluate, Minimize("loss"))
    assert found.candidate == 0.2 and found.model is made[1]
    assert [t.candidate for t in found.trials] == [0.0, 0.2, 0.5, 0.9]
    assert [t.index for t in found.trials] == [0, 1, 2, 3]
    assert found.ranked and found.feasible and found.stopped == "every candidate tried"
    report = found.report()
    assert report["best"] == 1 and report["criterion"] == "minimise loss"
    assert [t["note"] for t in report["trials"]] == ["x=0.0", "x=0.2", "x=0.5", "x=0.9"]
    assert report["trials"][2]["metrics"] == {"loss": pytest.approx(0.04)}


def test_ties_go_to_the_trial_tried_first_and_unrankable_trials_lose():
    scores = {"a": math.nan, "b": 1.0, "c": math.inf, "d": 1.0, "e": 2.0}
    found = run_search(list(scores), lambda k: Outcome(k, {"s": scores[k]}), Minimize("s"))
    assert found.candidate == "b"
    assert [t.rank for t in found.trials] == [None, (1.0,), None, (1.0,), (2.0,)]
    # no trial can be ranked: the first one is kept, and the result says so
    nan = run_search(["x", "y"], lambda k: Outcome(k, {"s": math.nan}), Minimize("s"))
    assert nan.candidate == "x" and not nan.ranked and not nan.feasible
    # not scored (no validation split): a single candidate is simply kept
    one = run_search([7], lambda k: Outcome(k), Minimize("s"))
    assert one.candidate == 7 and one.best.metrics is None and not one.ranked


def test_a_score_function_ranks_as_a_metric_does():
    def score(m):
        return m["gap"] - 0.5 * m["accuracy"]

    found = run_search([0.0, 1.0, 3.0, 9.0], weighted, Minimize(score, "gap − acc/2"))
    values = [score(t.metrics) for t in found.trials]
    assert found.best.index == int(np.argmin(values))
    assert found.criterion == "minimise gap − acc/2"


def test_meet_target_takes_the_most_accurate_model_within_the_target():
    lams = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
    found = run_search(lams, weighted, MeetTarget("gap", 0.4, maximize="accuracy"))
    # gaps 1, .67, .5, .33, .2, .11: λ = 2, 4, 8 meet 0.4; accuracy falls with λ
    assert found.candidate == 2.0 and found.feasible
    assert [t.feasible for t in found.trials] == [False] * 3 + [True] * 3
    # shuffled order: the same model (ranked by accuracy, not by order)
    again = run_search(lams[::-1], weighted, MeetTarget("gap", 0.4, maximize="accuracy"))
    assert again.candidate == 2.0
    # without maximize: the first tried that meets it
    first = run_search(lams[::-1], weighted, MeetTarget("gap", 0.4))
    assert first.candidate == 8.0
    # none meets the target: the smallest gap, flagged infeasible
    none = run_search(lams, weighted, MeetTarget("gap", 0.01, maximize="accuracy"))
    assert none.candidate == 8.0 and none.ranked and not none.feasible


def test_a_trial_budget_stops_the_search_and_says_so():
    calls = []

    def evaluate(x: int) -> Outcome[int]:
        calls.append(x)
        return Outcome(x, {"s": -x})

    found = run_search(range(10), evaluate, Minimize("s"), budget=Budget(max_trials=3))
    assert calls == [0, 1, 2] and found.candidate == 2
    assert found.stopped == "budget: 3 trials" and len(found.trials) == 3


def test_a_time_budget_lets_the_first_trial_finish_and_starts_no_other():
    def slow(x: int) -> Outcome[int]:
        time.sleep(0.05)
        return Outcome(x, {"s": x})

    found = run_search(range(5), slow, Minimize("s"), budget=Budget(max_seconds=0.01))
    assert len(found.trials) == 1 and found.stopped.startswith("budget")
    assert found.trials[0].seconds >= 0.05


def test_an_empty_search_raises_a_config_error():
    with pytest.raises(ConfigError, match="no candidates"):
        run_search([], weighted, Minimize("gap"), label="empty")


# -- bisection ----------------------------------------------------------------------------
def test_bisection_finds_the_smallest_weight_that_meets_a_gap_target():
    # gap(λ) = 1/(1+λ) ≤ 0.2 exactly when λ ≥ 4
    crit = MeetTarget("gap", 0.2, maximize="accuracy")
    found = bisect(weighted, 0.01, 100.0, crit, log_scale=True, budget=Budget(max_trials=30))
    tried = [t.candidate for t in found.trials]
    assert tried[:2] == [0.01, 100.0]  # the end that should miss, then the other
    assert found.feasible and 4.0 <= found.candidate < 4.0 * 1.01
    # the most accurate feasible trial is the smallest feasible λ tried
    assert found.candidate == min(t.candidate for t in found.trials if t.feasible)
    # geometric midpoints: the third trial is sqrt(0.01 · 100) = 1
    assert tried[2] == pytest.approx(1.0)
    # equal accuracy: the tie goes to the value nearest the end tried first
    flat = bisect(
        lambda lam: Outcome(lam, {"gap": 1.0 / (1.0 + lam), "accuracy": 0.8}), 0.0, 16.0, crit
    )
    assert flat.candidate == min(t.candidate for t in flat.trials if t.feasible)
    assert flat.candidate == 4.0 and flat.trials[1].candidate == 16.0  # not the first feasible
    linear = bisect(weighted, 0.0, 16.0, crit, budget=Budget(max_trials=4))
    assert [t.candidate for t in linear.trials] == [0.0, 16.0, 8.0, 4.0]
    assert linear.candidate == 4.0 and linear.stopped == "budget: 4 trials"


def test_bisection_stops_early_when_an_end_decides_it():
    crit = MeetTarget("gap", 0.2, maximize="accuracy")
    light = bisect(weighted, 5.0, 50.0, crit)
    assert [t.candidate for t in light.trials] == [5.0] and light.feasible
    assert light.stopped == "the first end meets the criterion"
    hard = bisect(weighted, 0.0, 1.0, crit)
    assert [t.candidate for t in hard.trials] == [0.0, 1.0] and not hard.feasible
    assert hard.candidate == 1.0  # the smallest gap tried
    assert hard.stopped == "the second end misses the criterion"


def test_bisection_respects_tol_and_a_decreasing_boundary():
    crit = MeetTarget("gap", 0.2)
    coarse = bisect(weighted, 0.0, 16.0, crit, tol=4.0, budget=Budget(max_trials=50))
    assert [t.candidate for t in coarse.trials] == [0.0, 16.0, 8.0, 4.0]
    assert coarse.stopped == "interval narrower than tol=4"

    # a quantity that meets the target below a boundary: gap = λ/10 ≤ 0.2 for λ ≤ 2
    def rising(lam: float) -> Outcome[float]:
        return Outcome(lam, {"gap": lam / 10, "accuracy": lam})

    top = MeetTarget("gap", 0.2, maximize="accuracy")
    found = bisect(rising, 0.0, 8.0, top, increasing=False, budget=Budget(max_trials=20))
    assert found.trials[0].candidate == 8.0 and found.feasible
    assert 2.0 - 1e-4 < found.candidate <= 2.0


def test_bisection_on_a_real_model_meets_a_reject_option_gap_target():
    """Bisect the reject-option θ of a vanilla German network for val ΔDP ≤ a target.

    Between θ = 0.5 (no change) and the grid's least-gap θ, widening the critical region
    lowers ΔDP; the bisection's θ meets the target and is no larger than the smallest
    θ of ROC's 26-point grid that meets it.
    """
    from fairnn.datasets import load_dataset
    from fairnn.methods import make_method
    from fairnn.methods.roc import DEFAULT_GRID, RejectOption, resolve_privileged, search_theta
    from fairnn.metrics import evaluate
    from fairnn.training import TrainConfig

    german = load_dataset("german", seed=0)
    cfg = TrainConfig(epochs=10, batch_size=64, progress=False)
    base = make_method("vanilla").fit(german.train, german.val, config=cfg, seed=0)
    val = german.val
    p, y, s = base.predict_proba(val), val.y.numpy(), val.s.numpy()
    privileged = resolve_privileged(None, german.train)

    def apply(theta: float) -> Outcome[RejectOption]:
        rule = RejectOption(theta, privileged, 2)
        y_pred = rule.decide(p, s)
        m = evaluate(y, p, sensitive_features=s, metrics=["dp_gap", "accuracy"], y_pred=y_pred)
        return Outcome(rule, m)

    least, gaps = search_theta(p, val, privileged, "dp_gap", DEFAULT_GRID, None)
    target = (gaps[0.5] + gaps[least]) / 2
    assert gaps[least] < target < gaps[0.5]  # the grid can meet it, θ = 0.5 cannot
    on_grid = min(t for t, g in gaps.items() if g <= target)
    crit = MeetTarget("dp_gap", target, maximize="accuracy")
    found = bisect(apply, 0.5, least, crit, tol=1e-3, budget=Budget(max_trials=20))
    assert found.feasible and found.best.metrics["dp_gap"] <= target
    assert found.candidate <= on_grid
    assert isinstance(found.model, RejectOption) and found.model.theta == found.candidate
    met = [t for t in found.trials if t.feasible]
    assert all(t.metrics["accuracy"] <= found.best.metrics["accuracy"] for t in met)
    assert found.stopped == "interval narrower than tol=0.001"
