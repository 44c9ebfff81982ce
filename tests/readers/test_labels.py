import pytest

from micro_expression.readers.labels import (
    GENERATED_LAYOUTS,
    coded_as,
    dataset_emotions,
    generated_datasets,
    scheme_for,
)


def test_casme2_five_class_keeps_its_five_emotions_in_order():
    scheme = scheme_for("casme2", 5)

    assert scheme.classes == ("happiness", "surprise", "disgust", "repression", "others")
    assert scheme.label("casme2", "repression") == "repression"
    assert scheme.label("casme2", "fear") is None
    assert scheme.label("casme2", "sadness") is None
    assert scheme.label_id("others") == 4


def test_samm_five_class_reads_capitalised_emotions():
    scheme = scheme_for("samm", 5)

    assert scheme.classes == ("happiness", "surprise", "anger", "contempt", "other")
    assert scheme.label("samm", "Contempt ") == "contempt"
    assert scheme.label("samm", "Other") == "other"
    assert scheme.label("samm", "Disgust") is None


@pytest.mark.parametrize(
    ("dataset", "emotion", "label"),
    [
        ("casme2", "disgust", "negative"),
        ("casme2", "repression", "negative"),
        ("casme2", "happiness", "positive"),
        ("casme2", "surprise", "surprise"),
        ("casme2", "others", None),
        ("casme2", "fear", None),
        ("casme2", "sadness", None),
        ("samm", "Anger", "negative"),
        ("samm", "Contempt", "negative"),
        ("samm", "Disgust", "negative"),
        ("samm", "Fear", "negative"),
        ("samm", "Sadness", "negative"),
        ("samm", "Happiness", "positive"),
        ("samm", "Surprise", "surprise"),
        ("samm", "Other", None),
        ("smic", "negative", "negative"),
        ("smic", "positive", "positive"),
        ("smic", "surprise", "surprise"),
    ],
)
def test_composite_three_class_mapping(dataset, emotion, label):
    scheme = scheme_for("composite", 3)

    assert scheme.classes == ("negative", "positive", "surprise")
    assert scheme.label(dataset, emotion) == label


def test_synthetic_uses_the_casme2_emotion_words():
    assert scheme_for("synthetic", 3).label("synthetic", "repression") == "negative"
    assert scheme_for("synthetic", 5).label("synthetic", "others") == "others"


def test_generated_parts_are_coded_as_their_layout():
    assert coded_as("synthetic") == "casme2"
    assert [coded_as(f"synthetic_{layout}") for layout in GENERATED_LAYOUTS] == list(
        GENERATED_LAYOUTS)
    assert coded_as("casme3") == "casme3" and coded_as("synthetic_4dme") == "synthetic_4dme"
    assert dataset_emotions("synthetic_samm") == dataset_emotions("samm")
    assert generated_datasets(["casme2"]) == ["synthetic"]
    assert generated_datasets(["casme3"]) == ["synthetic_casme3"]
    assert generated_datasets(["casme2", "mmew"]) == ["synthetic_casme2", "synthetic_mmew"]


def test_a_generated_composite_is_labelled_by_each_parts_own_mapping():
    scheme = scheme_for("synthetic", 3)

    assert set(scheme.mapping) == set(GENERATED_LAYOUTS)
    assert scheme.label("synthetic", "repression") == "negative"
    assert scheme.label("synthetic_casme3", "sad") == "negative"
    assert scheme.label("synthetic_samm", "Sadness") == "negative"
    assert scheme.label("synthetic_mmew", "happiness") == "positive"
    assert scheme.label("synthetic_smic", "surprise") == "surprise"
    with pytest.raises(ValueError, match="does not label clips of 'synthetic_mmew'"):
        scheme_for("synthetic", 5).label("synthetic_mmew", "happiness")


@pytest.mark.parametrize("name", ["smic", "composite"])
def test_five_classes_where_only_three_exist_is_a_clear_error(name):
    with pytest.raises(ValueError, match=rf"dataset.classes=5 .* {name!r}: it offers only "):
        scheme_for(name, 5)


def test_unknown_name_and_class_count():
    with pytest.raises(ValueError, match="valid names: synthetic, casme2, samm, smic, composite"):
        scheme_for("megc", 3)
    with pytest.raises(ValueError, match=r"dataset.classes=7 .* it offers dataset.classes=3 or 5"):
        scheme_for("casme2", 7)


@pytest.mark.parametrize(
    ("classes", "labels"),
    [
        (3, {"disgust": "negative", "fear": "negative", "anger": "negative", "sad": "negative",
             "happy": "positive", "surprise": "surprise", "Others": None}),
        (4, {"sad": "negative", "happy": "positive", "surprise": "surprise", "Others": "others",
             "others": "others"}),
        (7, {"happy": "happy", "sad": "sad", "Others": "others", "anger": "anger"}),
    ],
)
def test_casme3_schemes(classes, labels):
    scheme = scheme_for("casme3", classes)

    assert len(scheme.classes) == classes
    assert {emotion: scheme.label("casme3", emotion) for emotion in labels} == labels


def test_casme3_offers_three_four_and_seven_classes():
    with pytest.raises(ValueError, match=r"dataset.classes=5 .* 'casme3': it offers "
                                         r"dataset.classes=3, 4 or 7$"):
        scheme_for("casme3", 5)


def test_the_composite_maps_every_part_it_may_hold():
    assert set(scheme_for("composite", 3).mapping) == {"casme2", "samm", "smic", "casme3",
                                                      "mmew", "4dme"}
