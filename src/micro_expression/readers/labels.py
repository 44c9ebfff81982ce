"""Class schemes: which emotions a run learns, and how each dataset's emotions map to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GENERATED = "synthetic"
GENERATED_LAYOUTS = ("casme2", "samm", "smic", "casme3", "mmew")
"""The layouts a generated corpus may be written in, each read by that dataset's reader."""

MEGC_CLASSES = ("negative", "positive", "surprise")
# MEGC2019 composite: CASME II negative = disgust + repression; SAMM negative = anger,
# contempt, disgust, fear, sadness; others are dropped.
_THREE_CLASS = {
    "casme2": {
        "disgust": "negative",
        "repression": "negative",
        "happiness": "positive",
        "surprise": "surprise",
    },
    "samm": {
        "anger": "negative",
        "contempt": "negative",
        "disgust": "negative",
        "fear": "negative",
        "sadness": "negative",
        "happiness": "positive",
        "surprise": "surprise",
    },
    "smic": {"negative": "negative", "positive": "positive", "surprise": "surprise"},
    # CAS(ME)^3's own 3-class grouping (negative = disgust, fear, anger, sad).
    "casme3": {
        "disgust": "negative",
        "fear": "negative",
        "anger": "negative",
        "sad": "negative",
        "happy": "positive",
        "surprise": "surprise",
    },
    "mmew": {
        "sadness": "negative",
        "disgust": "negative",
        "fear": "negative",
        "anger": "negative",
        "happiness": "positive",
        "surprise": "surprise",
    },
    # 4DME codes each clip with 0/1 columns; repression counts as negative, as in CASME II.
    "4dme": {
        "negative": "negative",
        "repression": "negative",
        "positive": "positive",
        "surprise": "surprise",
    },
}
COMPOSITE_PARTS = ("casme2", "samm", "smic", "casme3", "mmew", "4dme")
"""The datasets a composite may hold: each maps its emotions to the three classes its own way."""
DATASETS = ("synthetic", "casme2", "samm", "smic", "composite", "casme3", "mmew", "4dme")
EMOTIONS = {
    "casme2": ("happiness", "surprise", "disgust", "repression", "others", "fear", "sadness"),
    "samm": ("anger", "contempt", "disgust", "fear", "sadness", "happiness", "surprise", "other"),
    "smic": ("negative", "positive", "surprise"),
    "casme3": ("happy", "surprise", "disgust", "fear", "anger", "sad", "others"),
    "mmew": ("happiness", "surprise", "disgust", "fear", "anger", "sadness", "others"),
    "4dme": ("positive", "negative", "surprise", "repression", "others"),
}
"""Every emotion each dataset codes (lower case): an emotion outside these is a data fault
(a typo, a blank cell), while one a class scheme leaves out is a normal exclusion."""
MULTI_LABEL = ("4dme",)
"""Datasets whose clips may carry several emotions, joined with ``+`` by their readers."""


def _same_classes(classes: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """A scheme whose classes are the emotions themselves."""
    return classes, {c: c for c in classes}


# Schemes beyond the 3-class one, per dataset and class count: (classes, emotion -> class).
_OTHER_SCHEMES: dict[str, dict[int, tuple[tuple[str, ...], dict[str, str]]]] = {
    "casme2": {5: _same_classes(("happiness", "surprise", "disgust", "repression", "others"))},
    "samm": {5: _same_classes(("happiness", "surprise", "anger", "contempt", "other"))},
    "casme3": {
        4: (MEGC_CLASSES + ("others",), {**_THREE_CLASS["casme3"], "others": "others"}),
        7: _same_classes(EMOTIONS["casme3"]),
    },
    "mmew": {
        4: (MEGC_CLASSES + ("others",), {**_THREE_CLASS["mmew"], "others": "others"}),
        7: _same_classes(EMOTIONS["mmew"]),
    },
    "4dme": {
        4: (MEGC_CLASSES + ("others",), {**_THREE_CLASS["4dme"], "others": "others"}),
        5: _same_classes(EMOTIONS["4dme"]),
    },
}


def generated_datasets(layouts: Sequence[str], dataset: str = GENERATED) -> list[str]:
    """The dataset name the clips of each part of a generated corpus in ``layouts`` carry:
    ``synthetic`` for CASME II alone (the corpus as it always was), else
    ``synthetic_<layout>`` per part."""
    if tuple(layouts) == ("casme2",):
        return [dataset]
    return [f"{dataset}_{layout}" for layout in layouts]


def coded_as(dataset: str) -> str:
    """The dataset whose emotion words ``dataset`` is coded with: a part of a generated
    corpus is coded as the layout it is written in (``synthetic`` alone as CASME II)."""
    if dataset == GENERATED:
        return "casme2"
    layout = dataset.removeprefix(f"{GENERATED}_")
    return layout if layout != dataset and layout in GENERATED_LAYOUTS else dataset


def dataset_emotions(dataset: str) -> tuple[str, ...]:
    """The emotions ``dataset`` codes, as its reader writes them (lower case)."""
    return EMOTIONS[coded_as(dataset)]


@dataclass(frozen=True)
class ClassScheme:
    """Classes in label-id order, and per source dataset the emotion (lower case) -> class map."""

    name: str
    classes: tuple[str, ...]
    mapping: dict[str, dict[str, str]]

    def label(self, dataset: str, emotion: str) -> str | None:
        """Class of ``emotion`` as written in ``dataset``, or None when the scheme drops it.
        Several emotions joined with ``+`` (a 4DME clip coded with more than one) have a
        class when all of them map to that one class."""
        table = self.mapping.get(coded_as(dataset))
        if table is None:
            raise ValueError(f"the {self.name} scheme does not label clips of {dataset!r}: it "
                             f"labels {', '.join(self.mapping)}")
        classes = {table.get(part.strip()) for part in emotion.strip().lower().split("+")}
        return classes.pop() if len(classes) == 1 else None

    def label_id(self, label: str) -> int:
        return self.classes.index(label)


def offered_classes(name: str) -> tuple[int, ...]:
    """The class counts dataset ``name`` can be labelled with (3 for every dataset)."""
    return (3, *_OTHER_SCHEMES.get(coded_as(name), {}))


def scheme_for(name: str, classes: int) -> ClassScheme:
    """The ``classes``-class scheme of dataset ``name`` (3: negative/positive/surprise)."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset name {name!r}; valid names: {', '.join(DATASETS)}")
    source = coded_as(name)
    if classes == 3:
        composites = {"composite": COMPOSITE_PARTS, GENERATED: GENERATED_LAYOUTS}
        sources = {part: _THREE_CLASS[part] for part in composites.get(name, (source,))}
        return ClassScheme(f"3-class {name}", MEGC_CLASSES, sources)
    others = _OTHER_SCHEMES.get(source, {})
    if classes in others:
        names, mapping = others[classes]
        return ClassScheme(f"{classes}-class {name}", names, {source: mapping})
    counts = [str(c) for c in offered_classes(name)]
    offered = (f"dataset.classes={', '.join(counts[:-1])} or {counts[-1]}" if len(counts) > 1
               else "only dataset.classes=3")
    raise ValueError(
        f"dataset.classes={classes!r} is not available for dataset {name!r}: it offers {offered}"
    )
