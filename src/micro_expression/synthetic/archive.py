"""Byte-reproducible zip containers (``.npz``, ``.xlsx``): fixed timestamps and order."""

from __future__ import annotations

import io
import zipfile

import numpy as np

# The earliest date a zip header can hold; any fixed value makes the bytes reproducible.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def deterministic_zip(entries: list[tuple[str, bytes]]) -> bytes:
    """Deflate ``(name, bytes)`` entries in the given order with fixed metadata."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload)
    return buffer.getvalue()


def normalised_zip(data: bytes) -> bytes:
    """Re-pack an existing zip with fixed timestamps (entry order and contents kept)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return deterministic_zip(entries)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` readable by ``np.load`` (``allow_pickle=False``), reproducible byte for byte."""
    entries = []
    for name, array in arrays.items():
        payload = io.BytesIO()
        np.lib.format.write_array(payload, np.asarray(array), allow_pickle=False)
        entries.append((f"{name}.npy", payload.getvalue()))
    return deterministic_zip(entries)
