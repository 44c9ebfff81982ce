"""Generated micro-expression corpus in the CASME II layout, with exact ground truth.

``generate_corpus(params)`` plans the corpus (cheap, no pixels); ``GeneratedCorpus.write(root)``
renders it. Each subject is the public-domain astronaut photo under an identity change
(similarity with optional mirroring, smooth warp, tone, contrast, skin texture); each clip is
its neutral face moved by action-unit displacement fields (landmark-anchored, compact bumps)
along an onset -> apex -> offset envelope, plus rigid head jitter, illumination flicker,
sensor noise and JPEG compression. ``load_ground_truth`` gives each clip's exact motion and
landmarks; ``ground_truth_path_for_frame`` finds it from a frame path.
"""

from micro_expression.synthetic.corpus import generate_corpus
from micro_expression.synthetic.ground_truth import (
    ClipGroundTruth,
    ground_truth_path_for_frame,
    load_ground_truth,
)
from micro_expression.synthetic.params import SyntheticParams, parse_params
from micro_expression.synthetic.specs import ClipSpec, GeneratedCorpus, SubjectSpec

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
