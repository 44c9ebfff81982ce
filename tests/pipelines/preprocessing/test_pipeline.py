import json

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import ParquetDataset

from micro_expression.io.clip_cache import ClipCacheDataset
from micro_expression.pipelines.preprocessing import create_pipeline
from micro_expression.preprocessing.keys import index_digest
from tests.kedro_project import copy_project, kedro_run
from tests.preprocessing.clips import clip_index, generated_corpus_clips

PARAMS = {"crop_size": 96, "workers": 1, "qa_clips": 2}


def test_pipeline_wiring():
    nodes = {node.name: node for node in create_pipeline().nodes}
    assert nodes["preprocess_clips"].inputs == [
        "clip_index", "ingestion_summary", "preprocessed_clips", "params:preprocessing"
    ]
    assert nodes["preprocess_clips"].outputs == [
        "preprocessed_index", "preprocessing_rejections", "preprocessing_quality"
    ]
    assert nodes["summarise_preprocessing_quality"].outputs == ["preprocessing_metrics"]
    assert nodes["render_preprocessing_qa_figures"].outputs == ["preprocessing_qa_figures"]
    assert nodes["describe_preprocessing"].outputs == ["preprocessing_manifest"]


@pytest.fixture(scope="module")
def corpus_clips(tmp_path_factory):
    return generated_corpus_clips(tmp_path_factory.mktemp("corpus"))


def test_runs_on_the_generated_corpus_and_measures_quality(corpus_clips, tmp_path):
    clips, _ = corpus_clips
    catalog = DataCatalog(
        {
            "clip_index": MemoryDataset(clip_index(*corpus_clips)),
            "ingestion_summary": MemoryDataset({"ingestion_id": None}),
            "preprocessed_clips": ClipCacheDataset(path=str(tmp_path / "preprocessed")),
            "params:preprocessing": MemoryDataset(PARAMS),
            "params:preprocessing.qa_clips": MemoryDataset(PARAMS["qa_clips"]),
            **{
                name: ParquetDataset(filepath=str(tmp_path / f"{name}.parquet"))
                for name in ("preprocessed_index", "preprocessing_quality")
            },
            "preprocessing_qa_figures": MatplotlibDataset(filepath=str(tmp_path / "qa")),
        }
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)

    index = catalog.load("preprocessed_index")
    assert index["clip_id"].tolist() == list(clips)
    quality = catalog.load("preprocessing_quality")
    assert quality["clip_id"].tolist() == list(clips)
    assert (quality["landmark_nme"] < 0.1).all()
    metrics = outputs["preprocessing_metrics"].load()
    assert metrics["clips_with_truth"]["value"] == len(clips)
    assert 0 < metrics["flow_epe.mean"]["value"] < 1.0
    assert len(list((tmp_path / "qa").glob("*.png"))) == 2
    manifest = outputs["preprocessing_manifest"].load()
    assert manifest["preprocessed_keys_digest"] == index_digest(index["content_key"])
    assert manifest["settings"]["crop_size"] == PARAMS["crop_size"]
    assert outputs["preprocessing_rejections"].load().empty


@pytest.mark.slow
def test_kedro_run_from_generated_corpus_to_mlflow(tmp_path):
    project = copy_project(tmp_path / "project")
    params = (
        "synthetic.subjects=1,synthetic.clips_per_class=1,preprocessing.crop_size=64,"
        "preprocessing.workers=2,preprocessing.qa_clips=1"
    )
    result = kedro_run(
        project, "--pipelines", "synthetic,ingestion,preprocessing", "--params", params
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    primary = project / "data" / "03_primary"
    assert (primary / "preprocessed_index.parquet").is_file()
    assert len(list((primary / "preprocessed").glob("*.npz"))) == 3
    manifest = json.loads((primary / "preprocessing_manifest.json").read_text())
    assert manifest["n_clips"] == 3 and manifest["settings"]["crop_size"] == 64
    figures = sorted(p.name for p in (project / "data/08_reporting/preprocessing_qa").glob("*.png"))
    assert len(figures) == 2 and figures[1].endswith("_stabilisation.png")  # the default: ecc
    assert "preprocessing quality on 3 clips" in result.stdout + result.stderr
