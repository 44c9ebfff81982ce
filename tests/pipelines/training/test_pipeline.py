import pytest

from micro_expression.pipelines.training import pipeline as training_pipeline
from micro_expression.training import folds

SUBJECTS = ["synthetic/sub01", "synthetic/sub010", "casme2/sub01"]


@pytest.fixture
def pipeline(monkeypatch):
    monkeypatch.setattr(folds, "registered_subjects", lambda *args: SUBJECTS)
    return training_pipeline.create_pipeline()


def test_one_namespace_per_subject_plus_final(pipeline):
    namespaces = {n.namespace for n in pipeline.nodes}
    assert namespaces == {
        "fold_synthetic_sub01", "fold_synthetic_sub010", "fold_casme2_sub01", "final",
    }
    assert pipeline.inputs() == {
        "loso_folds", "preprocessed_index", "preprocessed_clips", "preprocessing_manifest",
        "params:training",
    }
    assert "final.fold_model" in pipeline.outputs()
    assert "final.fold_predictions" not in pipeline.all_outputs()


def test_a_namespace_selects_exactly_its_fold(pipeline):
    fold = pipeline.only_nodes_with_namespaces(["fold_synthetic_sub01"])
    assert [n.name for n in fold.nodes] == ["fold_synthetic_sub01.train_and_test_fold"]
    assert fold.outputs() == {
        "fold_synthetic_sub01.fold_model", "fold_synthetic_sub01.fold_loss_history",
        "fold_synthetic_sub01.fold_predictions",
    }
