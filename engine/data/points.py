"""Two-dimensional toy problems from scikit-learn's generators, for decision boundaries and ROC thresholds.

Points are stored as (N, 1, 1, 2) arrays, so each coordinate is a channel: the usual per-channel
normalisation standardises each feature, and vector models (logistic, mlp) see 2 inputs.
"""

from __future__ import annotations

import numpy as np

from lab_workbench.engine.core.errors import DataError

DEFAULT_SAMPLES = 1000
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.1, "blobs": 1.0}  # blobs: the clusters' standard deviation
POINT_SETS = tuple(DEFAULT_NOISE)
POINTS_SHAPE = [2, 1, 1]
MAX_SPREAD = 1e15  # the points' standard deviation: squares of larger values leave float32's range  # the input_shape of a points data set


def make_points(name: str, samples: int | None = None, noise: float | None = None, seed: int = 0) -> dict:
    """RawData fields of `samples` points of moons (2 classes), circles (2) or blobs (3), seeded."""
    from sklearn import datasets as sk
    n = DEFAULT_SAMPLES if samples is None else int(samples)
    if n < 10:
        raise DataError(f"--samples: expected at least 10 points, got {n}")
    if n > 10_000_000:
        raise DataError(f"--samples: expected at most 10,000,000 points, got {n}")
    noise = DEFAULT_NOISE[name] if noise is None else float(noise)
    if name == "moons":
        x, y = sk.make_moons(n, noise=noise, random_state=seed)
    elif name == "circles":
        x, y = sk.make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "blobs":
        x, y = sk.make_blobs(n, centers=3, cluster_std=noise, random_state=seed)
    else:
        raise DataError(f"--dataset: {name!r} is not a points data set ({', '.join(POINT_SETS)})")
    classes = [str(i) for i in range(int(y.max()) + 1)]
    with np.errstate(over="ignore", invalid="ignore"):
        x = x.astype(np.float32)
        spread = float(np.std(x.astype(np.float64)))
    if not np.all(np.isfinite(x)) or not np.isfinite(spread) or spread > MAX_SPREAD:
        # standardising such points overflows float32: the loss is NaN at once, which is no divergence
        raise DataError(f"--noise {noise:g}: the {name} points spread beyond what float32 training handles; "
                        f"expected a noise up to about {MAX_SPREAD:g}")
    return dict(classes=classes, train_x=x.reshape(n, 1, 1, 2), train_y=y.astype(np.int64),
                origin=f"sklearn make_{name}(n={n}, noise={noise}, seed={seed})")


def is_points(input_shape) -> bool:
    """Whether a data set's input_shape is that of 2-D points."""
    return list(input_shape) == POINTS_SHAPE
