from pathlib import Path

import pytest
import yaml

from micro_expression.synthetic import SyntheticParams, generate_corpus, parse_params

PARAMETERS_FILE = Path(__file__).parents[2] / "conf" / "base" / "parameters_synthetic.yml"


def test_project_parameters_are_valid_and_plan_the_default_corpus():
    raw = yaml.safe_load(PARAMETERS_FILE.read_text())["synthetic"]
    params = parse_params(raw)
    assert params.subjects == 8 and params.classes == 3 and params.image_size == (480, 640)
    corpus = generate_corpus(raw)
    assert len(corpus.clips) == 8 * 3 * params.clips_per_class
    assert corpus.counts()["per_class"] == {"negative": 24, "positive": 24, "surprise": 24}


def test_digest_follows_the_parameters():
    assert parse_params({}).digest() == SyntheticParams().digest()
    assert parse_params({"seed": 1}).digest() != parse_params({"seed": 2}).digest()
    assert parse_params({"nuisance": {"jpeg_quality": 80}}).digest() != SyntheticParams().digest()


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"classes": 4}, "classes"),
        ({"classes": "3"}, "classes"),
        ({"frame_count": [40, 24]}, "frame_count"),
        ({"frame_count": [10]}, "frame_count"),
        ({"frame_count": [2, 5]}, "frame_count"),
        ({"amplitude_px": [0.0, 1.0]}, "amplitude_px"),
        ({"amplitude_px": [-1.0, 1.0]}, "amplitude_px"),
        ({"amplitude_px": [1.0, 20.0]}, "amplitude_px"),
        ({"face_width_px": [40, 60]}, "face_width_px"),
        ({"face_width_px": [250, 400]}, "face_width_px"),
        ({"subjects": 0}, "subjects"),
        ({"clips_per_class": 1.5}, "clips_per_class"),
        ({"difficulty": 1.5}, "difficulty"),
        ({"seed": -1}, "seed"),
        ({"nuisance": {"jpeg_quality": 0}}, "nuisance.jpeg_quality"),
        ({"nuisance": {"sensor_noise": -1}}, "nuisance.sensor_noise"),
        ({"nuisance": {"illumination_flicker": 0.9}}, "nuisance.illumination_flicker"),
    ],
)
def test_bad_parameter_is_named(override, named):
    with pytest.raises(ValueError, match=f"'{named}'"):
        generate_corpus(override)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"layout": "casme4"}, r"'layout' names unknown layout\(s\) 'casme4'; known layouts: "
                               r"casme2, samm, smic, casme3, mmew"),
        ({"layout": "casme2+mmew+casme2"}, r"'layout' names 'casme2' more than once"),
        ({"layout": ["mmew", "mmew"]}, r"'layout' names 'mmew' more than once"),
        ({"layout": ""}, r"'layout' must name one or more layouts, none of them empty"),
        ({"layout": []}, r"'layout' must name one or more layouts"),
        ({"layout": "casme2+"}, r"'layout' must name one or more layouts, none of them empty"),
        ({"layout": 3}, r"'layout' must be a layout name, names joined with '\+' or a list"),
        ({"layout": "mmew", "classes": 5}, r"'classes' must be 3 with layout 'mmew' \(5 "
                                           r"classes are CASME II's: layout casme2 alone\)"),
        ({"layout": "casme2+samm", "classes": 5}, r"'classes' must be 3 with layout "
                                                  r"'casme2\+samm'"),
        ({"layout": "casme3", "clips_per_class": 5}, r"'clips_per_class' gives 15 clips per "
                                                     r"subject \(5 x 3 classes\), more than "
                                                     r"layout 'casme3' holds per subject \(13\)"),
        ({"layout": "casme2+mmew+smic", "subjects": 2}, r"'subjects' must give each of the 3 "
                                                        r"layouts of 'casme2\+mmew\+smic' a "
                                                        r"subject"),
    ],
)
def test_bad_layout_is_named_with_what_is_wrong(override, message):
    with pytest.raises(ValueError, match=rf"synthetic parameter {message}"):
        parse_params(override)


def test_layout_is_a_name_names_joined_with_plus_or_a_list():
    assert parse_params({}).layout == ("casme2",)
    assert parse_params({"layout": "casme3"}).layout == ("casme3",)
    joined, listed = parse_params({"layout": "casme2+mmew"}), parse_params(
        {"layout": ["casme2", "mmew"]})
    assert joined == listed and joined.layout == ("casme2", "mmew")
    assert joined.to_dict()["layout"] == ["casme2", "mmew"]
    assert joined.digest() != parse_params({"layout": "mmew+casme2"}).digest()
    assert parse_params({"layout": "casme3", "clips_per_class": 4}).clips_per_class == 4


def test_unknown_parameters_are_named():
    with pytest.raises(ValueError, match="subject_count"):
        parse_params({"subject_count": 3})
    with pytest.raises(ValueError, match="jitter"):
        parse_params({"nuisance": {"jitter": 3}})
