import numpy as np

from micro_expression.preprocessing.apex import flow_apex_index, sheet_apex_index


def test_sheet_apex_is_found_by_frame_number():
    numbers = np.array([46, 47, 48, 49, 50])
    assert sheet_apex_index(numbers, 48) == 2
    assert sheet_apex_index(numbers, None) is None
    assert sheet_apex_index(numbers, 999) is None  # outside the clip
    assert sheet_apex_index(numbers, 46) is None  # the onset: no motion to measure


def test_flow_apex_ignores_a_growing_head_drift():
    """A local motion peaking at sampled frame 3 under a rigid drift that keeps growing."""
    samples = np.array([[0, 2, 4, 6, 8, 10, 12, 14]])
    flows = np.zeros((1, 7, 16, 16, 2), np.float32)
    flows[..., 0] = 0.5  # every pair: the whole head moves 0.5 px right
    local = np.zeros((7, 16, 16, 2), np.float32)
    local[:3, 4:10, 4:10, 1] = 1.0  # frames 0 -> 3: a patch rises by 3 px ...
    local[3:6, 4:10, 4:10, 1] = -1.0  # ... and falls back by frame 6
    flows[0] += local
    assert flow_apex_index(flows, samples).tolist() == [6]  # clip position of sampled frame 3
    drift_only = np.zeros_like(flows)
    drift_only[..., 0] = 0.5
    assert flow_apex_index(drift_only + local[None] * 0, samples)[0] in samples[0, 1:]
