"""Scoring new recordings with a trained model: windows, the classifier that prepares frames
as in training, and the MLflow package that serves it (the recordings are read by
:mod:`micro_expression.readers.recordings`)."""
