import hashlib
import os
import re

from micro_expression.readers.images import (
    MAX_FRAME_PIXELS,
    declared_pixels,
    inspect_frame,
    inspect_frames,
    numbered_frames,
    oversize_reason,
    stable_message,
)
from tests.readers.fixtures import (
    jpeg_declaring,
    noise_image,
    truncate_file,
    write_garbage,
    write_jpeg,
)

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


def test_inspect_frame_records_a_file_that_is_not_an_image_the_same_way_every_time(tmp_path):
    frame = inspect_frame(write_garbage(tmp_path / "img4.jpg"), 4)

    assert frame.error == "not an image PIL can identify"
    assert inspect_frame(tmp_path / "img4.jpg", 4).error == frame.error


def test_stable_message_drops_memory_addresses():
    error = OSError("cannot identify image file <_io.BytesIO object at 0x7f3a2c1d9e40>")
    assert stable_message(error) == "OSError: cannot identify image file the file"


def test_inspect_frame_records_a_broken_link(tmp_path):
    link = tmp_path / "img7.jpg"
    link.symlink_to(tmp_path / "gone.jpg")

    frame = inspect_frame(link, 7)

    target = tmp_path / "gone.jpg"
    assert frame.error == f"broken symbolic link to {target} (the target does not exist)"


def test_inspect_frame_records_the_pixel_size(tmp_path):
    path = write_jpeg(tmp_path / "img8.jpg", noise_image("c", 8, size=48))

    frame = inspect_frame(path, 8)

    assert (frame.width, frame.height) == (48, 48) and frame.error is None


def test_numbered_frames_keeps_two_names_for_one_number_and_broken_links(tmp_path):
    for name in ("img11.jpg", "img011.jpg", "img12.jpg"):
        write_jpeg(tmp_path / name, noise_image("c", 1))
    (tmp_path / "img13.jpg").symlink_to(tmp_path / "missing.jpg")

    found = numbered_frames(tmp_path, re.compile(r"img(\d+)\.jpe?g"))

    assert [(n, p.name) for n, p in found] == [
        (11, "img011.jpg"), (11, "img11.jpg"), (12, "img12.jpg"), (13, "img13.jpg")
    ]


def test_inspect_frame_records_an_empty_file(tmp_path):
    path = tmp_path / "img5.jpg"
    path.write_bytes(b"")

    assert inspect_frame(path, 5).error is not None


def test_inspect_frame_records_a_folder_named_like_a_frame(tmp_path):
    folder = tmp_path / "img6.jpg"
    folder.mkdir()

    frame = inspect_frame(folder, 6)

    assert frame.error == "not a regular file (a folder)"


def test_a_loop_of_links_named_like_a_frame_is_called_a_loop(tmp_path):
    (tmp_path / "img9.jpg").symlink_to(tmp_path / "img10.jpg")
    (tmp_path / "img10.jpg").symlink_to(tmp_path / "img9.jpg")

    assert inspect_frame(tmp_path / "img9.jpg", 9).error == "a loop of symbolic links"


def test_a_fifo_named_like_a_frame_is_listed_and_refused_without_blocking(tmp_path):
    fifo = tmp_path / "img7.jpg"
    os.mkfifo(fifo)  # reading it would block for ever: no writer ever opens it

    assert numbered_frames(tmp_path, PATTERN) == [(7, fifo)]
    assert inspect_frame(fifo, 7).error == "not a regular file (a FIFO)"


def test_a_header_that_declares_a_huge_frame_is_refused_before_decoding(tmp_path):
    path = tmp_path / "img8.jpg"
    path.write_bytes(jpeg_declaring(30000, 30000))

    frame = inspect_frame(path, 8)

    assert declared_pixels(path.read_bytes()) == 900_000_000
    assert frame.error == ("its header declares 900.0 Mpx, more than the 40.0 Mpx a frame may "
                           "have: not decoded")
    assert len(frame.sha256) == 64  # the file was read, not decoded


def test_declared_pixels_reads_the_header_of_real_image_files(tmp_path):
    jpeg = write_jpeg(tmp_path / "a.jpg", noise_image("d", 1))
    height, width = noise_image("d", 1).shape[:2]

    assert declared_pixels(jpeg) == declared_pixels(jpeg.read_bytes()) == width * height
    assert declared_pixels(b"not an image") is None
    assert oversize_reason(MAX_FRAME_PIXELS) is None
    assert oversize_reason(MAX_FRAME_PIXELS + 1).startswith("its header declares")


def test_inspect_frames_inspects_each_distinct_file_once(tmp_path):
    paths = [write_jpeg(tmp_path / f"img{n}.jpg", noise_image("c", n)) for n in range(4)]
    listing = [(n, p) for n, p in enumerate(paths)] + [(0, paths[0])]

    inspected = inspect_frames(listing, desc="test")

    assert set(inspected) == set(paths)
    assert [inspected[p].number for p in paths] == [0, 1, 2, 3]
