from pathlib import Path

import pandas as pd
import pytest

from micro_expression.training import folds as folds_module
from micro_expression.training.folds import (
    FINAL_FOLD,
    SplitSettings,
    dataset_folds,
    fold_clips,
    fold_name,
    fold_names,
    loso_folds,
    protocol_folds,
    registered_datasets,
    registered_folds,
    registered_subjects,
    use_run_config,
)


def clip_table(subjects: int = 5, clips: int = 3, dataset: str = "d") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"clip_id": f"{dataset}/s{s}/c{c}", "subject": f"{dataset}/s{s}", "dataset": dataset}
            for s in range(subjects)
            for c in range(clips)
        ]
    )


def composite_table(subjects: dict[str, int]) -> pd.DataFrame:
    """Clips of several datasets: ``{dataset: subject count}``, 2 clips per subject."""
    return pd.concat([clip_table(n, 2, name) for name, n in subjects.items()],
                     ignore_index=True)


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


SYNTHETIC_CATALOG = PLAIN_CATALOG + (
    "raw_dataset:\n  type: micro_expression.io.MERSourceDataset\n  name: synthetic\n"
)


def test_the_generated_corpus_plan_outranks_a_stale_clip_index(tmp_path):
    root = write_conf(tmp_path, "synthetic:\n  subjects: 3\n  layout: casme2+mmew\n",
                      SYNTHETIC_CATALOG)
    index = root / "data" / "clips.parquet"
    index.parent.mkdir(parents=True)
    clip_table(subjects=2).to_parquet(index)
    assert registered_subjects(root) == [
        "synthetic_casme2/sub01", "synthetic_casme2/sub03", "synthetic_mmew/S02"]
    assert registered_datasets(root) == ["synthetic_casme2", "synthetic_mmew"]


def test_no_subject_source_is_a_clear_error(tmp_path):
    root = write_conf(tmp_path, "training:\n  steps: 3\n")
    with pytest.raises(ValueError, match="cannot tell which subjects"):
        registered_subjects(root)


def test_loso_rows_name_no_held_out_dataset():
    folds = protocol_folds(clip_table(subjects=3), SplitSettings())
    assert folds["held_out_dataset"].isna().all()
    pd.testing.assert_frame_equal(folds, loso_folds(clip_table(subjects=3), 0, 42))


@pytest.mark.parametrize("validation_subjects", [0, 1])
def test_leave_one_dataset_out_tests_each_dataset_on_a_model_of_the_others(validation_subjects):
    clips = composite_table({"casme2": 3, "samm": 2, "smic": 2})
    settings = SplitSettings(protocol="leave_one_dataset_out",
                             validation_subjects=validation_subjects, seed=5)
    folds = protocol_folds(clips, settings)
    assert sorted(folds["fold"].unique()) == ["final", "fold_casme2", "fold_samm", "fold_smic"]
    for fold, rows in folds[folds["fold"] != FINAL_FOLD].groupby("fold"):
        held_out = rows["held_out_dataset"].iloc[0]
        assert fold == fold_name(held_out)
        assert rows["held_out_subject"].isna().all()
        by_role = {role: set(part["dataset"]) for role, part in rows.groupby("role")}
        assert by_role["test"] == {held_out}
        assert held_out not in by_role["train"] | by_role.get("validation", set())
        assert rows.groupby("role")["subject"].nunique().get("validation", 0) == validation_subjects
        assert len(rows) == len(clips)
    tested = folds[folds["role"] == "test"]
    assert sorted(tested["clip_id"]) == sorted(clips["clip_id"])
    final = folds[folds["fold"] == FINAL_FOLD]
    assert len(final) == len(clips) and "test" not in set(final["role"])


def test_cross_dataset_trains_on_the_named_datasets_only():
    clips = composite_table({"casme2": 2, "samm": 2, "casme3": 3, "mmew": 2})
    settings = SplitSettings(protocol="cross_dataset", train_datasets="casme2+samm",
                             test_datasets=["casme3"])
    assert settings.train_datasets == ("casme2", "samm")
    folds = dataset_folds(clips, settings)
    assert sorted(folds["fold"].unique()) == ["final", "fold_casme3"]
    fold = folds[folds["fold"] == "fold_casme3"]
    assert set(fold.loc[fold["role"] == "test", "dataset"]) == {"casme3"}
    assert set(fold.loc[fold["role"] == "train", "dataset"]) == {"casme2", "samm"}
    # MMEW is in neither list: no fold reads its clips, the final model included.
    assert "mmew" not in set(folds["dataset"])
    final = folds[folds["fold"] == FINAL_FOLD]
    assert set(final["dataset"]) == {"casme2", "samm"}


@pytest.mark.parametrize(("values", "message"), [
    ({"protocol": "kfold"}, "protocol must be one of loso, leave_one_dataset_out"),
    ({"protocol": "cross_dataset", "train_datasets": ["casme2"]}, "needs both"),
    ({"protocol": "cross_dataset", "train_datasets": "casme2+samm", "test_datasets": "samm"},
     r"\['samm'\] are in both"),
    ({"protocol": "loso", "test_datasets": ["samm"]}, "are for protocol cross_dataset"),
    ({"protocol": "cross_dataset", "train_datasets": "a+a", "test_datasets": "b"},
     "names a dataset twice"),
    ({"protocol": "cross_dataset", "train_datasets": 3, "test_datasets": "b"},
     "must be a list of dataset names"),
])
def test_bad_protocol_settings_are_named(values, message):
    with pytest.raises(ValueError, match=message):
        SplitSettings.from_params(values)


def test_dataset_folds_refuse_what_they_cannot_split():
    one = clip_table(subjects=3, dataset="casme2")
    with pytest.raises(ValueError, match="leave_one_dataset_out needs at least 2 datasets"):
        dataset_folds(one, SplitSettings(protocol="leave_one_dataset_out"))
    two = composite_table({"casme2": 2, "samm": 2})
    unknown = SplitSettings(protocol="cross_dataset", train_datasets="casme2",
                            test_datasets="smic")
    with pytest.raises(ValueError, match=r"does not hold; its datasets: \['casme2', 'samm'\]"):
        dataset_folds(two, unknown)
    shared = two.assign(subject=two["subject"].str.replace("samm/", "casme2/"))
    with pytest.raises(ValueError, match="appear in more than one dataset"):
        dataset_folds(shared, SplitSettings(protocol="leave_one_dataset_out"))
    with pytest.raises(ValueError, match="validation_subjects must be in \\[0, 1\\] for fold"):
        dataset_folds(two, SplitSettings(protocol="leave_one_dataset_out",
                                         validation_subjects=2))


COMPOSITE_CATALOG = (
    "raw_dataset:\n  type: micro_expression.io.MERSourceDataset\n  name: composite\n"
    "  roots:\n    casme2: /data/casme2\n    samm: null\n    casme3: /data/casme3\n"
)


def test_dataset_folds_are_registered_for_a_composites_parts(tmp_path, monkeypatch):
    root = write_conf(tmp_path, "splitting:\n  protocol: leave_one_dataset_out\n",
                      COMPOSITE_CATALOG)
    assert registered_datasets(root) == ["casme2", "casme3"]
    assert registered_folds(root) == ["fold_casme2", "fold_casme3"]


def test_the_running_sessions_parameters_choose_the_folds(tmp_path, monkeypatch):
    from kedro.config import OmegaConfigLoader

    root = write_conf(tmp_path, "splitting:\n  protocol: loso\ntraining:\n  subjects: [a/s1]\n",
                      COMPOSITE_CATALOG)
    monkeypatch.setattr(folds_module, "_RUN_CONFIG", {})
    assert registered_folds(root) == ["fold_a_s1"]
    loader = OmegaConfigLoader(str(root / "conf"), base_env="base", default_run_env="local",
                               runtime_params={"splitting": {"protocol": "leave_one_dataset_out"}})
    use_run_config(root, loader)
    assert registered_folds(root) == ["fold_casme2", "fold_casme3"]
    # Another project's registration reads its own files, not this session's parameters.
    other = write_conf(tmp_path / "other", "training:\n  subjects: [b/s2]\n", COMPOSITE_CATALOG)
    assert registered_subjects(other) == ["b/s2"]
