"""Per-clip preprocessing: alignment, temporal sampling, TV-L1 flow and landmark labels.

Plain modules that the ``preprocessing`` pipeline's nodes call; see ``clip.preprocess_clip``
for one clip and ``executor.run_clips`` for a cached, parallel run over many.
"""
