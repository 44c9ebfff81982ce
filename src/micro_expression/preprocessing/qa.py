"""QA images: aligned frames with their landmark labels, TV-L1 flow beside the true flow."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from micro_expression.flow.colour import flow_to_colour
from micro_expression.flow.error import end_point_error_map
from micro_expression.io.clip_cache import ClipArrays


def qa_figure(clip_id: str, arrays: ClipArrays, true_flows: np.ndarray | None) -> Figure:
    """Top: first, middle and last frame of sample 0 with landmarks. Bottom: for the pair
    with the most (true, else estimated) motion, TV-L1 flow, true flow and their EPE, on one
    colour scale."""
    flows = arrays.flows[0].astype(np.float32)
    reference = flows if true_flows is None else true_flows
    pair = int(np.argmax(np.linalg.norm(reference, axis=-1).mean(axis=(1, 2))))
    scale = float(np.percentile(np.linalg.norm(reference[pair], axis=-1), 99)) or 1.0

    figure = Figure(figsize=(9, 6.4), layout="constrained")
    axes = figure.subplots(2, 3)
    length = arrays.frames.shape[1]
    for axis, k in zip(axes[0], (0, length // 2, length - 1), strict=True):
        axis.imshow(arrays.frames[0, k], cmap="gray", vmin=0, vmax=255)
        axis.scatter(*arrays.landmarks[0, k].T, s=4, c="lime")
        axis.set_title(f"frame {arrays.frame_numbers[0, k]}")
    first, second = arrays.frame_numbers[0, pair], arrays.frame_numbers[0, pair + 1]
    axes[1, 0].imshow(flow_to_colour(flows[pair], scale))
    axes[1, 0].set_title(f"TV-L1 {first}->{second}")
    if true_flows is None:
        for axis in axes[1, 1:]:
            axis.text(0.5, 0.5, "no ground truth", ha="center", va="center")
    else:
        axes[1, 1].imshow(flow_to_colour(true_flows[pair], scale))
        axes[1, 1].set_title(f"true flow (full colour {scale:.2f} px)")
        error = axes[1, 2].imshow(end_point_error_map(flows[pair], true_flows[pair]), cmap="magma")
        axes[1, 2].set_title("end-point error (px)")
        figure.colorbar(error, ax=axes[1, 2], shrink=0.8)
    for axis in axes.flat:
        axis.set_axis_off()
    figure.suptitle(clip_id)
    return figure


def stabilisation_figure(clip_id: str, arrays: ClipArrays, unstabilised: np.ndarray) -> Figure:
    """For two later frames of sample 0: the difference from the sample's first crop with the
    clip transform alone (``unstabilised``, (L, C, C)) and after stabilisation (the stored
    crops), on one grey scale; titles give the mean absolute difference on the crop."""
    stabilised = arrays.frames[0].astype(np.float32)
    before = unstabilised.astype(np.float32)
    length = len(stabilised)
    frames = (length // 2, length - 1)
    differences = {
        "clip transform only": [before[k] - before[0] for k in frames],
        "stabilised": [stabilised[k] - stabilised[0] for k in frames],
    }
    scale = float(max(np.percentile(np.abs(d), 99) for ds in differences.values() for d in ds))
    figure = Figure(figsize=(6.4, 6.6), layout="constrained")
    axes = figure.subplots(2, 2)
    for row, (name, images) in zip(axes, differences.items(), strict=True):
        for axis, k, difference in zip(row, frames, images, strict=True):
            shown = axis.imshow(difference, cmap="RdBu", vmin=-scale or -1, vmax=scale or 1)
            first, later = arrays.frame_numbers[0, 0], arrays.frame_numbers[0, k]
            axis.set_title(f"{name}: frame {later} - {first}\n"
                           f"mean |diff| {np.abs(difference).mean():.2f}", fontsize="small")
            axis.set_axis_off()
    figure.colorbar(shown, ax=axes, shrink=0.6, label="grey levels")
    figure.suptitle(f"{clip_id}: difference from the onset")
    return figure
