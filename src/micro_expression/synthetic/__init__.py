"""Generated micro-expression corpus in real dataset layouts, with exact ground truth.

``generate_corpus(params)`` plans the corpus (cheap, no pixels); ``GeneratedCorpus.write(root)``
renders it. Each subject is the public-domain astronaut photo under an identity change
(similarity with optional mirroring, smooth warp, tone, contrast, skin texture); each clip is
its neutral face moved by action-unit displacement fields (landmark-anchored, compact bumps)
along an onset -> apex -> offset envelope, plus rigid head jitter, illumination flicker,
sensor noise and JPEG compression. Each clip's exact motion and landmarks are written beside
it in the ground-truth format of :mod:`micro_expression.readers.ground_truth`. The corpus is
written in the layout of CASME II, SAMM, SMIC-HS, CAS(ME)^3 or MMEW, or several of them
(``synthetic.layout``; :mod:`micro_expression.synthetic.layouts`).
"""

from micro_expression.synthetic.corpus import generate_corpus
from micro_expression.synthetic.params import SyntheticParams, parse_params
from micro_expression.synthetic.specs import ClipSpec, GeneratedCorpus, SubjectSpec

__all__ = [
    "ClipSpec",
    "GeneratedCorpus",
    "SubjectSpec",
    "SyntheticParams",
    "generate_corpus",
    "parse_params",
]
