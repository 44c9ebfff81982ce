"""Leave-one-subject-out training of MOL: folds, per-clip data, the training loop."""
