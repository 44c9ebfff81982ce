"""Class schemes: which emotions a run learns, and how each dataset's emotions map to them."""

from __future__ import annotations

from dataclasses import dataclass

# Datasets read with another dataset's reader, and so coded with its emotion words.
CODED_AS = {"synthetic": "casme2"}

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
}
_FIVE_CLASS = {
    "casme2": ("happiness", "surprise", "disgust", "repression", "others"),
    "samm": ("happiness", "surprise", "anger", "contempt", "other"),
}
DATASETS = ("synthetic", "casme2", "samm", "smic", "composite")
EMOTIONS = {
    "casme2": ("happiness", "surprise", "disgust", "repression", "others", "fear", "sadness"),
    "samm": ("anger", "contempt", "disgust", "fear", "sadness", "happiness", "surprise", "other"),
    "smic": ("negative", "positive", "surprise"),
}
"""Every emotion each dataset codes (lower case): an emotion outside these is a data fault
(a typo, a blank cell), while one a class scheme leaves out is a normal exclusion."""


def dataset_emotions(dataset: str) -> tuple[str, ...]:
    """The emotions ``dataset`` codes, as its reader writes them (lower case)."""
    return EMOTIONS[CODED_AS.get(dataset, dataset)]


@dataclass(frozen=True)
class ClassScheme:
    """Classes in label-id order, and per source dataset the emotion (lower case) -> class map."""

    name: str
    classes: tuple[str, ...]
    mapping: dict[str, dict[str, str]]

    def label(self, dataset: str, emotion: str) -> str | None:
        """Class of ``emotion`` as written in ``dataset``, or None when the scheme drops it."""
        table = self.mapping[CODED_AS.get(dataset, dataset)]
        return table.get(emotion.strip().lower())

    def label_id(self, label: str) -> int:
        return self.classes.index(label)


def scheme_for(name: str, classes: int) -> ClassScheme:
    """The ``classes``-class scheme of dataset ``name`` (3: MEGC negative/positive/surprise)."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset name {name!r}; valid names: {', '.join(DATASETS)}")
    coded_as = CODED_AS.get(name, name)
    if classes == 3:
        sources = _THREE_CLASS if name == "composite" else {coded_as: _THREE_CLASS[coded_as]}
        return ClassScheme(f"3-class {name}", MEGC_CLASSES, sources)
    if classes == 5 and coded_as in _FIVE_CLASS:
        five = _FIVE_CLASS[coded_as]
        return ClassScheme(f"5-class {name}", five, {coded_as: {c: c for c in five}})
    offered = "dataset.classes=3 or 5" if coded_as in _FIVE_CLASS else "only dataset.classes=3"
    raise ValueError(
        f"dataset.classes={classes!r} is not available for dataset {name!r}: it offers {offered}"
    )
