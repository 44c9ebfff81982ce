"""Scoring new recordings with a trained model: sources, windows, the classifier that
prepares frames as in training, and the MLflow package that serves it."""
