"""甄别审核: the policy limits of document 003 二(二)2 as checks. Each check that applies to an
activity flags it for cancellation (撤销), with the reason in the document's words, for the
reviewers to see beside the activity; the reviewers decide. Pure: it reads the activity's
fields only (a model instance or anything with the same attributes), writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from registry.models import LEGAL_BASES, BasisKind, Level, System

# 003 二(二)2(3): 市级及市以下党委、人大、政协和人民法院、人民检察院 …
OWN_SETTING_SYSTEMS = (System.PARTY, System.CONGRESS, System.CPPCC, System.COURT,
                       System.PROCURATORATE)
CHECKS = ("no_basis", "basis_undocumented", "burden", "improper_payments", "self_established")


@dataclass(frozen=True)
class Flag:
    code: str
    reason: str

    @property
    def clause(self) -> str:
        return {"no_basis": "二(二)2(2)", "basis_undocumented": "二(二)2(1)",
                "burden": "二(二)2(2)", "improper_payments": "二(二)2(2)",
                "self_established": "二(二)2(3)"}[self.code]


def screening_flags(activity: Any) -> list[Flag]:
    """The flags of one activity, in the order of CHECKS (empty: nothing in 003 stands against
    keeping it; the reviewers still judge 不符合实际需要)."""
    flags: list[Flag] = []
    legal = activity.basis_kind in LEGAL_BASES
    if not legal:
        flags.append(Flag("no_basis", _(
            "依据为“%(b)s”:没有法律、行政法规、中央文件明确规定,也未经中央、省批准,应予撤销")
            % {"b": BasisKind(activity.basis_kind).label}))
    elif not (activity.basis_document or "").strip():
        flags.append(Flag("basis_undocumented", _(
            "填报的依据类别为“%(b)s”,但没有写明依据文件及文号;确需保留的项目须提供依据")
            % {"b": BasisKind(activity.basis_kind).label}))
    burdens = []
    if activity.charges_fees:
        burdens.append(_("以各种名目收费"))
    if activity.asks_contributions:
        burdens.append(_("要求基层、企业、群众出钱出物出工"))
    if burdens:
        flags.append(Flag("burden", _("%(what)s,应予撤销") % {"what": "、".join(burdens)}))
    if activity.improper_payments:
        flags.append(Flag("improper_payments",
                          _("以开展活动为由违反有关财经制度滥发钱物,应予撤销")))
    if (activity.system in OWN_SETTING_SYSTEMS and activity.level in (Level.CITY, Level.BELOW)
            and not legal):
        flags.append(Flag("self_established", _(
            "市级及市以下%(s)s不再保留自行设置的评比达标表彰项目")
            % {"s": System(activity.system).label}))
    return flags
