"""Project settings (Kedro defaults unless stated)."""

from micro_expression.hooks import LineageHooks

# kedro-mlflow registers its own hooks through its entry point; these run after them.
HOOKS = (LineageHooks(),)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
