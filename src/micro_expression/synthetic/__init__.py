"""Generated micro-expression corpus in the CASME II layout, with exact ground truth."""

from micro_expression.synthetic.corpus import (
    ClipSpec,
    GeneratedCorpus,
    SubjectSpec,
    generate_corpus,
)
from micro_expression.synthetic.ground_truth import (
    ClipGroundTruth,
    ground_truth_path_for_frame,
    load_ground_truth,
)
from micro_expression.synthetic.params import SyntheticParams, parse_params

__all__ = [
    "ClipGroundTruth",
    "ClipSpec",
    "GeneratedCorpus",
    "SubjectSpec",
    "SyntheticParams",
    "generate_corpus",
    "ground_truth_path_for_frame",
    "load_ground_truth",
    "parse_params",
]
