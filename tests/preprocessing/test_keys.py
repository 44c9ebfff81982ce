import pytest

from micro_expression.preprocessing import keys
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.keys import content_key, index_digest

HASH = "ab" * 32


def key(**params):
    return content_key(HASH, PreprocessingConfig.from_params(params))


def test_key_is_stable_and_ignores_execution_settings():
    assert key() == key()
    assert key() == key(workers=7, qa_clips=1)
    assert key(sampling="even") == key(sampling="even", stride=3)


@pytest.mark.parametrize(
    "change",
    [
        {"alignment": "per_frame"},
        {"sampling": "strided"},
        {"crop_size": 128},
        {"face_margin": 0.2},
        {"detection": {"retry_upsample": None}},
        {"tvl1": {"lambda": 0.3}},
        {"flow_brightness": "gain"},
        {"crop_geometry": "reference"},
    ],
)
def test_output_settings_change_the_key(change):
    assert key(**change) != key()


def test_frames_and_code_version_change_the_key(monkeypatch):
    config = PreprocessingConfig()
    before = content_key(HASH, config)
    assert content_key("cd" * 32, config) != before
    monkeypatch.setattr(keys, "PREPROCESSING_VERSION", keys.PREPROCESSING_VERSION + 1)
    assert content_key(HASH, config) != before


def test_sheet_apex_changes_the_key():
    config = PreprocessingConfig()
    assert content_key(HASH, config, apex=57) != content_key(HASH, config, apex=58)
    assert content_key(HASH, config, apex=None) != content_key(HASH, config, apex=57)


def test_missing_content_hash_is_refused():
    with pytest.raises(ValueError, match="content_hash"):
        content_key("", PreprocessingConfig())


def test_index_digest_ignores_order():
    assert index_digest(["b", "a"]) == index_digest(["a", "b"]) != index_digest(["a"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"alignment": "per_video"}, "alignment"),
        ({"sampling": "random"}, "sampling"),
        ({"workers": 0}, "workers"),
        ({"qa_clips": 0}, r"qa_clips must be >= 1"),
        ({"colour": True}, "colour"),
        ({"flow_brightness": "histogram"}, r"flow_brightness must be one of \('gain', 'none'\)"),
        ({"detection": {"upsampling": 1}}, "upsampling"),
        ({"crop_geometry": "five_points"},
         r"crop_geometry must be one of \('standard', 'reference'\), got 'five_points'"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        PreprocessingConfig.from_params(params)


def test_detection_levels_and_workers():
    config = PreprocessingConfig.from_params({"detection": {"upsample": 1, "retry_upsample": 2}})
    assert config.upsample_levels == (1, 2)
    assert PreprocessingConfig(retry_upsample=None).upsample_levels == (0,)
    assert PreprocessingConfig(workers=None).n_workers >= 1


def test_a_model_from_before_brightness_matching_keeps_its_preprocessing():
    settings = PreprocessingConfig().output_settings()
    del settings["flow_brightness"]
    assert PreprocessingConfig.from_settings(settings).flow_brightness == "none"


def test_the_standard_crop_geometry_keeps_the_keys_clips_always_had():
    """Clips preprocessed before the choice existed are still found in the cache."""
    assert "crop_geometry" not in PreprocessingConfig().output_settings()
    reference = PreprocessingConfig(crop_geometry="reference")
    assert PreprocessingConfig.from_settings(reference.output_settings()) == reference
    assert PreprocessingConfig.from_settings(PreprocessingConfig().output_settings()
                                             ).crop_geometry == "standard"
