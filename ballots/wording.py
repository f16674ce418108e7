"""What the ballot pages call the subjects they list (issue 17, "wording follows the kind").

A campaign of units only keeps the wording it always had ("共 66 个单位", "被评单位"); as soon
as one subject is of another kind (a 领导班子, a 领导干部, a 科室…) the pages say 评议对象 in
their sentences, the kind's own noun in column heads (campaigns.subjects.subject_noun) and
count by kind ("共 3 名领导干部、1 个领导班子"), never "单位" for a person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from campaigns.models import SubjectKind
from campaigns.subjects import count_subjects, subject_noun


@dataclass(frozen=True)
class SubjectWords:
    # Units only: the templates keep today's sentences word for word.
    plain: bool
    # A column head: 被评单位 (units only), the one kind's noun, or 评议对象 when mixed.
    head: str
    # "共 3 名领导干部、1 个领导班子".
    count: str


def subject_words(kinds: Iterable[str]) -> SubjectWords:
    listed = list(kinds)
    plain = all(k == SubjectKind.UNIT.value for k in listed)
    return SubjectWords(
        plain=plain,
        head=_("被评单位") if plain else subject_noun(listed),
        count=count_subjects(listed),
    )
