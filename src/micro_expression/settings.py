"""Project settings (Kedro defaults unless stated)."""

from micro_expression.hooks import (
    FoldRegistrationHooks,
    LineageHooks,
    ParameterCheckHooks,
    ProjectLockHooks,
)
from micro_expression.runner import DaskSettingsHooks
from micro_expression.tracking import FoldTrackingHooks, SystemMetricsHooks

# kedro-mlflow registers its own hooks through its entry point. The parameter check and the
# project lock run before them, in that order (pluggy calls ``tryfirst`` hooks last registered
# first), and the lock is released after them; the others run inside the MLflow run it opens:
# lineage tags and digests, nested runs per fold. The system metrics switch runs before them
# too: MLflow starts its monitor when the run opens. The fold pipelines are registered from the
# run's configuration as soon as its context exists.
HOOKS = (FoldRegistrationHooks(), SystemMetricsHooks(), ProjectLockHooks(), ParameterCheckHooks(),
         LineageHooks(), FoldTrackingHooks(), DaskSettingsHooks())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/local, conf/reference) overrides single keys of a parameter block
    # instead of replacing the whole block.
    "merge_strategy": {"parameters": "soft"},
    # conf/<env>/dask.yml: the cluster of `kedro run --runner micro_expression.runner.DaskRunner`
    "config_patterns": {"dask": ["dask*", "dask*/**"]},
}
