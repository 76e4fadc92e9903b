"""A scikit-learn estimator around fairnn's methods: :class:`FairClassifier`.

``FairClassifier(method="gapreg", lam=1.0, mode="dp")`` trains with the method
registry and the one training loop (no training code of its own) and follows
scikit-learn's conventions: parameters are stored by ``__init__`` and validated at
``fit`` (by the method's own parameter model and :class:`~fairnn.training.TrainConfig`,
so the errors are the ones the CLI gives); fitted attributes end with ``_``;
``get_params``/``set_params``/``clone`` include the method's parameters, so
``GridSearchCV(FairClassifier(method="gapreg"), {"lam": [0.1, 1.0]})`` works.

The sensitive features are data, not a parameter: ``fit(X, y, sensitive_features=A)``
as in fairlearn. Inside a ``Pipeline`` or ``GridSearchCV`` route them with
scikit-learn's metadata routing (``sklearn.set_config(enable_metadata_routing=True)``
and ``FairClassifier(...).set_fit_request(sensitive_features=True)``). Only
``method="vanilla"`` trains without them.

``X`` is used as it is (numbers; a DataFrame's column names are kept in
``feature_names_in_``); scale it in the pipeline (``StandardScaler``), as for
scikit-learn's ``MLPClassifier``. Labels may be any two values (``classes_``).

Fairness-aware scorers for ``GridSearchCV``/``cross_validate`` (a gap as a loss, a
utility subject to a maximum gap) live in :mod:`fairnn.sklearn_scorers` and are
re-exported here: :func:`gap_scorer`, :func:`constrained_scorer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import sklearn.exceptions
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from fairnn.datasets.arrays import encode_sensitive, tabular_from_arrays
from fairnn.datasets.core import GroupInfo, TabularData
from fairnn.datasets.splits import stratified_indices
from fairnn.defaults import BASELINE_METHOD
from fairnn.errors import ConfigError, FairnnError, InvalidValueError
from fairnn.methods import FittedModel, get_method
from fairnn.sklearn_scorers import FairScorer, constrained_scorer, gap_scorer
from fairnn.training.config import TrainConfig
from fairnn.validation import check_number

__all__ = [
    "FairClassifier",
    "FairScorer",
    "InvalidTypeError",
    "NotFittedError",
    "constrained_scorer",
    "gap_scorer",
]


class NotFittedError(FairnnError, sklearn.exceptions.NotFittedError):
    """The estimator is used before ``fit``: a fairnn error and scikit-learn's ``NotFittedError``."""


class InvalidTypeError(FairnnError, TypeError):
    """An input of the wrong type (e.g. sparse or object ``X``): a fairnn error and a ``TypeError``."""


@contextmanager
def _input_errors(argument: str = "") -> Iterator[None]:
    """Re-raise scikit-learn's input-validation errors as fairnn errors of the same kinds.

    ``argument`` prefixes the message when scikit-learn's does not name it.
    """
    prefix = f"{argument}: " if argument else ""
    try:
        yield
    except FairnnError:
        raise
    except sklearn.exceptions.NotFittedError as e:
        raise NotFittedError(f"{prefix}{e}") from e
    except ValueError as e:
        raise InvalidValueError(f"{prefix}{e}") from e
    except TypeError as e:
        raise InvalidTypeError(f"{prefix}{e}") from e


class FairClassifier(ClassifierMixin, BaseEstimator):
    """A fairness method from fairnn's registry as a scikit-learn binary classifier.

    Parameters
    ----------
    method : str, default="vanilla"
        A registered method name or alias (``fairnn methods`` lists them).
    hidden : tuple of int, default=(200, 200)
        Hidden layer sizes of the MLP.
    activation : {"relu", "sigmoid", "tanh"}, default="relu"
    epochs, batch_size, lr :
        Training settings of the one training loop (:class:`fairnn.training.TrainConfig`).
    validation_fraction : float, default=0.0
        Share of the rows (stratified on label and group) held out for model
        selection (best validation loss) and for post-processing methods that search
        on validation data (``roc`` with ``search=True``). 0 trains on everything and
        keeps the last epoch.
    random_state : int, RandomState or None, default=None
        Seeds the split, the initialisation and the batches.
    device : str, default="cpu"
    train_options : dict or None, default=None
        Any other :class:`~fairnn.training.TrainConfig` setting (``sampler``,
        ``optimizer``, ``weight_decay``...).
    **params :
        The method's own parameters, named as in its paper (``lam=1.0``, ``mode="eo"``).

    Attributes
    ----------
    model_ : FittedModel
        The fitted fairnn model (save it with ``model_.save(DIR)``, export it with
        :func:`fairnn.export.export_model`).
    classes_ : ndarray of shape (2,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when ``X`` had string column names)
    groups_ : tuple of str
        The group labels seen at fit (``("all",)`` when fitted without groups).
    """

    def __init__(
        self,
        method: str = BASELINE_METHOD,
        *,
        hidden: tuple[int, ...] = (200, 200),
        activation: str = "relu",
        epochs: int = 20,
        batch_size: int = 256,
        lr: float = 1e-3,
        validation_fraction: float = 0.0,
        random_state: Any = None,
        device: str = "cpu",
        train_options: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        self.method = method
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device
        self.train_options = train_options
        self._method_params = dict(params)

    # -- parameters ----------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {**super().get_params(deep=deep), **self._method_params}

    def set_params(self, **params: Any) -> FairClassifier:
        own = set(self._get_param_names())
        for key in [k for k in params if k not in own]:
            self._method_params[key] = params.pop(key)
        return super().set_params(**params)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # -- fitting -------------------------------------------------------------
    def _train_config(self, has_val: bool) -> TrainConfig:
        values: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "device": self.device,
            "select": "loss" if has_val else "last",
            "progress": False,
        }
        values.update(self.train_options or {})
        return TrainConfig.make(**values)

    def _groups(self, sensitive_features: Any, X: np.ndarray) -> tuple[np.ndarray, GroupInfo]:
        n = X.shape[0]
        if sensitive_features is not None:
            return encode_sensitive(sensitive_features, n)
        if get_method(self.method).needs_groups:
            raise ConfigError(
                f"method {self.method!r} needs the groups: fit(X, y, sensitive_features=A). In a "
                "Pipeline or GridSearchCV, enable metadata routing (sklearn.set_config("
                "enable_metadata_routing=True)) and call .set_fit_request(sensitive_features=True)"
            )
        return np.zeros(n, dtype=np.int64), GroupInfo(("none",), ("all",))

    def fit(
        self, X: Any, y: Any, sensitive_features: Any = None, sample_weight: Any = None
    ) -> FairClassifier:
        """Train the method on ``X`` (numbers), ``y`` (two classes) and the groups."""
        cls = get_method(self.method)  # unknown method: a ConfigError naming close matches
        check_number(self.validation_fraction, "validation_fraction", ge=0, lt=1)
        with _input_errors():
            X_arr, y_arr = validate_data(self, X, y, dtype=np.float64, reset=True)
            check_classification_targets(y_arr)
            encoder = LabelEncoder().fit(y_arr)
        if len(encoder.classes_) < 2:
            raise InvalidValueError(
                "Classifier can't train when only one class is present: y holds only "
                f"{encoder.classes_.tolist()}"
            )
        y_type = type_of_target(y_arr, input_name="y")
        if y_type != "binary":
            raise InvalidValueError(
                "Only binary classification is supported (fairnn's methods and metrics are "
                f"binary). The type of the target is {y_type} ({len(encoder.classes_)} classes)."
            )
        y01 = encoder.transform(y_arr).astype(np.float64)
        weights = None
        if sample_weight is not None:
            with _input_errors("sample_weight"):
                weights = _check_sample_weight(sample_weight, X_arr, dtype=np.float64)
            if len(np.unique(y01[weights > 0])) < 2:
                raise InvalidValueError(
                    "only one class has a nonzero sample_weight; a classifier needs both classes"
                )
        s, groups = self._groups(sensitive_features, X_arr)
        names = (
            [str(c) for c in self.feature_names_in_] if hasattr(self, "feature_names_in_") else None
        )
        data = tabular_from_arrays(
            X_arr,
            y01,
            np.asarray(groups.labels, dtype=object)[s],
            feature_names=names,
            group_labels=groups.labels,
            sample_weight=weights,
            name="sklearn",
        )
        data.groups = groups
        with _input_errors("random_state"):
            rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train, val = self._split(data, seed)
        method = cls(**self._method_params)
        architecture = {"hidden": list(self.hidden), "activation": self.activation}
        self.model_ = method.fit(
            train,
            val,
            config=self._train_config(val is not None),
            seed=seed,
            architecture=architecture,
        )
        self.model_.dataset = {"source": "sklearn", "recipe": "arrays", "seed": seed}
        self.classes_ = encoder.classes_
        self.groups_ = groups.labels
        return self

    def _split(self, data: TabularData, seed: int) -> tuple[TabularData, TabularData | None]:
        frac = float(self.validation_fraction)
        if frac == 0.0:
            return data, None
        strata = data.s.numpy() * 2 + data.y.numpy().astype(np.int64)
        train_idx, _, val_idx = stratified_indices(strata, seed=seed, val_size=0.0, test_size=frac)
        if len(val_idx) == 0 or len(train_idx) == 0:
            raise InvalidValueError(
                f"validation_fraction={frac} leaves an empty split of {len(data)} rows"
            )
        return data.subset(train_idx), data.subset(val_idx)

    @classmethod
    def from_fitted(cls, model: FittedModel, classes: Any = (0, 1)) -> FairClassifier:
        """A fitted estimator around an existing :class:`FittedModel` (loaded, or a user's module).

        Useful where a prefit scikit-learn estimator is expected, e.g. fairlearn's
        ``ThresholdOptimizer(estimator=..., prefit=True)``.
        """
        est = cls(method=model.method)
        est.model_ = model
        est.classes_ = np.asarray(classes)
        est.n_features_in_ = model.features.dim
        est.groups_ = model.groups.labels
        return est

    # -- prediction ----------------------------------------------------------
    def _scores(self, X: Any) -> np.ndarray:
        with _input_errors():
            check_is_fitted(self)
            X_arr = validate_data(self, X, dtype=np.float32, reset=False)
        return self.model_.predict_proba(torch.from_numpy(np.ascontiguousarray(X_arr)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` probabilities of ``classes_[0]`` and ``classes_[1]``."""
        p = self._scores(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Class labels; ``sensitive_features`` is needed when a post-processing rule
        (reject option, group thresholds) decides by group."""
        p = self._scores(X)
        rule = self.model_.decision
        if rule is None:
            decided = (p > self.model_.threshold).astype(np.int64)
        else:
            s = None
            if sensitive_features is not None:
                s, _ = encode_sensitive(sensitive_features, len(p), self.groups_)
            elif rule.needs_groups:
                raise InvalidValueError(
                    f"method {self.model_.method!r} decides by group ({rule.kind} rule): "
                    "pass predict(X, sensitive_features=A) with the groups of the rows of X"
                )
            decided = rule.decide(p, s)
        return self.classes_[decided]

    def score(
        self, X: Any, y: Any, sample_weight: Any = None, sensitive_features: Any = None
    ) -> float:
        """Accuracy of :meth:`predict` (which reads ``sensitive_features`` when it needs them)."""
        predicted = self.predict(X, sensitive_features=sensitive_features)
        with _input_errors():
            return float(accuracy_score(y, predicted, sample_weight=sample_weight))
