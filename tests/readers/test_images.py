import hashlib
import re

from micro_expression.readers.images import inspect_frame, inspect_frames, numbered_frames
from tests.readers.fixtures import noise_image, truncate_file, write_garbage, write_jpeg

PATTERN = re.compile(r"img(\d+)\.jpg")


def test_numbered_frames_sorts_numerically_and_ignores_other_files(tmp_path):
    for n in (10, 9, 100, 11):
        write_jpeg(tmp_path / f"img{n}.jpg", noise_image("c", n))
    (tmp_path / "Thumbs.db").write_bytes(b"x")
    (tmp_path / "img9.jpg.bak").write_bytes(b"x")

    found = numbered_frames(tmp_path, PATTERN)

    assert [n for n, _ in found] == [9, 10, 11, 100]
    assert [p.name for _, p in found] == ["img9.jpg", "img10.jpg", "img11.jpg", "img100.jpg"]


def test_inspect_frame_hashes_the_bytes_of_a_good_jpeg(tmp_path):
    path = write_jpeg(tmp_path / "img3.jpg", noise_image("c", 3))

    frame = inspect_frame(path, 3)

    assert frame.error is None
    assert frame.number == 3
    assert frame.path == str(path)
    assert frame.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_inspect_frame_accepts_grayscale(tmp_path):
    path = write_jpeg(tmp_path / "006_00001.jpg", noise_image("c", 1), grayscale=True)

    assert inspect_frame(path, 1).error is None


def test_inspect_frame_records_a_truncated_jpeg(tmp_path):
    path = truncate_file(write_jpeg(tmp_path / "img3.jpg", noise_image("c", 3)))

    frame = inspect_frame(path, 3)

    assert frame.error is not None and "truncated" in frame.error
    assert frame.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_inspect_frame_records_a_file_that_is_not_an_image(tmp_path):
    frame = inspect_frame(write_garbage(tmp_path / "img4.jpg"), 4)

    assert frame.error is not None and "cannot identify image" in frame.error


def test_inspect_frame_records_an_empty_file(tmp_path):
    path = tmp_path / "img5.jpg"
    path.write_bytes(b"")

    assert inspect_frame(path, 5).error is not None


def test_inspect_frame_records_a_file_it_cannot_read(tmp_path):
    folder = tmp_path / "img6.jpg"
    folder.mkdir()  # reading a folder as a file fails with an OSError

    frame = inspect_frame(folder, 6)

    assert frame.error is not None and frame.error.startswith("cannot read")


def test_inspect_frames_inspects_each_distinct_file_once(tmp_path):
    paths = [write_jpeg(tmp_path / f"img{n}.jpg", noise_image("c", n)) for n in range(4)]
    listing = [(n, p) for n, p in enumerate(paths)] + [(0, paths[0])]

    inspected = inspect_frames(listing, desc="test")

    assert set(inspected) == set(paths)
    assert [inspected[p].number for p in paths] == [0, 1, 2, 3]
