from micro_expression.pipelines.splitting import create_pipeline
from micro_expression.pipelines.splitting.nodes import make_folds
from tests.training.corpus import write_corpus


def test_make_folds_covers_every_stored_clip(tmp_path):
    index = write_corpus(tmp_path, subjects=3)
    folds = make_folds(index, {"validation_subjects": 1, "seed": 0})
    assert sorted(folds["fold"].unique()) == [
        "final", "fold_synthetic_sub01", "fold_synthetic_sub02", "fold_synthetic_sub03",
    ]
    assert set(folds["clip_id"]) == set(index["clip_id"])
    fold = folds[folds["fold"] == "fold_synthetic_sub02"]
    subjects_per_role = fold.groupby("role")["subject"].nunique().to_dict()
    assert subjects_per_role == {"test": 1, "train": 1, "validation": 1}


def test_pipeline_reads_the_index_and_writes_the_folds():
    pipeline = create_pipeline()
    assert pipeline.inputs() == {"preprocessed_index", "params:splitting"}
    assert pipeline.outputs() == {"loso_folds"}
