"""Project settings (Kedro defaults unless stated)."""

from micro_expression.hooks import LineageHooks
from micro_expression.tracking import FoldTrackingHooks

# kedro-mlflow registers its own hooks through its entry point; these run after its hooks,
# inside the MLflow run it opens: lineage tags and digests, nested runs per fold.
HOOKS = (LineageHooks(), FoldTrackingHooks())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/local, conf/reference) overrides single keys of a parameter block
    # instead of replacing the whole block.
    "merge_strategy": {"parameters": "soft"},
}
