"""The MOL model: micro-expression recognition jointly with optical flow and facial landmarks."""

from micro_expression.model.ccc import CCC, EdgeConv, ReferenceEdgeUpdate, knn_cosine
from micro_expression.model.conv_stack import ConvStack, ReferenceConvStack
from micro_expression.model.correlation import Correlation, correlation
from micro_expression.model.f5c import F5C, PairF5C
from micro_expression.model.factory import ARCHITECTURES, build_model, input_key
from micro_expression.model.fcc import FCC, GlobalCircularConv
from micro_expression.model.flow_baseline import FlowBaseline, STSTNet
from micro_expression.model.flow_net import FlowNet
from micro_expression.model.inputs import FrameEncoding
from micro_expression.model.landmark_head import LandmarkHead
from micro_expression.model.losses import (
    LossReduction,
    LossWeights,
    flow_loss,
    inter_ocular_distance,
    landmark_loss,
    mol_loss,
)
from micro_expression.model.mer_head import MERHead
from micro_expression.model.mol import MOL, MOLOutput, build_mol, parameter_counts
from micro_expression.model.presets import PRESETS, MOLWidths, get_preset

__all__ = [
    "ARCHITECTURES",
    "CCC",
    "F5C",
    "FCC",
    "MOL",
    "PRESETS",
    "STSTNet",
    "ConvStack",
    "Correlation",
    "EdgeConv",
    "FlowBaseline",
    "FlowNet",
    "FrameEncoding",
    "GlobalCircularConv",
    "LandmarkHead",
    "LossReduction",
    "LossWeights",
    "MERHead",
    "MOLOutput",
    "MOLWidths",
    "PairF5C",
    "ReferenceConvStack",
    "ReferenceEdgeUpdate",
    "build_model",
    "build_mol",
    "correlation",
    "flow_loss",
    "get_preset",
    "input_key",
    "inter_ocular_distance",
    "knn_cosine",
    "landmark_loss",
    "mol_loss",
    "parameter_counts",
]
