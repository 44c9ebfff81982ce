"""Lineage facts recorded with every run: code version, environment, data digests."""

from micro_expression.lineage.digest import table_digest
from micro_expression.lineage.provenance import code_version, environment_versions

__all__ = ["code_version", "environment_versions", "table_digest"]
