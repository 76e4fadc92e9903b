"""The contract every registered method passes (fairnn's `check_estimator`).

On a small real sample of Adult each method must: fit; predict probabilities
in [0, 1]; give the same result for the same seed; save and load to the same
predictions; and, at the setting listed in ``FAIR_SETTINGS``, reduce its
target gap on the test split compared with vanilla. A method added to the
registry without an entry in ``FAIR_SETTINGS`` fails
``test_every_method_declares_its_fair_setting``.
"""

from __future__ import annotations

import numpy as np
import pytest

from fairnn.datasets import load_dataset
from fairnn.methods import FittedModel, list_methods, make_method
from fairnn.training import TrainConfig

# method name -> (parameters at a setting where it should help, the gap it targets)
FAIR_SETTINGS: dict[str, tuple[dict, str] | None] = {
    "vanilla": None,
    "gapreg": ({"lam": 3.0, "mode": "dp"}, "dp_gap"),
    "runner": ({"lam": 3.0, "mode": "dp", "neuron_ratio": 0.5}, "dp_gap"),
    "neuron_importance": ({"lam": 3.0, "mode": "dp", "neuron_ratio": 0.5}, "dp_gap"),
    "adversarial": ({"lam": 0.5, "mode": "dp"}, "dp_gap"),
    # bilevel (paper order); the follower's lr is raised from the paper's 1e-5 for a 6-epoch
    # run; tests/test_fairbinn.py runs these checks for every mode (reg, bilevel, adv, hybrid)
    "fairbinn": ({"mode": "bilevel", "fairness_learning_rate": 3e-4}, "dp_gap"),
    # issue 4: pre-/post-processing baselines and FairNeuron, at their seed settings
    "oversample": ({}, "eopp_gap"),
    "reweighing": ({}, "dp_gap"),
    "fairsmote": ({}, "eopp_gap"),
    "resampling": ({}, "dp_gap"),
    "roc": ({"theta": 0.6}, "dp_gap"),
    "fairneuron": ({}, "dp_gap"),
    # issue 6: IF-fair training targets individual fairness (the output gap to the worst
    # d_fair neighbour), not a group gap: on this sample it leaves dp_gap where vanilla has
    # it (0.219 vs 0.224, within noise). tests/test_certify.py checks that it reduces the
    # empirical IF δ against vanilla instead.
    "iftrain": None,
    # issue 8: fairness reprogramming (trigger in front of the frozen vanilla model) and
    # AdvPost (adversarial fine-tuning of the whole model); image/text: tests/test_reprogram.py
    "reprogram": ({"lam": 2.0, "mode": "dp", "tune_lr": 0.01}, "dp_gap"),
    "adv_post": ({"lam": 1.0, "mode": "dp"}, "dp_gap"),
    # issue 9: MinDiff on positives (FNR parity, the paper's slice); tests/test_mindiff.py
    # checks the MMD against TF Model Remediation and the regularizers with every method
    "mindiff": ({"mindiff_weight": 1.0, "slice": "positive"}, "fnr_gap"),
}
METHODS = [cls.name for cls in list_methods()]
QUICK = TrainConfig(epochs=3, batch_size=256, progress=False)


@pytest.fixture(scope="module")
def sample():
    """3,000 training, 1,500 validation and 3,000 test rows of Adult (clean recipe, seed 0)."""
    splits = load_dataset("adult", seed=0)
    rng = np.random.default_rng(0)
    pick = lambda d, n: d.subset(rng.choice(len(d), n, replace=False))  # noqa: E731
    return pick(splits.train, 3000), pick(splits.val, 1500), pick(splits.test, 3000)


def test_every_method_declares_its_fair_setting():
    missing = [m for m in METHODS if m not in FAIR_SETTINGS]
    assert not missing, f"add {missing} to FAIR_SETTINGS in {__file__}"


@pytest.mark.parametrize("name", METHODS)
def test_fits_predicts_is_deterministic_and_round_trips(name, sample, tmp_path):
    train, val, test = sample
    params = (FAIR_SETTINGS.get(name) or ({}, ""))[0]
    a = make_method(name, **params).fit(train, val, config=QUICK, seed=7)
    b = make_method(name, **params).fit(train, val, config=QUICK, seed=7)
    p = a.predict_proba(test)
    assert p.shape == (len(test),)
    assert np.all(np.isfinite(p)) and p.min() >= 0 and p.max() <= 1
    assert np.array_equal(p, b.predict_proba(test)), "same seed must give the same model"
    assert set(np.unique(a.predict(test))) <= {0, 1}
    a.save(tmp_path / name)
    loaded = FittedModel.load(tmp_path / name)
    assert np.array_equal(loaded.predict_proba(test), p)
    assert loaded.method == name and loaded.params == a.params


@pytest.mark.parametrize("name", [m for m in METHODS if FAIR_SETTINGS.get(m)])
def test_reduces_its_target_gap_over_vanilla(name, sample):
    train, val, test = sample
    params, gap = FAIR_SETTINGS[name]
    cfg = TrainConfig(epochs=6, batch_size=256, progress=False)
    base = make_method("vanilla").fit(train, val, config=cfg, seed=0).evaluate(test)
    fair = make_method(name, **params).fit(train, val, config=cfg, seed=0).evaluate(test)
    assert fair[gap] < base[gap], (
        f"{name} {params}: {gap} {fair[gap]:.4f} vs vanilla {base[gap]:.4f}"
    )
