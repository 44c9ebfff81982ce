from pathlib import Path

import pandas as pd
import pytest

from micro_expression.training.folds import (
    FINAL_FOLD,
    fold_clips,
    fold_name,
    fold_names,
    loso_folds,
    registered_subjects,
)


def clip_table(subjects: int = 5, clips: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"clip_id": f"d/s{s}/c{c}", "subject": f"d/s{s}", "dataset": "d"}
            for s in range(subjects)
            for c in range(clips)
        ]
    )


@pytest.mark.parametrize("validation_subjects", [0, 2])
def test_loso_never_puts_a_subject_in_train_and_test(validation_subjects):
    clips = clip_table()
    folds = loso_folds(clips, validation_subjects=validation_subjects, seed=3)
    loso = folds[folds["fold"] != FINAL_FOLD]
    for fold, rows in loso.groupby("fold"):
        by_role = {role: set(part["subject"]) for role, part in rows.groupby("role")}
        assert by_role["test"] == {rows["held_out_subject"].iloc[0]}
        assert by_role["test"].isdisjoint(by_role["train"])
        assert by_role["test"].isdisjoint(by_role.get("validation", set()))
        assert by_role["train"].isdisjoint(by_role.get("validation", set()))
        assert len(by_role.get("validation", ())) == validation_subjects
        assert len(rows) == len(clips)
    # Every clip is tested exactly once, by the fold of its own subject.
    tested = loso[loso["role"] == "test"]
    assert sorted(tested["clip_id"]) == sorted(clips["clip_id"])
    assert (tested["fold"] == tested["subject"].map(fold_name)).all()
    assert sorted(loso["fold_number"].unique()) == [1, 2, 3, 4, 5]


def test_final_fold_trains_on_every_subject():
    folds = loso_folds(clip_table(), seed=0)
    final = folds[folds["fold"] == FINAL_FOLD]
    assert set(final["role"]) == {"train"}
    assert final["fold_number"].unique().tolist() == [0]
    assert final["held_out_subject"].isna().all()


def test_validation_subjects_depend_on_the_seed_only():
    clips = clip_table(subjects=8)
    first = loso_folds(clips, validation_subjects=2, seed=1)
    pd.testing.assert_frame_equal(first, loso_folds(clips, validation_subjects=2, seed=1))
    other = loso_folds(clips, validation_subjects=2, seed=2)
    assert not first["role"].equals(other["role"])


def test_validation_subjects_must_leave_a_training_subject():
    with pytest.raises(ValueError, match=r"validation_subjects must be in \[0, 3\]"):
        loso_folds(clip_table(subjects=5), validation_subjects=4)
    with pytest.raises(ValueError, match="at least 2 subjects"):
        loso_folds(clip_table(subjects=1))


def test_fold_names_are_sanitised_and_unique():
    assert fold_name("casme2/sub01") == "fold_casme2_sub01"
    assert fold_names(["a/b", "c-d"]) == ["fold_a_b", "fold_c_d"]
    with pytest.raises(ValueError, match="same fold name"):
        fold_names(["a/b", "a_b"])


def test_fold_clips_names_an_unknown_fold():
    folds = loso_folds(clip_table(), seed=0)
    with pytest.raises(ValueError, match="fold 'fold_x' is not in the folds table"):
        fold_clips(folds, "fold_x")


PLAIN_CATALOG = "clip_index:\n  type: pandas.ParquetDataset\n  filepath: data/clips.parquet\n"
# As conf/base/catalog.yml has it: the table is also logged as an MLflow artifact.
WRAPPED_CATALOG = (
    "clip_index:\n  type: kedro_mlflow.io.artifacts.MlflowArtifactDataset\n  dataset:\n"
    "    type: pandas.ParquetDataset\n    filepath: data/clips.parquet\n"
)


def write_conf(root: Path, parameters: str, catalog: str = PLAIN_CATALOG) -> Path:
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (root / "conf" / "base" / "parameters.yml").write_text(parameters)
    (root / "conf" / "base" / "catalog.yml").write_text(catalog)
    return root


def test_subjects_come_from_the_training_parameter_first(tmp_path):
    root = write_conf(tmp_path, "training:\n  subjects: [b/s2, a/s1]\nsynthetic:\n  subjects: 4\n")
    assert registered_subjects(root) == ["a/s1", "b/s2"]


@pytest.mark.parametrize("catalog", [PLAIN_CATALOG, WRAPPED_CATALOG], ids=["plain", "wrapped"])
def test_subjects_come_from_the_clip_index_next(tmp_path, catalog):
    root = write_conf(
        tmp_path, "training:\n  subjects: null\nsynthetic:\n  subjects: 4\n", catalog
    )
    index = root / "data" / "clips.parquet"
    index.parent.mkdir(parents=True)
    clip_table(subjects=2).to_parquet(index)
    assert registered_subjects(root) == ["d/s0", "d/s1"]


def test_subjects_come_from_the_synthetic_corpus_last(tmp_path):
    root = write_conf(tmp_path, "synthetic:\n  subjects: 3\n")
    assert registered_subjects(root) == ["synthetic/sub01", "synthetic/sub02", "synthetic/sub03"]


def test_no_subject_source_is_a_clear_error(tmp_path):
    root = write_conf(tmp_path, "training:\n  steps: 3\n")
    with pytest.raises(ValueError, match="cannot tell which subjects"):
        registered_subjects(root)
