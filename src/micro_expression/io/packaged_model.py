"""``PackagedModelDataset``: a registered (or logged) model, loaded with its lineage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from kedro.io import AbstractDataset, DatasetError

if TYPE_CHECKING:  # torch and the model code load with a model, not with the catalog
    from micro_expression.inference.classifier import ClipClassifier

DEFAULT_MODEL_URI = "models:/micro-expression-mol/latest"


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
        version = client.get_model_version_by_alias(name, alias).version
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


class PackagedModelDataset(AbstractDataset[None, LoadedModel]):
    """Loads ``model_uri`` (``models:/name/version``, ``models:/name@alias``,
    ``models:/name[/latest]`` or ``runs:/<run id>/<path>``) from the active MLflow tracking
    and registry stores. Read-only: models are logged by training."""

    def __init__(self, *, model_uri: str | None = None, metadata: dict[str, Any] | None = None):
        self._model_uri = model_uri or DEFAULT_MODEL_URI
        self.metadata = metadata

    def load(self) -> LoadedModel:
        import mlflow

        uri, name, version = resolve_model_uri(self._model_uri)
        model = mlflow.pyfunc.load_model(uri)
        classifier = getattr(model.unwrap_python_model(), "classifier", None)
        if classifier is None:
            raise DatasetError(f"{uri} is not a micro-expression model package")
        return LoadedModel(classifier, uri, name, version, model.metadata.run_id)

    def save(self, data: None) -> NoReturn:
        raise DatasetError("PackagedModelDataset is read-only: training logs the models")

    def _describe(self) -> dict[str, Any]:
        return {"model_uri": self._model_uri}
