import json

from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from micro_expression.io.mer_source import MERSourceDataset
from micro_expression.pipelines.synthetic import create_pipeline
from micro_expression.pipelines.synthetic.nodes import plan_corpus
from micro_expression.synthetic import GeneratedCorpus

TINY = {
    "seed": 3,
    "subjects": 2,
    "clips_per_class": 1,
    "frame_count": [6, 7],
    "image_size": [240, 320],
    "face_width_px": [125, 140],
}


def test_pipeline_is_one_node_from_parameters_to_the_raw_dataset():
    pipeline = create_pipeline()
    (node,) = pipeline.nodes
    assert node.name == "generate_synthetic_corpus"
    assert node.inputs == ["params:synthetic"] and node.outputs == ["raw_dataset"]


def test_node_returns_a_lazy_plan():
    corpus = plan_corpus(TINY)
    assert isinstance(corpus, GeneratedCorpus)
    assert len(corpus.clips) == 6


def test_running_the_pipeline_writes_the_corpus_through_the_catalog(tmp_path):
    root = tmp_path / "01_raw" / "synthetic"
    catalog = DataCatalog(
        {
            "params:synthetic": MemoryDataset(TINY),
            "raw_dataset": MERSourceDataset(name="synthetic", root=str(root)),
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    manifest = json.loads((root / "corpus.json").read_text())
    assert manifest["counts"]["clips"] == 6
    assert (root / "CASME2-coding-20140508.xlsx").is_file()
    assert len(list((root / "CASME2_RAW_selected").rglob("*.jpg"))) == manifest["counts"]["frames"]
