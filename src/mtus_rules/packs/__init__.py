"""Rule packs: the YAML guideline rules as validated models (model), their
conditions (conditions), loading a pack folder (loading), what-if copies
with limits changed or rules switched off (overrides), and the quantities a
rule's words state that it does not hold (stated)."""

from .conditions import FACTS
from .loading import bundled_pack_dirs, load_pack
from .model import Citation, PackRef, Period, Rule, RulePack
from .overrides import override_pack

__all__ = [
    "Citation",
    "FACTS",
    "PackRef",
    "Period",
    "Rule",
    "RulePack",
    "bundled_pack_dirs",
    "load_pack",
    "override_pack",
]
