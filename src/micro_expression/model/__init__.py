"""The MOL model: micro-expression recognition jointly with optical flow and facial landmarks."""

from micro_expression.model.ccc import CCC, EdgeConv, knn_cosine
from micro_expression.model.conv_stack import ConvStack
from micro_expression.model.correlation import Correlation, correlation
from micro_expression.model.f5c import F5C
from micro_expression.model.fcc import FCC, GlobalCircularConv
from micro_expression.model.flow_net import FlowNet
from micro_expression.model.landmark_head import LandmarkHead
from micro_expression.model.losses import LossWeights, inter_ocular_distance, mol_loss
from micro_expression.model.mer_head import MERHead
from micro_expression.model.mol import MOL, MOLOutput, build_mol, parameter_counts
from micro_expression.model.presets import PRESETS, MOLWidths, get_preset

__all__ = [
    "CCC",
    "F5C",
    "FCC",
    "MOL",
    "PRESETS",
    "ConvStack",
    "Correlation",
    "EdgeConv",
    "FlowNet",
    "GlobalCircularConv",
    "LandmarkHead",
    "LossWeights",
    "MERHead",
    "MOLOutput",
    "MOLWidths",
    "build_mol",
    "correlation",
    "get_preset",
    "inter_ocular_distance",
    "knn_cosine",
    "mol_loss",
    "parameter_counts",
]
