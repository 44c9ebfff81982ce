"""The model file MLflow logs with each registered version ("models from code"): loading the
model runs it, so what is served is this package's :class:`MicroExpressionModel`, never a
pickled object."""

from mlflow.models import set_model

from micro_expression.inference.package import MicroExpressionModel

set_model(MicroExpressionModel())
