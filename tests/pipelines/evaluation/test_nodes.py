import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from micro_expression.pipelines.evaluation.nodes import (
    concatenate_predictions,
    confusion_matrices,
    metrics_for_mlflow,
    plot_confusion_matrices,
    plot_loss_curves,
    score_predictions,
    score_subjects,
)


def fold_predictions(fold, subject, dataset, labels, predicted):
    classes = ["negative", "positive", "surprise"]
    table = pd.DataFrame({
        "clip_id": [f"{subject}/{i}" for i in range(len(labels))], "subject": subject,
        "dataset": dataset, "label": labels, "predicted_label": predicted, "n_samples": 1,
        "flow_epe": 1.0, "landmark_nme": np.nan, "fold": fold,
    })
    for c in classes:
        table[f"prob_{c}"] = (table["predicted_label"] == c).astype(float)
    return table


def folds_table(*parts: pd.DataFrame) -> pd.DataFrame:
    """The loso_folds rows of the held-out clips in ``parts``."""
    table = pd.concat(parts, ignore_index=True)
    return table[["fold", "clip_id", "subject", "dataset"]].assign(role="test")


@pytest.fixture
def fold_parts():
    return (
        fold_predictions("fold_a_1", "a/1", "a", ["negative", "positive"], ["negative"] * 2),
        fold_predictions("fold_b_1", "b/1", "b", ["surprise"] * 2, ["surprise", "positive"]),
    )


@pytest.fixture
def predictions(fold_parts):
    return concatenate_predictions(folds_table(*fold_parts), *fold_parts)


def test_fold_matrices_sum_to_the_overall_one(predictions):
    table = confusion_matrices(predictions)
    assert set(table["fold"]) == {"fold_a_1", "fold_b_1", "all"}
    per_fold = table[table["fold"] != "all"].groupby(["label", "predicted_label"])["count"].sum()
    overall = table[table["fold"] == "all"].set_index(["label", "predicted_label"])["count"]
    assert per_fold.sort_index().equals(overall.sort_index())
    assert overall.sum() == 4 and overall[("surprise", "positive")] == 1


def test_scores_overall_and_per_dataset(predictions):
    scores = score_predictions(predictions).set_index("scope")
    assert scores.loc["overall", "n_clips"] == 4
    assert scores.loc["overall", "accuracy"] == 0.5
    assert scores.loc["a", "uar"] == 0.5  # negative right, positive wrong
    assert scores.loc["b", "uar"] == 0.5  # only surprise present
    subjects = score_subjects(predictions)
    assert subjects["subject"].tolist() == ["a/1", "b/1"]


def test_mlflow_metrics_leave_out_missing_scores(predictions):
    metrics = metrics_for_mlflow(score_predictions(predictions))
    assert metrics["overall.accuracy"] == {"value": 0.5, "step": 0}
    assert "overall.flow_epe" in metrics and "overall.landmark_nme" not in metrics


def test_a_clip_predicted_twice_is_an_error(predictions):
    with pytest.raises(ValueError, match="more than one fold"):
        concatenate_predictions(folds_table(predictions), predictions, predictions.head(1))


def test_overall_scores_refuse_a_missing_fold(fold_parts):
    with pytest.raises(ValueError, match=r"no predictions from folds \['fold_b_1'\]"):
        concatenate_predictions(folds_table(*fold_parts), fold_parts[0])


def test_overall_scores_refuse_predictions_that_do_not_match_the_folds(fold_parts):
    first, second = fold_parts
    with pytest.raises(ValueError, match=r"missing \(fold, clip\) \[\('fold_b_1', 'b/1/1'\)\]"):
        concatenate_predictions(folds_table(*fold_parts), first, second.head(1))
    stale = second.assign(clip_id=second["clip_id"] + "-old")
    with pytest.raises(ValueError, match="not held out"):
        concatenate_predictions(folds_table(*fold_parts), first, stale)


def test_plots(predictions):
    figure = plot_confusion_matrices(predictions)
    assert isinstance(figure, Figure) and len(figure.axes) == 3  # all datasets, a, b
    history = pd.DataFrame({"step": [1, 2], "train_total": [2.0, 1.0],
                            "validation_total": [np.nan, 1.5], "fold": "fold_a_1"})
    assert list(plot_loss_curves(history)) == ["fold_a_1.png"]
