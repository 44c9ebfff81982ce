"""Scoring fold predictions: per-clip predictions, recognition metrics, figures."""
