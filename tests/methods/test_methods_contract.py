"""The contract every registered method passes (fairnn's `check_estimator`).

On a small real sample of Adult each method must: fit; predict probabilities
in [0, 1]; give the same result for the same seed; save and load to the same
predictions (:func:`fairnn.testing.check_method`); when it can repair, return a
new model and leave the one it repairs as it was (:func:`fairnn.testing.check_repair`);
and, at the setting listed in ``FAIR_SETTINGS``, reduce its target gap on the test
split compared with vanilla. A method added to the registry without an entry in
``FAIR_SETTINGS`` fails ``test_every_method_declares_its_fair_setting``.
"""

from __future__ import annotations

import pytest

from fairnn.methods import list_methods, make_method
from fairnn.testing import adult_sample, check_method, check_repair
from fairnn.training import TrainConfig
from tests.effects import paired_effect

# method name -> (parameters at a setting where it should help, the gap it targets)
FAIR_SETTINGS: dict[str, tuple[dict, str] | None] = {
    "vanilla": None,
    "gapreg": ({"lam": 3.0, "mode": "dp"}, "dp_gap"),
    "runner": ({"lam": 3.0, "mode": "dp", "neuron_ratio": 0.5}, "dp_gap"),
    "neuron_importance": ({"lam": 3.0, "mode": "dp", "neuron_ratio": 0.5}, "dp_gap"),
    # the adversary's lr raised from 1e-4: at 1e-4 it cannot follow the model, and in 2 of 10
    # seeds the model runs away from it and ΔDP doubles (0.41, 0.49 against vanilla's 0.21)
    "adversarial": ({"lam": 0.5, "mode": "dp", "adv_lr": 0.03}, "dp_gap"),
    # bilevel (paper order); the follower's lr is raised from the paper's 1e-5 for a 6-epoch
    # run; tests/papers/test_fairbinn.py runs these checks for every mode (reg, bilevel, adv, hybrid)
    "fairbinn": ({"mode": "bilevel", "fairness_learning_rate": 3e-4}, "dp_gap"),
    # issue 4: pre-/post-processing baselines and FairNeuron, at their seed settings
    "oversample": ({}, "eopp_gap"),
    "reweighing": ({}, "dp_gap"),
    "fairsmote": ({}, "eopp_gap"),
    "resampling": ({}, "dp_gap"),
    "roc": ({"theta": 0.6}, "dp_gap"),
    # FairNeuron leaves every gap where vanilla has it (ΔDP lower by 0.004 ± 0.010 over six
    # seeds, t = 0.95; also with p = 0.5), as docs/methods/baselines.md measures on full Adult.
    # tests/methods/test_baselines.py checks its path analysis and selective dropout instead.
    "fairneuron": None,
    # issue 6: IF-fair training targets individual fairness (the output gap to the worst
    # d_fair neighbour), not a group gap: on this sample it leaves dp_gap where vanilla has
    # it (0.219 vs 0.224, within noise). tests/certify/test_certify.py checks that it reduces the
    # empirical IF δ against vanilla instead.
    "iftrain": None,
    # issue 8: fairness reprogramming (trigger in front of the frozen vanilla model) and
    # AdvPost (adversarial fine-tuning of the whole model); image/text: tests/papers/test_reprogram.py
    "reprogram": ({"lam": 2.0, "mode": "dp", "tune_lr": 0.01}, "dp_gap"),
    "adv_post": ({"lam": 1.0, "mode": "dp"}, "dp_gap"),
    # issue 9: MinDiff on positives (FNR parity, the paper's slice); tests/papers/test_mindiff.py
    # checks the MMD against TF Model Remediation and the regularizers with every method
    "mindiff": ({"mindiff_weight": 1.0, "slice": "positive"}, "fnr_gap"),
}
METHODS = [cls.name for cls in list_methods()]
QUICK = TrainConfig(epochs=3, batch_size=256, progress=False)


@pytest.fixture(scope="module")
def sample():
    """3,000 training, 1,500 validation and 3,000 test rows of Adult (clean recipe, seed 0)."""
    return adult_sample(seed=0, sizes=(3000, 1500, 3000))


def test_every_method_declares_its_fair_setting():
    missing = [m for m in METHODS if m not in FAIR_SETTINGS]
    assert not missing, f"add {missing} to FAIR_SETTINGS in {__file__}"


@pytest.mark.parametrize("name", METHODS)
def test_fits_predicts_is_deterministic_and_round_trips(name, sample, tmp_path):
    check_method(name, FAIR_SETTINGS.get(name), data=sample, config=QUICK, seed=7, tmp_dir=tmp_path)


@pytest.mark.parametrize("name", [c.name for c in list_methods() if c.repairs()])
def test_repair_returns_a_new_model_and_leaves_its_input(name, sample):
    """Repairing a trained vanilla model (what `fairnn repair` does) changes nothing in it."""
    train, val, test = sample
    base = make_method("vanilla").fit(train, val, config=QUICK, seed=0)
    params = (FAIR_SETTINGS.get(name) or ({}, ""))[0]
    check_repair(make_method(name, **params), base, train, val, test, config=QUICK)


GAP_CONFIG = TrainConfig(epochs=6, batch_size=256, progress=False)
# Seeds the gap check pairs with vanilla: enough that the expected t is about 6 for the effect
# measured over 10-16 seeds (mean paired difference / its sd: gapreg, runner,
# neuron_importance, reweighing, roc > 8; mindiff 3.6; reprogram 3.3; adversarial 2.5;
# resampling 2.3; adv_post 2.0; fairbinn 1.8; oversample 1.4; fairsmote 1.3).
GAP_SEEDS = {
    "adversarial": 6,
    "resampling": 12,
    "adv_post": 10,
    "fairbinn": 12,
    "oversample": 16,
    "fairsmote": 16,
}


@pytest.fixture(scope="module")
def vanilla_metrics(sample):
    """Vanilla's test metrics by seed, trained once for every method's gap check."""
    train, val, test = sample
    cache: dict[int, dict] = {}

    def metrics(seed: int) -> dict:
        if seed not in cache:
            fitted = make_method("vanilla").fit(train, val, config=GAP_CONFIG, seed=seed)
            cache[seed] = fitted.evaluate(test)
        return cache[seed]

    return metrics


@pytest.mark.parametrize("name", [m for m in METHODS if FAIR_SETTINGS.get(m)])
def test_reduces_its_target_gap_over_vanilla(name, sample, vanilla_metrics):
    """Over seeds (GAP_SEEDS, default 5), paired with vanilla on the same seed: the mean gap
    reduction is over 3 standard errors (tests/effects.py) and over a tenth of vanilla's gap
    (measured: from 16 % for resampling to 90 % for gapreg). Measured under MKL_CBWR=AUTO,
    COMPATIBLE and AVX2 (2 threads) and ATEN_CPU_CAPABILITY=default: t from 4.9 (fairsmote)
    and 5.3 (adv_post) to 43 (roc). A single seed passed for fairneuron, which has no effect
    here (t = 0.95 over six seeds), and for adversarial at adv_lr 1e-4 (t = 0.3 over ten)."""
    train, val, test = sample
    params, gap = FAIR_SETTINGS[name]
    seeds = range(GAP_SEEDS.get(name, 5))
    fair = [
        make_method(name, **params).fit(train, val, config=GAP_CONFIG, seed=s).evaluate(test)[gap]
        for s in seeds
    ]
    base = [vanilla_metrics(s)[gap] for s in seeds]
    paired_effect(fair, base, t_min=3.0)
    # and by a tenth of vanilla's gap at least: without its adversary (lam = 0) adv_post's
    # fine-tuning alone lowers ΔDP by 4 % (t = 3.2); resampling, the weakest here, by 16 %
    assert sum(fair) < 0.9 * sum(base), f"{name}: {gap} {sum(fair) / sum(base):.3f} of vanilla's"
