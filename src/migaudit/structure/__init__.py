"""The structure of a table: a role and its evidence for every category of every dimension.

Between reading and auditing: `infer(cube)` says which category is the total, which are
aggregates of which members, parts, residuals, selections and non-additive measures, and why
(file hierarchies, dated classifications, printed layout, the vocabulary in
`data/vocabulary.yaml`, interval arithmetic on age labels). The engine's label-based
hierarchy rules check exactly these groups; `migaudit read` shows them, `migaudit suggest`
writes them as rules a user can correct.
"""

from __future__ import annotations

from migaudit.structure.infer import (
    Aggregate,
    Category,
    DimensionStructure,
    Structure,
    infer,
    infer_dimension_role,
    inferred_roles,
)
from migaudit.structure.intervals import Interval, parse_age
from migaudit.structure.vocabulary import vocabulary

__all__ = [
    "Aggregate", "Category", "DimensionStructure", "Interval", "Structure", "infer",
    "infer_dimension_role", "inferred_roles", "parse_age", "vocabulary",
]
