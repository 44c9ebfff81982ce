"""``PackagedModelDataset``: a registered (or logged) model, loaded with its lineage."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from kedro.io import AbstractDataset, DatasetError

if TYPE_CHECKING:  # torch and the model code load with a model, not with the catalog
    from micro_expression.inference.classifier import ClipClassifier

logger = logging.getLogger(__name__)

SCORED_ALIAS = "scored"
"""The alias training moves to a version once it has its run's LOSO scores, as the last
step of registering it: a run killed before that leaves the alias where it was."""
SCORE_TAG_PREFIX = "loso_"
"""Version tags holding the LOSO scores of the version's recipe (``loso_uf1``, ...)."""
DEFAULT_MODEL_URI = f"models:/micro-expression-mol@{SCORED_ALIAS}"


@dataclass(frozen=True)
class LoadedModel:
    """A classifier and where it came from: the URI asked for, the registry name and version
    it resolved to (None for ``runs:/`` URIs), and the run that logged it."""

    classifier: ClipClassifier
    uri: str
    name: str | None
    version: str | None
    run_id: str | None


def resolve_model_uri(
    uri: str, client: Any = None
) -> tuple[str, str | None, str | None]:
    """(loadable URI, registry name, version) of ``uri``: ``models:/name`` and
    ``models:/name/latest`` become the newest version, aliases their version. ``client``
    (an ``MlflowClient``) reads the registry; default: the active tracking settings."""
    import mlflow

    if not uri.startswith("models:/"):
        return uri, None, None
    client = client or mlflow.MlflowClient()
    reference = uri.removeprefix("models:/")
    name, _, rest = reference.partition("/")
    if "@" in name:
        name, alias = name.split("@", 1)
        version = _aliased_version(client, name, alias)
    elif rest in ("", "latest"):
        versions = client.search_model_versions(f"name='{name}'")
        if not versions:
            raise DatasetError(
                f"no version of model {name!r} is registered in {mlflow.get_registry_uri()}: "
                "train one (`kedro run`) or set inference.model_uri"
            )
        version = str(max(int(v.version) for v in versions))
    else:
        version = rest
    return f"models:/{name}/{version}", name, str(version)


def _aliased_version(client: Any, name: str, alias: str) -> str:
    """The version ``alias`` points at; a missing alias says how one is made."""
    import mlflow

    try:
        return client.get_model_version_by_alias(name, alias).version
    except mlflow.exceptions.MlflowException as error:
        made_by = (
            " (training sets it once a run has its leave-one-subject-out scores): train with "
            f"`kedro run`, or name a version, e.g. inference.model_uri=models:/{name}/1"
            if alias == SCORED_ALIAS else ""
        )
        raise DatasetError(f"model {name!r} has no version with alias {alias!r}{made_by}: "
                           f"{error.message}") from error


def check_scored(requested: str, name: str, version: str, client: Any = None) -> None:
    """Refuse a registered version without LOSO scores (a run killed or cut short before
    scoring registered it) unless ``requested`` names its number; warn when it does."""
    import mlflow

    client = client or mlflow.MlflowClient()
    tags = client.get_model_version(name, version).tags
    if any(key.startswith(SCORE_TAG_PREFIX) for key in tags):
        return
    unscored = (f"version {version} of {name!r} has no leave-one-subject-out scores: its "
                "training run did not score it")
    if requested.removeprefix("models:/").partition("/")[2] == version:
        logger.warning("%s; loaded because %s names it", unscored, requested)
        return
    raise DatasetError(
        f"{requested} is {unscored}. Score with a vetted version ({DEFAULT_MODEL_URI}, the "
        f"default) or name this one to use it anyway: inference.model_uri=models:/{name}/{version}"
    )


class PackagedModelDataset(AbstractDataset[None, LoadedModel]):
    """Loads ``model_uri`` (``models:/name/version``, ``models:/name@alias``,
    ``models:/name[/latest]`` or ``runs:/<run id>/<path>``) from the active MLflow tracking
    and registry stores; default: the newest version with LOSO scores (:data:`SCORED_ALIAS`).
    A registered version without LOSO scores is loaded only by its number
    (:func:`check_scored`). Read-only: models are logged by training."""

    def __init__(self, *, model_uri: str | None = None, metadata: dict[str, Any] | None = None):
        self._model_uri = model_uri or DEFAULT_MODEL_URI
        self.metadata = metadata

    def load(self) -> LoadedModel:
        import mlflow

        uri, name, version = resolve_model_uri(self._model_uri)
        if name is not None and version is not None:
            check_scored(self._model_uri, name, version)
        path_before = list(sys.path)
        model = mlflow.pyfunc.load_model(uri)
        # The model's own copy of this package went first on sys.path, for where the project
        # is not installed. Here the project's is imported already and is what runs, and the
        # worker processes this one spawns (which inherit sys.path) must run the same code.
        sys.path[:] = path_before
        classifier = getattr(model.unwrap_python_model(), "classifier", None)
        if classifier is None:
            raise DatasetError(f"{uri} is not a micro-expression model package")
        return LoadedModel(classifier, uri, name, version, model.metadata.run_id)

    def save(self, data: None) -> NoReturn:
        raise DatasetError("PackagedModelDataset is read-only: training logs the models")

    def _describe(self) -> dict[str, Any]:
        return {"model_uri": self._model_uri}
