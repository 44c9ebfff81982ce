"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline folder, plus two aggregates.

    ``__default__`` trains and evaluates on the generated corpus (every pipeline but
    ``inference``, which scores new recordings with a registered model); ``mer`` is the same
    without the corpus generator, for a real dataset (``kedro run --pipelines mer --params``).
    """
    pipelines = find_pipelines(raise_errors=True)
    training = {name: p for name, p in pipelines.items() if name != "inference"}
    pipelines["__default__"] = sum(training.values(), Pipeline([]))
    pipelines["mer"] = sum(
        (p for name, p in training.items() if name != "synthetic"), Pipeline([])
    )
    return pipelines
