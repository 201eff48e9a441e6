"""IML: the mapping language, parsed and interpreted by our own code.

Nothing here uses eval, exec or a template engine, and nothing reaches Python attributes:
expressions can only read bundle data (dict keys, 1-based list indexes), the run's variables
and the functions registered in `iml.functions.registry.FUNCTIONS`.
"""

from __future__ import annotations

from scenarist_engine.iml.context import EvalContext, Limits
from scenarist_engine.iml.template import (
    Template,
    evaluate_mapping,
    evaluate_template,
    parse_template,
    referenced_bundle_keys,
    referenced_function_names,
    referenced_module_ids,
)
from scenarist_engine.iml.values import ERASE, IGNORE

__all__ = [
    "ERASE",
    "IGNORE",
    "EvalContext",
    "Limits",
    "Template",
    "evaluate_mapping",
    "evaluate_template",
    "parse_template",
    "referenced_bundle_keys",
    "referenced_function_names",
    "referenced_module_ids",
]
