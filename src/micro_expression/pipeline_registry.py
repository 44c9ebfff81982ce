"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline folder, plus two aggregates.

    ``__default__`` runs everything on the generated corpus; ``mer`` is everything except
    the corpus generator, for a real dataset (``kedro run --pipelines mer --params ...``).
    """
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    pipelines["mer"] = sum(
        (p for name, p in pipelines.items() if name not in ("__default__", "synthetic")),
        Pipeline([]),
    )
    return pipelines
