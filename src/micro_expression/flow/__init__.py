"""TV-L1 optical flow, its colour coding and its end-point error."""
