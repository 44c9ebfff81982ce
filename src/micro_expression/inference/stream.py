"""Scoring a video in sliding windows while it is decoded, in memory that does not grow with
its length.

The video is decoded once, front to back, in this process. Its frames go, as grey images,
into a ring buffer of :meth:`~micro_expression.inference.windows.WindowSchedule.frames_held`
frames that worker processes share (``multiprocessing.shared_memory``: no frame is copied
between processes). A window goes to a worker as soon as its last frame has arrived and is
prepared exactly as a clip of the same frames would be
(:func:`~micro_expression.preprocessing.clip.preprocess_clip` on
:class:`~micro_expression.preprocessing.frames.DecodedFrames`). Decoding waits for the oldest
window whenever one still reads the frame about to be overwritten or too many are in flight,
so neither the frames held nor the windows pending grow with the recording.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from micro_expression.inference.classifier import ClipClassifier
from micro_expression.inference.windows import Window, WindowSchedule
from micro_expression.preprocessing.clip import ClipRejected
from micro_expression.preprocessing.executor import init_worker_process
from micro_expression.preprocessing.frames import DecodedFrames
from micro_expression.readers.recordings import gray_frame

logger = logging.getLogger(__name__)

WINDOWS_IN_FLIGHT_PER_WORKER = 2
"""Windows queued per worker: enough to keep it busy while the next frames are decoded."""
FIRST_FRAME_NUMBER = 1
"""A video's frames are numbered from 1, as in the coding sheets of the datasets."""


class VideoUnreadable(ValueError):
    """The video cannot be opened, holds no decodable frame, or changes its frame size."""


@dataclass(frozen=True)
class WindowScore:
    """One window of a video: its frame indices (0-based), and its class probabilities and
    the most landmarks that fell outside a sampled frame, or why it could not be scored."""

    first: int
    last: int
    probabilities: np.ndarray | None = None
    landmarks_outside: int | None = None
    stage: str | None = None
    reason: str | None = None


def window_digest(video_sha256: str, window: Window) -> str:
    """What identifies a window's input: the video's content and the window's frames."""
    return hashlib.sha256(f"{video_sha256}:{window[0]}-{window[1]}".encode()).hexdigest()


class _FrameRing:
    """``capacity`` grey frames of one size; frame ``n`` lives in slot ``n % capacity``."""

    def __init__(self, frames: np.ndarray, memory: SharedMemory | None = None) -> None:
        self.frames = frames
        self.memory = memory

    @classmethod
    def create(cls, capacity: int, shape: tuple[int, int], shared: bool) -> _FrameRing:
        if not shared:
            return cls(np.empty((capacity, *shape), np.uint8))
        memory = SharedMemory(create=True, size=capacity * shape[0] * shape[1])
        return cls(np.ndarray((capacity, *shape), np.uint8, buffer=memory.buf), memory)

    @classmethod
    def attach(cls, name: str, capacity: int, shape: tuple[int, int]) -> _FrameRing:
        memory = SharedMemory(name=name)
        return cls(np.ndarray((capacity, *shape), np.uint8, buffer=memory.buf), memory)

    @property
    def capacity(self) -> int:
        return len(self.frames)

    def put(self, index: int, gray: np.ndarray) -> None:
        self.frames[index % self.capacity] = gray

    def get(self, index: int) -> np.ndarray:
        return self.frames[index % self.capacity].copy()

    def close(self, unlink: bool) -> None:
        if self.memory is not None:
            del self.frames  # the buffer must have no view left when it is closed
            self.memory.close()
            if unlink:
                self.memory.unlink()


class _WindowScorer:
    """Scores windows whose frames are in a ring; one per worker process (or this one)."""

    def __init__(self, classifier: ClipClassifier, ring: _FrameRing, source: str) -> None:
        self.classifier = classifier
        self.ring = ring
        self.source = source

    def score(self, window: Window) -> WindowScore:
        first, last = window
        frames = DecodedFrames(
            read=lambda i: self.ring.get(first + i),
            numbers=np.arange(first, last + 1) + FIRST_FRAME_NUMBER,
            source=self.source,
        )
        try:
            arrays = self.classifier.prepare(frames)
        except ClipRejected as error:
            return WindowScore(first, last, stage=error.stage, reason=error.reason)
        return WindowScore(first, last, self.classifier.probabilities(arrays),
                           int(arrays.landmarks_outside.max()))


_worker_scorer: _WindowScorer | None = None


def _init_stream_worker(classifier: ClipClassifier, ring_name: str, capacity: int,
                        shape: tuple[int, int], source: str) -> None:
    global _worker_scorer
    init_worker_process()
    _worker_scorer = _WindowScorer(classifier, _FrameRing.attach(ring_name, capacity, shape),
                                   source)


def _score_on_worker(window: Window) -> WindowScore:
    assert _worker_scorer is not None, "the worker was not initialised"
    return _worker_scorer.score(window)


class _InThisProcess(Executor):
    """Runs each call when it is submitted (one worker: no processes, no shared memory)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def score_video(
    video: str | Path, classifier: ClipClassifier, schedule: WindowSchedule, workers: int = 1,
    progress: bool = True,
) -> Iterator[WindowScore]:
    """Every window of ``schedule`` over ``video``, in order, scored on ``workers`` processes
    while the video is decoded. Raises :class:`VideoUnreadable` (after the windows whose
    frames all came before the fault)."""
    video = Path(video)
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise VideoUnreadable(f"OpenCV cannot open {video} as a video")
    in_flight = WINDOWS_IN_FLIGHT_PER_WORKER * max(1, workers)
    capacity = schedule.frames_held(in_flight)
    ring: _FrameRing | None = None
    pool: Executor | None = None
    pending: deque[tuple[Window, Future]] = deque()
    bar = tqdm(total=int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None, unit="frame",
               desc=f"scoring {video.name}", disable=not progress)
    index, stopped = -1, None
    try:
        while True:
            decoded, image = capture.read()
            if not decoded:
                break
            index += 1
            gray = gray_frame(image)
            if ring is None:
                ring = _FrameRing.create(capacity, gray.shape, shared=workers > 1)
                pool, score = _executor(classifier, ring, str(video), workers)
            elif gray.shape != ring.frames.shape[1:]:
                (h1, w1), (h2, w2) = ring.frames.shape[1:], gray.shape
                stopped = VideoUnreadable(
                    f"{video}: frame {index + FIRST_FRAME_NUMBER} is {w2}x{h2}, the first "
                    f"{w1}x{h1}")
                break
            while pending and pending[0][0][0] <= index - capacity:
                yield pending.popleft()[1].result()
            ring.put(index, gray)
            bar.update()
            for window in schedule.ready(index):
                yield from _submit(pool, score, pending, window, in_flight)
        if index < 0:
            raise VideoUnreadable(f"no frame could be decoded from {video}")
        if stopped is None:
            if (listed := int(capture.get(cv2.CAP_PROP_FRAME_COUNT))) > index + 1:
                logger.warning("%s: decoding stopped after %d of the %d frames its container "
                               "lists (damaged or cut short?)", video, index + 1, listed)
            for window in schedule.at_end(index + 1):
                yield from _submit(pool, score, pending, window, in_flight)
        while pending:  # the windows before a fault are whole: they are scored
            yield pending.popleft()[1].result()
        if stopped is not None:
            raise stopped
    finally:
        bar.close()
        capture.release()
        if pool is not None:
            # On an error or an early stop, drop the queued windows instead of scoring them.
            pool.shutdown(wait=True, cancel_futures=True)
        if ring is not None:
            ring.close(unlink=True)


def _executor(classifier: ClipClassifier, ring: _FrameRing, source: str, workers: int
              ) -> tuple[Executor, Callable[[Window], WindowScore]]:
    """Where windows are scored, and the call that scores one there."""
    if workers <= 1:
        return _InThisProcess(), _WindowScorer(classifier, ring, source).score
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_stream_worker,
        initargs=(classifier, ring.memory.name, ring.capacity, ring.frames.shape[1:], source),
    )
    return pool, _score_on_worker


def _submit(pool: Executor, score: Callable[[Window], WindowScore],
            pending: deque[tuple[Window, Future]], window: Window, in_flight: int
            ) -> Iterator[WindowScore]:
    """Queue ``window``, first yielding the oldest results while too many are in flight."""
    while len(pending) >= in_flight:
        yield pending.popleft()[1].result()
    pending.append((window, pool.submit(score, window)))
