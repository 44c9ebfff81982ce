"""Content keys: which stored clip file answers for which frames and settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from micro_expression.preprocessing.config import PreprocessingConfig

# Bump when the code changes what it writes for the same frames and settings.
# 2: the onset-to-apex flow of the flow baseline.
# 3: stabilisation, border tolerance, per-frame landmarks-outside counts.
# 4: the apex estimated from the stabilised crops, not from the accumulated flows.
PREPROCESSING_VERSION = 4


def content_key(content_hash: str, config: PreprocessingConfig, apex: int | None = None) -> str:
    """sha256 over the clip's frame-bytes hash, its sheet apex (frame number or None), the
    output settings and the code version."""
    if not content_hash:
        raise ValueError("clip has no content_hash: run the ingestion pipeline to compute it")
    payload = json.dumps(
        {
            "content_hash": content_hash,
            "apex": apex,
            "settings": config.output_settings(),
            "version": PREPROCESSING_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def index_digest(content_keys: Iterable[str]) -> str:
    """sha256 over the sorted content keys: one fingerprint for a whole preprocessed set."""
    return hashlib.sha256("\n".join(sorted(content_keys)).encode()).hexdigest()
