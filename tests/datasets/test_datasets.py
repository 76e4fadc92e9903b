"""Tests of fairnn.datasets: registry, files, preprocessing, splits, recipes, errors."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fairnn.datasets import (
    DataFile,
    Preprocessor,
    Splits,
    dataset_info,
    from_frame,
    get_spec,
    list_datasets,
    list_recipes,
    load_dataset,
    load_raw,
    preprocessor_from_dict,
    read_table,
    stratified_indices,
)
from fairnn.datasets import files as dfiles
from fairnn.errors import (
    ChecksumError,
    ColumnError,
    ConfigError,
    DataNotFoundError,
    DatasetError,
    InvalidValueError,
)

# rows after each parser's documented filters, and positives (SOURCES.md / the sources)
EXPECTED = {
    "adult": (45222, None),
    "bank": (4119, 451),
    "boston": (506, None),
    "compas": (6172, 2809),
    "credit": (30000, 6636),
    "german": (1000, 700),
    "lsac": (21791, 19360),
}
BUNDLED = ("adult", "german")
# registered datasets whose file the user supplies (no mirror copy, no recorded hash or rows)
USER_SUPPLIED = ("health",)


@pytest.fixture(scope="module")
def adult() -> Splits:
    return load_dataset("adult", seed=0)


@pytest.fixture(scope="module")
def adult_runner() -> Splits:
    return load_dataset("adult", recipe="runner", seed=0)


def _all_rows(splits: Splits) -> int:
    return sum(len(d) for _, d in splits)


def _fresh_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, data_dir: Path | None) -> Path:
    cache = tmp_path / "cache"
    if data_dir is None:
        monkeypatch.delenv("FAIRNN_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("FAIRNN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FAIRNN_CACHE_DIR", str(cache))
    return cache


# ---------------------------------------------------------------------------
# registry and loading


def test_registry_lists_the_datasets() -> None:
    tabular = [n for n in list_datasets() if get_spec(n).loader is None]  # images/text: issue 7
    assert tabular == sorted([*EXPECTED, *USER_SUPPLIED])
    assert {"clean", "runner", "runner-fixed"} <= set(list_recipes())
    for name in USER_SUPPLIED:
        assert all(f.sha256 is None for f in get_spec(name).files)
    for name in EXPECTED:
        spec = get_spec(name)
        assert spec.rows == EXPECTED[name][0]
        assert all(len(f.sha256) == 64 for f in spec.files)
        assert set(spec.sensitive) <= set(spec.sensitive_options)


@pytest.mark.requires_mirror
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_registered_dataset_loads(name: str) -> None:
    rows, positives = EXPECTED[name]
    sp = load_dataset(name, seed=1)
    spec = get_spec(name)
    assert _all_rows(sp) == rows == sp.info["rows"]["total"]
    assert sp.info["dataset"] == name and sp.info["recipe"] == "clean" and sp.info["seed"] == 1
    assert all(f["verified"] and f["sha256"] == f["expected_sha256"] for f in sp.info["files"])
    assert [f["file"] for f in sp.info["files"]] == [f.path for f in spec.files]
    for split, d in sp:
        assert d.name == f"{name}/{split}"
        assert (
            d.X.dtype == torch.float32 and d.y.dtype == torch.float32 and d.s.dtype == torch.int64
        )
        assert torch.isfinite(d.X).all()
        assert int(d.s.min()) >= 0 and int(d.s.max()) < d.groups.n_groups
        assert d.task == spec.task and d.label == spec.label
        assert not any(f.source in spec.sensitive for f in d.features)  # excluded by default
    if spec.task == "binary":
        assert sum(int(d.y.sum()) for _, d in sp) == (
            positives or sum(int(d.y.sum()) for _, d in sp)
        )
        assert set(torch.cat([d.y for _, d in sp]).unique().tolist()) == {0.0, 1.0}
    assert sp.groups.attributes == spec.sensitive


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_datasets_load_without_data_dir(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = _fresh_env(monkeypatch, tmp_path, data_dir=None)
    sp = load_dataset(name)
    assert _all_rows(sp) == EXPECTED[name][0]
    assert {f["origin"] for f in sp.info["files"]} == {"bundled"}
    assert all(f["verified"] for f in sp.info["files"])
    # decompressed into the cache, so the next load finds it there
    assert all((cache / f.path).is_file() for f in get_spec(name).files)
    again = load_dataset(name)
    assert {f["origin"] for f in again.info["files"]} == {"cache"}
    assert torch.equal(again.train.X, sp.train.X)


def test_bundled_copy_in_memory_when_cache_is_not_writable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.delenv("FAIRNN_DATA_DIR", raising=False)
    monkeypatch.setenv("FAIRNN_CACHE_DIR", str(blocker / "cache"))
    df = load_raw("german")
    assert len(df) == 1000


@pytest.mark.requires_mirror
def test_bundled_gz_files_are_reproducible(mirror_dir: Path, tmp_path: Path) -> None:
    bundled = Path(dfiles.__file__).parent / "bundled"
    assert sorted(p.name for p in bundled.glob("*.gz")) == [
        "adult.data.gz",
        "adult.test.gz",
        "german.data.gz",
    ]
    for gz in bundled.glob("*.gz"):
        dataset = "german" if gz.name.startswith("german") else "adult"
        src = mirror_dir / dataset / gz.name[:-3]
        out = tmp_path / gz.name
        dfiles.make_bundled(src, out)
        assert out.read_bytes() == gz.read_bytes()
        assert gzip.decompress(gz.read_bytes()) == src.read_bytes()
    assert (bundled / "ATTRIBUTION.md").is_file()


def test_adult_raw_frame() -> None:
    df = load_raw("adult")
    assert len(df) == 45222
    assert set(df["income"].unique()) == {"<=50K", ">50K"}
    assert not df.isna().any().any()
    assert (df["uci_split"] == "train").sum() == 30162  # rows of adult.data without '?'


# ---------------------------------------------------------------------------
# splits and preprocessing


def test_splits_are_disjoint_and_stratified(adult: Splits) -> None:
    frame = load_raw("adult")
    pre = adult.preprocessor
    y = pre.encode_label(frame)
    s = pre.encode_groups(frame)
    tr, va, te = stratified_indices(s * 2 + y.astype(np.int64), seed=0)
    assert (
        len(np.intersect1d(tr, va))
        == len(np.intersect1d(tr, te))
        == len(np.intersect1d(va, te))
        == 0
    )
    assert len(tr) + len(va) + len(te) == len(frame)
    # the loaded splits are exactly those rows
    for idx, d in ((tr, adult.train), (va, adult.val), (te, adult.test)):
        assert torch.equal(pre.transform(frame.iloc[idx]).X, d.X)
    # 60/20/20
    n = len(frame)
    assert abs(len(adult.train) / n - 0.6) < 0.005 and abs(len(adult.test) / n - 0.2) < 0.005
    # (group, label) proportions within a couple of points of the whole data
    whole = pd.crosstab(s, y, normalize=True)
    for _, d in adult:
        part = pd.crosstab(d.s.numpy(), d.y.numpy(), normalize=True)
        assert np.abs(part.to_numpy() - whole.to_numpy()).max() < 0.02


@pytest.mark.requires_mirror
def test_regression_split_is_stratified_on_group() -> None:
    sp = load_dataset("boston")
    assert sp.train.task == "regression" and sp.info["split"] == "stratified on group"
    raw = load_raw("boston")
    assert sorted(torch.cat([d.y for _, d in sp]).tolist()) == sorted(
        raw["MEDV"].astype("float32").tolist()
    )
    shares = [float((d.s == 0).float().mean()) for _, d in sp]
    assert max(shares) - min(shares) < 0.03


def test_preprocessing_uses_train_statistics_only(adult: Splits) -> None:
    frame = load_raw("adult")
    cont = adult.features.indices(kind="integer") + adult.features.indices(kind="continuous")
    assert len(cont) == 5
    X = adult.train.X.double()
    assert torch.allclose(X[:, cont].mean(0), torch.zeros(5, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(
        X[:, cont].std(0, unbiased=False), torch.ones(5, dtype=torch.float64), atol=1e-4
    )
    for d in (adult.val, adult.test):
        m = d.X[:, cont].double().mean(0)
        assert m.abs().max() > 1e-4  # not re-standardised on their own rows
    # offsets/scales are the train rows' mean/std of the raw column
    pre = adult.preprocessor
    train_rows = frame.iloc[np.sort(np.asarray(_train_index(adult, frame)))]
    for i in cont:
        f = adult.features[i]
        assert f.offset == pytest.approx(train_rows[f.source].mean(), rel=1e-12)
        assert f.scale == pytest.approx(train_rows[f.source].std(ddof=0), rel=1e-12)
    assert pre.stats_fitted


def _train_index(sp: Splits, frame: pd.DataFrame) -> np.ndarray:
    pre = sp.preprocessor
    y = pre.encode_label(frame)
    s = pre.encode_groups(frame)
    return stratified_indices(s * 2 + y.astype(np.int64), seed=sp.info["seed"])[0]


def test_integer_and_onehot_metadata(adult: Splits) -> None:
    feats = adult.features
    kinds = {f.source: f.kind for f in feats}
    assert kinds["age"] == "integer" and kinds["capital-gain"] == "integer"
    assert kinds["workclass"] == "onehot" and kinds["race"] == "onehot"
    assert "sex" not in kinds and "fnlwgt" not in kinds and "education" not in kinds
    blocks = feats.blocks()
    assert len(blocks["race"]) == 5 and len(blocks["native-country"]) == 41
    # race is another sensitive attribute: kept as input, flagged
    assert all(feats[i].sensitive for i in blocks["race"])
    assert not any(feats[i].sensitive for i in blocks["workclass"])
    assert adult.train.n_features == 85


@pytest.mark.parametrize("recipe", ["clean", "runner"])
def test_onehot_blocks_have_exactly_one_one(
    recipe: str, adult: Splits, adult_runner: Splits
) -> None:
    sp = adult if recipe == "clean" else adult_runner
    blocks = sp.features.blocks()
    assert blocks
    for _, d in sp:
        for cols in blocks.values():
            block = d.X[:, cols]
            assert torch.all((block == 0) | (block == 1))
            assert torch.all(block.sum(1) == 1)


@pytest.mark.requires_mirror
@pytest.mark.parametrize("name", ["adult", "credit", "compas", "boston", "lsac"])
def test_feature_bounds_contain_train_data(name: str) -> None:
    sp = load_dataset(name)
    lo = torch.tensor(sp.features.lower, dtype=torch.float32)
    hi = torch.tensor(sp.features.upper, dtype=torch.float32)
    X = sp.train.X
    assert bool(((X - lo) >= 0).all()) and bool(((hi - X) >= 0).all())
    # train min/max are attained for continuous columns (bounds are tight, not widened)
    for i in sp.features.indices(kind="continuous") + sp.features.indices(kind="integer"):
        assert float(X[:, i].min()) == sp.features[i].lower
        assert float(X[:, i].max()) == sp.features[i].upper


def test_preprocessor_round_trip_gives_identical_tensors(
    adult: Splits, adult_runner: Splits
) -> None:
    frame = load_raw("adult")
    for sp in (adult, adult_runner):
        d = sp.preprocessor.to_dict()
        restored = preprocessor_from_dict(json.loads(json.dumps(d)))
        assert type(restored) is type(sp.preprocessor)
        a = sp.preprocessor.transform(frame)
        b = restored.transform(frame)
        assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y) and torch.equal(a.s, b.s)
        assert a.features == b.features and a.groups == b.groups
        assert restored.to_dict() == d


def test_transform_features_needs_no_label_or_sensitive(adult: Splits) -> None:
    frame = load_raw("adult").head(50)
    X = adult.preprocessor.transform_features(frame.drop(columns=["income", "sex"]))
    assert X.shape == (50, adult.train.n_features)


# ---------------------------------------------------------------------------
# runner recipe


def test_runner_adult_shape_groups_and_quirk(adult_runner: Splits) -> None:
    sp = adult_runner
    assert _all_rows(sp) == 45222
    assert sp.train.n_features == 120 and len(sp.features) == 120
    assert (len(sp.train), len(sp.val), len(sp.test)) == (27132, 9045, 9045)
    assert sp.groups.attributes == ("sex",) and sp.groups.labels == ("Female", "Male")
    assert sp.info["faithful"] is True and sp.info["recipe"] == "runner"
    names = sp.features.names
    assert not any("sex" in n for n in names)
    assert "race_ White=1" in names and not any(n.startswith("race_ Black") for n in names)
    assert not any(
        "native-country" in n or "fnlwgt" in n or n.startswith("education=") for n in names
    )
    blocks = sp.features.blocks()
    assert sum(len(v) == 10 for v in blocks.values()) == 5
    assert sum(len(v) == 2 for v in blocks.values()) == 35
    # the quirk: age's edges reused for every continuous column
    edges = sp.preprocessor.edges
    assert all(e == edges[0] for e in edges)
    share = sp.train.X[:, blocks["capital-gain"]].mean(0)
    assert float(share.max()) > 0.85  # capital-gain almost all in one bin
    # Male = 1
    frame = load_raw("adult")
    assert torch.equal(
        sp.preprocessor.transform(frame).s,
        torch.from_numpy((frame["sex"] == "Male").to_numpy().astype(np.int64)),
    )


def test_runner_fixed_uses_per_feature_edges() -> None:
    sp = load_dataset("adult", recipe="runner-fixed")
    assert sp.info["faithful"] is False and sp.train.n_features == 120
    edges = sp.preprocessor.edges
    assert edges[1] != edges[0] and edges[4] != edges[0]
    hours = sp.train.X[:, sp.features.blocks()["hours-per-week"]].mean(0)
    assert float(hours.max()) < 0.5  # spread over several bins with its own deciles


def test_info_is_json_serialisable(adult: Splits, adult_runner: Splits) -> None:
    own = from_frame(_toy(), label="approved", sensitive="gender", source="toy.csv")
    for sp in (adult, adult_runner, own):
        back = json.loads(json.dumps(sp.info))
        assert back["rows"]["total"] == _all_rows(sp)
        assert {"dataset", "recipe", "seed", "task", "label", "sensitive", "groups"} <= set(back)
    assert own.info["source"] == "toy.csv" and adult.info["source"] == "adult"
    assert adult.info["files"][0]["file"] == "adult/adult.data"


@pytest.mark.requires_mirror
def test_explicit_path_argument(
    mirror_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fresh_env(monkeypatch, tmp_path, data_dir=tmp_path / "empty")
    single = tmp_path / "my-german.txt"
    shutil.copy(mirror_dir / "german" / "german.data", single)
    sp = load_dataset("german", path=single)
    assert sp.info["files"][0]["origin"] == "path" and sp.info["files"][0]["path"] == str(single)
    raw = load_raw("compas", path=mirror_dir / "compas")  # a directory holding the file
    assert len(raw) == 6172
    adult = load_raw("adult", path=mirror_dir / "adult" / "adult.data")  # sibling adult.test
    assert len(adult) == 45222


def _runner_literal(data_dir: Path, seed: int) -> tuple[np.ndarray, ...]:
    """Ace0001/RUNNER dataset.py, restated with numpy in place of aif360 (split: seeded permutation)."""
    from sklearn.preprocessing import StandardScaler

    h = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-stataus", "occupation",
         "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
         "native-country", "y"]  # fmt: skip
    train = pd.read_csv(data_dir / "adult" / "adult.data", header=None)
    test = pd.read_csv(data_dir / "adult" / "adult.test", header=None, skiprows=1)
    df = pd.concat([train, test], ignore_index=True)
    df.columns = h
    df["y"] = df["y"].map({" <=50K.": 0, " >50K.": 1, " >50K": 1, " <=50K": 0})
    df = df.drop(df[(df[h[-2]] == " ?") | (df[h[6]] == " ?")].index)
    df = pd.get_dummies(df, columns=[h[1], h[5], h[6], h[7], h[9], h[8], "native-country"])
    drop = [c for c in df.columns if c.startswith("native-country_")]
    drop += [c for c in df.columns if c.startswith("race_") and c != "race_ White"]
    df = df.drop(columns=[*drop, "sex_ Female", "fnlwgt", "education"])
    feats = [c for c in df.columns if c != "y"]
    assert feats[39] == "sex_ Male" and feats[40] == "race_ White"
    X = df[feats].to_numpy(dtype=np.float64)
    y = df["y"].to_numpy(dtype=np.float64)
    order = np.random.RandomState(seed).permutation(len(X))
    k = int(0.8 * len(X))
    Xtr, Xte, ytr = X[order[:k]], X[order[k:]], y[order[:k]]
    ss = StandardScaler().fit(Xtr[:, :5])
    Xtr[:, :5], Xte[:, :5] = ss.transform(Xtr[:, :5]), ss.transform(Xte[:, :5])
    Xva, Xtr, ytr = Xtr[: len(Xte)], Xtr[len(Xte) :], ytr[len(Xte) :]

    def quantize(Z: np.ndarray, edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for i in range(5):
            if edges is None:
                edges = np.quantile(Z[:, i], np.arange(0.0, 1.0 + 1 / 10, 1 / 10), axis=0)
            out.append(np.eye(10)[np.clip(np.digitize(Z[:, i], edges), 1, 10) - 1])
        out += [np.eye(2)[Z[:, i].astype(int)] for i in range(5, Z.shape[1]) if i != 39]
        return np.concatenate(out, 1), edges

    Qtr, e = quantize(Xtr)
    return Qtr, ytr, Xtr[:, 39], quantize(Xva, e)[0], quantize(Xte, e)[0]


@pytest.mark.requires_mirror
def test_runner_matches_the_original_code(mirror_dir: Path, adult_runner: Splits) -> None:
    Qtr, ytr, atr, Qva, Qte = _runner_literal(mirror_dir, seed=0)
    assert np.array_equal(adult_runner.train.X.numpy(), Qtr)
    assert np.array_equal(adult_runner.train.y.numpy(), ytr)
    assert np.array_equal(adult_runner.train.s.numpy(), atr)
    assert np.array_equal(adult_runner.val.X.numpy(), Qva)
    assert np.array_equal(adult_runner.test.X.numpy(), Qte)


@pytest.mark.requires_mirror
def test_runner_on_other_datasets() -> None:
    compas = load_dataset("compas", recipe="runner")
    assert _all_rows(compas) == 5278 and compas.groups.labels == ("African-American", "Caucasian")
    german = load_dataset("german", recipe="runner")
    assert german.groups.labels == ("<=25", ">25") and german.info["positive_label"] == "bad"
    assert sum(int(d.y.sum()) for _, d in german) == 300
    assert "age" not in {f.source for f in german.features}
    lsac = load_dataset("lsac", recipe="runner")
    assert lsac.groups.labels == ("Non-White", "White")
    assert "race" not in {f.source for f in lsac.features}
    for sp in (compas, german, lsac):
        assert sp.info["faithful"] is False and sp.info["recipe"] == "runner"
    with pytest.raises(DatasetError, match="runner recipe is defined for"):
        load_dataset("bank", recipe="runner")
    with pytest.raises(ConfigError, match="sex"):
        load_dataset("adult", recipe="runner", sensitive="race")


# ---------------------------------------------------------------------------
# dataset-specific choices


@pytest.mark.requires_mirror
def test_dataset_choices() -> None:
    lsac = load_dataset("lsac")
    assert "ZFYA" not in lsac.features.names and "sander_index" not in lsac.features.names
    assert "ZFYA" in load_dataset("lsac", extra_features=["ZFYA"]).features.names
    bank = load_dataset("bank")
    srcs = {f.source for f in bank.features}
    assert "duration" not in srcs and "age" not in srcs  # leak; source of age_group
    assert bank.groups.labels == ("<25", ">=25")
    boston = load_dataset("boston")
    assert "B" not in boston.features.names
    with_b = load_dataset("boston", extra_features=["B"])
    assert with_b.features[with_b.features.names.index("B")].sensitive
    incl = load_dataset("boston", include_sensitive=True)
    assert {"B", "black_share"} <= {f.source for f in incl.features}
    compas = load_dataset("compas")
    assert not {"decile_score", "score_text", "is_recid"} & {f.source for f in compas.features}
    assert len(compas.groups.labels) == 6
    credit = load_dataset("credit")
    assert credit.groups.labels == ("female", "male")
    german = load_dataset("german")
    assert "personal_status_sex" not in {f.source for f in german.features}
    g_age = load_dataset("german", sensitive="age_group")
    assert "age" not in {f.source for f in g_age.features}
    assert any(f.source == "sex" and f.sensitive for f in g_age.features)


def test_intersection_groups(adult: Splits) -> None:
    sp = load_dataset("adult", sensitive=["sex", "race"])
    labels = sp.groups.labels
    assert len(labels) == 10 and labels[0] == "Female & Amer-Indian-Eskimo"
    assert list(labels) == sorted(labels)
    assert sp.groups.attributes == ("sex", "race")
    assert not {"sex", "race"} & {f.source for f in sp.features}


def test_include_sensitive_flags_columns() -> None:
    sp = load_dataset("adult", include_sensitive=True)
    sex = [f for f in sp.features if f.source == "sex"]
    assert len(sex) == 1 and sex[0].kind == "binary" and sex[0].sensitive
    assert sex[0].category == "Male"


def test_determinism_by_seed() -> None:
    a = load_dataset("german", seed=7)
    b = load_dataset("german", seed=7)
    c = load_dataset("german", seed=8)
    for (_, x), (_, y) in zip(a, b, strict=True):
        assert torch.equal(x.X, y.X) and torch.equal(x.y, y.y) and torch.equal(x.s, y.s)
    assert not torch.equal(a.train.X, c.train.X)


def test_dataset_info(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    info = dataset_info("adult")
    assert info["rows"] == 45222 and info["label"] == "income"
    assert info["sensitive"] == ["sex"] and "race" in info["sensitive_options"]
    assert info["bundled"] is True and info["present"] is True
    assert "archive.ics.uci.edu" in info["source_url"] and "CC BY 4.0" in info["license"]
    _fresh_env(monkeypatch, tmp_path, data_dir=tmp_path / "empty")
    compas = dataset_info("compas")
    assert compas["present"] is False and compas["local"][0]["locations"] == []
    assert not (tmp_path / "cache").exists()  # nothing downloaded or decompressed


# ---------------------------------------------------------------------------
# bring your own data


def _toy(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, n),  # float -> continuous
            "age": rng.integers(18, 80, n),  # many whole numbers -> integer
            "kids": rng.integers(0, 4, n),  # few whole numbers -> categorical
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),  # str -> categorical
            "member": rng.random(n) < 0.5,  # bool -> binary
            "plan": rng.choice(["basic", "gold"], n),  # two strings -> binary
            "code": rng.integers(1, 5, n),  # overridden to continuous
            "gender": rng.choice(["f", "m"], n),
            "approved": rng.choice(["no", "yes"], n),
        }
    )


def test_from_frame_detection_and_overrides() -> None:
    df = _toy()
    sp = from_frame(df, label="approved", sensitive="gender", continuous=["code"], seed=3)
    kinds = {f.source: f.kind for f in sp.features}
    assert kinds == {
        "income": "continuous",
        "age": "integer",
        "kids": "onehot",
        "city": "onehot",
        "member": "binary",
        "plan": "binary",
        "code": "integer",
    }
    names = sp.features.names
    assert "member" in names and "plan=gold" in names and "city=Lima" in names
    assert sp.groups.labels == ("f", "m") and sp.info["positive_label"] == "yes"
    assert _all_rows(sp) == len(df) and sp.train.name == "frame/train"
    # categorical override on a float-free int column, and sensitive kept in X
    sp2 = from_frame(
        df, label="approved", sensitive="gender", categorical=["age"], include_sensitive=True
    )
    assert sum(f.source == "age" for f in sp2.features) == df["age"].nunique()
    assert [f.name for f in sp2.features if f.sensitive] == ["gender=m"]
    # round trip of a from_frame preprocessor (bool, str and number categories)
    d = json.loads(json.dumps(sp.preprocessor.to_dict()))
    assert torch.equal(Preprocessor.from_dict(d).transform(df).X, sp.preprocessor.transform(df).X)


def test_from_frame_numeric_and_regression_labels() -> None:
    df = _toy()
    df["approved01"] = (df["approved"] == "yes").astype(int)
    sp = from_frame(df.drop(columns=["approved"]), label="approved01", sensitive="gender")
    assert sp.info["positive_label"] == 1 and sp.train.task == "binary"
    reg = from_frame(df, label="income", sensitive=["gender", "plan"])
    assert reg.train.task == "regression"
    assert reg.groups.labels == ("f & basic", "f & gold", "m & basic", "m & gold")
    assert torch.allclose(
        torch.sort(torch.cat([d.y for _, d in reg])).values,
        torch.sort(torch.tensor(df["income"].to_numpy(), dtype=torch.float32)).values,
    )


def test_unseen_category_at_transform_names_column_and_value() -> None:
    sp = from_frame(_toy(), label="approved", sensitive="gender")
    new = _toy(20, seed=5)
    new.loc[3, "city"] = "Quito"
    with pytest.raises(InvalidValueError, match=r"'city'.*'Quito'"):
        sp.preprocessor.transform(new)
    new2 = _toy(20, seed=5)
    new2.loc[0, "gender"] = "x"
    with pytest.raises(InvalidValueError, match=r"sensitive column 'gender'.*'x'"):
        sp.preprocessor.transform(new2)


# ---------------------------------------------------------------------------
# bad inputs


def test_unknown_dataset_suggests_close_match() -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset 'adlt'.*Did you mean 'adult'.*compas"):
        load_dataset("adlt")
    with pytest.raises(ConfigError, match=r"unknown recipe 'runer'.*Did you mean 'runner'"):
        load_dataset("german", recipe="runer")


def test_missing_label_column_lists_columns() -> None:
    with pytest.raises(
        ColumnError, match=r"label column\(s\) 'target' not found.*'income'.*'city'"
    ):
        from_frame(_toy(), label="target", sensitive="gender")


def test_missing_sensitive_column_lists_columns() -> None:
    with pytest.raises(ColumnError, match=r"sensitive column\(s\) 'race' not found.*'gender'"):
        from_frame(_toy(), label="approved", sensitive="race")
    with pytest.raises(
        ColumnError, match=r"sensitive column\(s\) \['religion'\].*Documented.*'sex'"
    ):
        load_dataset("german", sensitive="religion")


def test_sensitive_column_with_one_group() -> None:
    df = _toy()
    df["gender"] = "f"
    with pytest.raises(
        InvalidValueError, match=r"sensitive column 'gender' has a single group \('f'"
    ):
        from_frame(df, label="approved", sensitive="gender")


def test_nan_and_inf_in_features() -> None:
    df = _toy()
    df.loc[[1, 5, 9], "income"] = np.nan
    with pytest.raises(InvalidValueError, match=r"'income' has 3 missing \(NaN\).*dropna=True"):
        from_frame(df, label="approved", sensitive="gender")
    df2 = _toy()
    df2.loc[[2, 4], "income"] = np.inf
    with pytest.raises(InvalidValueError, match=r"'income' has 2 infinite.*impute"):
        from_frame(df2, label="approved", sensitive="gender")
    df3 = _toy()
    df3.loc[7, "city"] = None
    with pytest.raises(InvalidValueError, match=r"'city' has 1 missing"):
        from_frame(df3, label="approved", sensitive="gender")
    sp = from_frame(df, label="approved", sensitive="gender", dropna=True)
    assert sp.info["dropped_rows"] == 3 and _all_rows(sp) == len(df) - 3


def test_label_with_more_than_two_values() -> None:
    df = _toy()
    df["grade"] = np.random.default_rng(0).choice(["A", "B", "C"], len(df))
    with pytest.raises(
        InvalidValueError, match=r"'grade' has 3 distinct values \('A', 'B', 'C'\).*positive_label="
    ):
        from_frame(df, label="grade", sensitive="gender")
    sp = from_frame(df, label="grade", sensitive="gender", positive_label="A")
    assert sum(int(d.y.sum()) for _, d in sp) == int((df["grade"] == "A").sum())
    df["ok"] = np.random.default_rng(1).choice(["approved", "denied"], len(df))
    with pytest.raises(InvalidValueError, match=r"positive_label="):
        from_frame(df.drop(columns=["grade"]), label="ok", sensitive="gender")
    with pytest.raises(InvalidValueError, match=r"positive_label='maybe' is not a value"):
        from_frame(df, label="ok", sensitive="gender", positive_label="maybe")


def test_read_table_formats(tmp_path: Path) -> None:
    df = _toy(30)
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    df.to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    shutil.copy(tmp_path / "t.parquet", tmp_path / "noext_parquet")
    (tmp_path / "noext_csv").write_text((tmp_path / "t.csv").read_text().replace(",", ";"))
    for name in ("t.csv", "t.parquet", "t.tsv", "noext_parquet", "noext_csv"):
        got = read_table(tmp_path / name)
        assert list(got.columns) == list(df.columns) and len(got) == 30, name


def test_read_table_rejects_other_formats(tmp_path: Path) -> None:
    (tmp_path / "data.pkl").write_bytes(b"\x80\x04\x95 not read")
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04 zip")
    (tmp_path / "blob").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "data.json").write_text('{"a": 1, "b": 2}')
    for name in ("data.pkl", "data.xlsx", "blob", "data.json"):
        with pytest.raises(
            DatasetError, match=rf"cannot read .*{name}.*Supported formats: CSV.*parquet"
        ):
            read_table(tmp_path / name)
    with pytest.raises(DataNotFoundError, match="no such file"):
        read_table(tmp_path / "absent.csv")


@pytest.mark.requires_mirror
def test_checksum_mismatch(
    mirror_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "german").mkdir(parents=True)
    original = (mirror_dir / "german" / "german.data").read_bytes()
    first_row = original.split(b"\n", 1)[0] + b"\n"
    (data / "german" / "german.data").write_bytes(original + first_row)  # one extra row
    _fresh_env(monkeypatch, tmp_path, data_dir=data)
    actual = hashlib.sha256(original + first_row).hexdigest()
    expected = get_spec("german").files[0].sha256
    with pytest.raises(ChecksumError) as err:
        load_dataset("german")
    msg = str(err.value)
    assert "german/german.data" in msg and expected in msg and actual in msg
    assert "delete it" in msg and "verify=False" in msg
    sp = load_dataset("german", verify=False)
    assert _all_rows(sp) == 1001
    assert sp.info["files"][0]["verified"] is False


def test_missing_file_names_path_and_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fresh_env(monkeypatch, tmp_path, data_dir=tmp_path / "empty")
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("compas")
    msg = str(err.value)
    assert "$FAIRNN_DATA_DIR/compas/compas-scores-two-years.csv" in msg
    assert "raw.githubusercontent.com/propublica/compas-analysis" in msg
    assert "FAIRNN_OFFLINE=1" in msg
    with pytest.raises(DataNotFoundError, match=r"not found at the path you passed"):
        load_dataset("german", path=tmp_path / "nowhere.data")


def test_download_is_verified_and_atomic(
    mirror_dir: Path | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The download path, exercised offline through a file:// URL."""
    src = tmp_path / "src" / "toy.csv"
    src.parent.mkdir()
    src.write_bytes(b"a,b\n1,2\n")
    good = DataFile(
        path="toy/toy.csv", sha256=hashlib.sha256(src.read_bytes()).hexdigest(), url=src.as_uri()
    )
    cache = _fresh_env(monkeypatch, tmp_path, data_dir=None)
    monkeypatch.delenv("FAIRNN_OFFLINE")
    got = dfiles.locate_file(good)
    assert got.origin == "download" and got.path == cache / "toy" / "toy.csv" and got.verified
    assert got.path.read_bytes() == src.read_bytes()
    bad = DataFile(path="toy2/toy.csv", sha256="0" * 64, url=src.as_uri())
    with pytest.raises(ChecksumError, match="did not match; nothing was kept"):
        dfiles.locate_file(bad)
    assert list((cache / "toy2").iterdir()) == []
    monkeypatch.setenv("FAIRNN_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match="skipped because FAIRNN_OFFLINE=1"):
        dfiles.locate_file(DataFile(path="toy3/toy.csv", sha256="0" * 64, url=src.as_uri()))


def test_hash_cache_is_per_path_size_mtime(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    dfiles.clear_hash_cache()
    h1 = dfiles.sha256_file(p)
    assert h1 == hashlib.sha256(b"abc").hexdigest() and len(dfiles._VERIFIED) == 1
    assert dfiles.sha256_file(p) == h1 and len(dfiles._VERIFIED) == 1
    p.write_bytes(b"abcd")
    assert dfiles.sha256_file(p) == hashlib.sha256(b"abcd").hexdigest()


def test_bad_split_fractions() -> None:
    with pytest.raises(ConfigError, match="val_size \\+ test_size"):
        load_dataset("german", val_size=0.5, test_size=0.5)
    with pytest.raises(ConfigError, match="does not take option"):
        load_dataset("german", extra_feature=["age"])
