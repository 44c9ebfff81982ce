"""How every parameter block is read: one parser per block, one way to name unknown keys, and
a check of all the blocks a run uses before its first node.

Kedro 1.7's typed node parameters would validate too, but they hand the node (and
kedro-mlflow, which logs node parameters) an object instead of a mapping, so the MLflow record
would log each block as one string; the parsers here keep the mapping and share the checks.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

PARSERS: dict[str, str] = {
    "synthetic": "micro_expression.synthetic.params:parse_params",
    "ingestion": "micro_expression.readers.validation:IngestionSettings.from_params",
    "preprocessing": "micro_expression.preprocessing.config:PreprocessingConfig.from_params",
    "splitting": "micro_expression.training.folds:SplitSettings.from_params",
    "training": "micro_expression.training.loop:TrainingConfig.from_params",
}
"""Parser of each parameter block, by import path: a block's code (torch for ``training``)
loads only when a run uses that block."""


def block_values(
    raw: Any,
    block: str,
    fields: Iterable[str],
    nested: Mapping[str, Mapping[str, str]] | None = None,
    ignored: Iterable[str] = (),
) -> dict[str, Any]:
    """``raw`` as field values: the keys of each ``nested`` sub-block set the fields it names;
    keys in ``ignored`` are dropped; any other key that is not a field raises, named."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{block} parameters must be a mapping, got {type(raw).__name__}")
    nested = nested or {}
    values = {k: v for k, v in raw.items() if k not in set(ignored)}
    blocks = {name: values.pop(name, None) or {} for name in nested}
    for name, sub in blocks.items():
        if not isinstance(sub, Mapping):
            raise ValueError(f"{block}.{name} must be a mapping, got {sub!r}")
    nested_fields = {field for keys in nested.values() for field in keys.values()}
    unknown = sorted(set(values) - (set(fields) - nested_fields)) + [
        f"{name}.{key}"
        for name, sub in blocks.items()
        for key in sorted(set(sub) - set(nested[name]))
    ]
    if unknown:
        raise ValueError(f"unknown {block} parameters: {unknown}")
    for name, sub in blocks.items():
        values.update({nested[name][key]: value for key, value in sub.items()})
    return values


def parser(block: str) -> Callable[[Any], Any]:
    """The parser of parameter ``block`` (see :data:`PARSERS`)."""
    module, _, attribute = PARSERS[block].partition(":")
    found: Any = importlib.import_module(module)
    for name in attribute.split("."):
        found = getattr(found, name)
    return found


def used_blocks(inputs: Iterable[str]) -> list[str]:
    """The parsed blocks among a pipeline's inputs (``params:training``,
    ``params:preprocessing.qa_clips`` -> ``preprocessing``), sorted."""
    names = {i.removeprefix("params:").split(".")[0] for i in inputs if i.startswith("params:")}
    return sorted(names & set(PARSERS))


def check_blocks(params: Mapping[str, Any]) -> None:
    """Parse every block of ``params``; one error listing each block that does not parse."""
    check_run_parameters(params, {}, ())


def runtime_problems(extra: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """What is wrong with the runtime parameters (``--params``) ``extra``: each top-level
    name that no parameter block or catalog entry reads (``known``), with the nearest valid
    name, and each parsed block they touch that does not parse (a run that does not use the
    block would otherwise never look at it)."""
    known = sorted(set(known))
    problems = []
    for name in sorted(set(extra) - set(known)):
        nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {nearest[0]!r}?" if nearest else f"; known: {', '.join(known)}"
        problems.append(f"  --params {name}: no parameter block or catalog entry reads it{hint}")
    return problems


def check_run_parameters(
    params: Mapping[str, Any], extra: Mapping[str, Any], known: Iterable[str]
) -> None:
    """Parse every block of ``params`` and check the runtime parameters ``extra`` against
    the ``known`` top-level names; one error naming every problem."""
    problems = runtime_problems(extra, known)
    for block, raw in params.items():
        try:
            parser(block)(raw)
        except (TypeError, ValueError) as error:
            problems.append(f"  {block}: {error}")
    if problems:
        raise ValueError("Bad parameters, nothing was run:\n" + "\n".join(problems))
