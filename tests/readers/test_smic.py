import pytest

from micro_expression.readers.smic import read_smic
from tests.readers.fixtures import SMIC_CLIPS, smic_clip_folder, write_smic


@pytest.mark.parametrize("given", ["parent", "HS"])
def test_reads_clip_folders_with_root_as_hs_or_its_parent(tmp_path, given):
    write_smic(tmp_path)
    root = tmp_path if given == "parent" else tmp_path / "HS"

    clips = read_smic(root)

    assert [c.clip_id for c in clips] == [
        "smic/s1/s1_ne_01", "smic/s1/s1_sur_02", "smic/s2/s2_po_01"
    ]
    first = clips[0]
    assert first.subject == "smic/s1"
    assert first.emotion == "negative"
    assert first.folder == first.source == str(smic_clip_folder(tmp_path / "HS", SMIC_CLIPS[0]))
    assert (first.onset, first.apex, first.offset) == (1200, None, 1203)
    assert len(first.frames) == 4
    assert first.fps == 100.0


def test_subjects_sort_numerically_and_non_micro_folders_are_ignored(tmp_path):
    clips = [{"subject": s, "emotion": "positive", "index": 1, "first": 1, "n_frames": 2}
             for s in (10, 2)]
    write_smic(tmp_path, clips)
    (tmp_path / "HS" / "s2" / "non_micro" / "x" / "y").mkdir(parents=True)

    assert [c.subject for c in read_smic(tmp_path)] == ["smic/s2", "smic/s10"]


def test_an_empty_clip_folder_is_reported_without_frames(tmp_path):
    write_smic(tmp_path, [{"subject": 1, "emotion": "surprise", "index": 1, "frames": []}])

    (clip,) = read_smic(tmp_path)

    assert clip.frames == () and clip.onset is None and clip.offset is None


def test_a_root_without_hs_names_what_it_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"SMIC-HS not found .*HS"):
        read_smic(tmp_path)


def test_hs_without_clip_folders_is_an_empty_dataset(tmp_path):
    (tmp_path / "HS" / "s1" / "micro").mkdir(parents=True)

    with pytest.raises(ValueError, match=r"Empty dataset: .*HS"):
        read_smic(tmp_path)
