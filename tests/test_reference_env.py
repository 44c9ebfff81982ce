"""`--env reference`'s preprocessing, as Kedro merges it over the base configuration."""

from pathlib import Path

from kedro.config import OmegaConfigLoader

from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[1] / "conf"


def preprocessing(env: str) -> PreprocessingConfig:
    loader = OmegaConfigLoader(str(CONF), env=env, **{
        k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"})
    return PreprocessingConfig.from_params(loader["parameters"]["preprocessing"])


def test_the_reference_env_aligns_each_frame_with_the_public_codes_geometry():
    reference, base = preprocessing("reference"), preprocessing("base")
    assert (reference.alignment, reference.crop_geometry) == ("per_frame", "reference")
    assert reference.upsample_levels == (1,)  # dlib's detector(img, 1), no other level
    assert reference.crop_border == 128 and base.crop_border is None
    assert (base.crop_geometry, base.upsample_levels) == ("standard", (0, 1))
    # Everything the env does not name comes from the base configuration.
    assert (reference.crop_size, reference.max_landmarks_outside) == (base.crop_size,
                                                                      base.max_landmarks_outside)
