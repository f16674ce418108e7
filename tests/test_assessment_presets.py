"""The assessment presets (issue 18) against spec/assessment.md §9 and their documents.

The module is loaded by file path, so these tests need neither Django nor the assessments
package; the documents are read from shared/seeds so that every phrase a test calls the
document's is shown to be in it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
PRESETS_FILE = PROJECT / "assessments" / "presets.py"
SEEDS = PROJECT.parent / "shared" / "seeds"

pytestmark: list = []


@pytest.fixture(autouse=True, scope="module")
def _media_root() -> None:
    """Overrides the project conftest's autouse fixture of this name, which needs
    pytest-django's `settings`: these tests run without Django."""


@pytest.fixture(autouse=True, scope="module")
def _default_language() -> None:
    """Overrides the conftest's language reset, which imports Django: nothing here renders."""


def _load():
    spec = importlib.util.spec_from_file_location("_assessment_presets_under_test", PRESETS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


presets = _load()
PRESETS = presets.PRESETS


def _seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"shared/seeds/{prefix}_*.txt is not beside the project")
    return found[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc004() -> str:
    """篇6 of seed 004, the 作风效能建设工作考评办法(试行) itself, as printed."""
    text = _seed("004")
    start, end = text.index("篇6:"), text.index("篇7:")
    return text[start:end]


@pytest.fixture(scope="module")
def doc004_plain(doc004) -> str:
    """The document with its redaction marks (*** for the place name) removed."""
    return doc004.replace("***", "")


@pytest.fixture(scope="module")
def doc002() -> str:
    return _seed("002")


def _items(config):
    for section in config["sections"]:
        for item in section.get("items", []):
            yield section, item


# ---------------------------------------------------------------------------
# Shape (spec §9), both presets
# ---------------------------------------------------------------------------


def test_the_two_presets():
    assert set(PRESETS) == {"zuofeng", "zhengfeng_zonghe"}
    assert PRESETS["zuofeng"]["mode"] == "deduction"
    assert PRESETS["zhengfeng_zonghe"]["mode"] == "weighted"


def test_module_imports_only_the_standard_library():
    tree = ast.parse(PRESETS_FILE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_configuration_keys(key):
    config = PRESETS[key]
    assert set(config) == {
        "name",
        "year",
        "mode",
        "base",
        "categories",
        "bands",
        "rules",
        "sections",
        "series",
        "description",
    }
    assert config["year"] is None  # set at creation
    assert config["base"] == 100
    assert config["name"] and config["series"]
    # One sentence: a single full stop, at the end.
    assert config["description"].count("。") == 1 and config["description"].endswith("。")
    # Plain JSON: what export_assessment_config writes is what the preset holds.
    assert json.loads(json.dumps(config, ensure_ascii=False)) == config


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_bands_strictly_decreasing_down_to_zero(key):
    bands = PRESETS[key]["bands"]
    minima = [Decimal(str(b["min"])) for b in bands]
    assert all(a > b for a, b in zip(minima, minima[1:], strict=False)), minima
    assert minima[-1] == 0
    labels = [b["label"] for b in bands]
    assert len(set(labels)) == len(labels)
    for band in bands:
        assert set(band) == {"label", "min", "consequence", "rectify"}
        assert isinstance(band["rectify"], bool)
    # The lowest band is the one that asks for rectification.
    assert bands[-1]["rectify"] and bands[-1]["consequence"]


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_rules_and_categories_name_existing_grades(key):
    config = PRESETS[key]
    labels = {b["label"] for b in config["bands"]}
    for rule in config["rules"]:
        assert set(rule) == {"grade", "years", "flag"}
        assert rule["grade"] in labels and rule["years"] >= 2 and rule["flag"]
    names = [c["name"] for c in config["categories"]]
    assert names and len(set(names)) == len(names)
    for category in config["categories"]:
        assert set(category) == {"name", "honoured", "honoured_grade"}
        assert category["honoured"] >= 0
        assert category["honoured_grade"] is None or category["honoured_grade"] in labels


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_sections(key):
    config = PRESETS[key]
    weighted = config["mode"] == "weighted"
    names = [s["name"] for s in config["sections"]]
    assert len(set(names)) == len(names)
    for section in config["sections"]:
        assert section["kind"] in {"items", "score", "survey", "rollup"}
        assert section["source"].strip(), f"{section['name']}: no source office"
        if weighted:
            assert section["max_points"] > 0
        else:
            assert "max_points" not in section
            assert section["kind"] != "score"  # score sections exist in weighted mode only
            assert "cap" in section
        if section["kind"] in {"survey", "rollup"}:
            assert section["measure"] in {"satisfaction", "percent"}
            assert section["threshold"] == 90 and section["per_point"] == 1
            assert section["cap"] is None and section["campaign"] is None
        if section["kind"] == "items":
            assert section["items"]
            item_names = [i["name"] for i in section["items"]]
            assert len(set(item_names)) == len(item_names)
        else:
            assert "items" not in section


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_item_has_points_or_a_range_not_both(key):
    for section, item in _items(PRESETS[key]):
        has_points = "points" in item
        has_range = "min" in item or "max" in item
        assert has_points != has_range, (section["name"], item["name"])
        if has_points:
            assert set(item) == {"name", "points"} and item["points"] > 0
        else:
            assert set(item) == {"name", "min", "max"}
            assert 0 <= item["min"] < item["max"]


def test_weighted_maxima_add_up_to_100():
    weighted = [c for c in PRESETS.values() if c["mode"] == "weighted"]
    assert weighted
    for config in weighted:
        assert sum(Decimal(str(s["max_points"])) for s in config["sections"]) == 100


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_lengths_fit_the_model_fields(key):
    """Limits of assessments/models.py (section name 100, item name 300, source 200,
    consequence 300, band label 20, category name 100), so creation never truncates."""
    config = PRESETS[key]
    for section in config["sections"]:
        assert len(section["name"]) <= 100 and len(section["source"]) <= 200
    for _, item in _items(config):
        assert len(item["name"]) <= 300
    for band in config["bands"]:
        assert len(band["label"]) <= 20 and len(band["consequence"]) <= 300
    for category in config["categories"]:
        assert len(category["name"]) <= 100


def test_preset_config_is_a_copy_with_the_year():
    config = presets.preset_config("zuofeng", 2026)
    assert config["year"] == 2026
    assert PRESETS["zuofeng"]["year"] is None
    config["sections"][0]["items"].clear()
    config["bands"][0]["min"] = 95
    assert PRESETS["zuofeng"]["sections"][0]["items"]
    assert PRESETS["zuofeng"]["bands"][0]["min"] == 90
    assert presets.preset_config("zhengfeng_zonghe")["year"] is None
    with pytest.raises(KeyError, match="unknown assessment preset"):
        presets.preset_config("nope", 2026)


# ---------------------------------------------------------------------------
# zuofeng against document 004
# ---------------------------------------------------------------------------

ZUOFENG = PRESETS["zuofeng"]

# Item names composed where the document's words need the redacted place name or refer
# back to the sentence before; each with the phrases of the document it is built from.
COMPOSED = {
    "未经同意无故缺席党委、人大、政府、政协重要会议及重要活动": [
        "未经同意无故缺席***、人大、***、政协重要会议及重要活动的,每次扣2分"
    ],
    "下属单位人员工作日午餐饮酒、上班时间休闲娱乐(扣主管单位)": [
        "工作日午餐饮酒",
        "下属单位人员,每人次扣主管单位3分",
    ],
}

# A sampling of the document's phrases, each required in both the seed and an item name.
PHRASES = [
    "明确要求落实或重点督查的工作任务,不按时落实",
    "因工作不落实而对全局工作造成不利影响",
    "人大代表、政协委员提案不按时办结反馈",
    "行政审批事项(含各类年检和服务事项)未进入行政服务中心办理",
    "只受理不授权或两头受理",
    "超承诺时限办结",
    "因办理不认真被退回重办",
    "未完成信访积案化解目标任务的,每少5个百分点",
    "参会迟到、早退",
    "歌舞厅等场所休闲娱乐",
    "炒股或从事其他与工作无关的事",
    "机关工作人员不遵守仪表着装规定",
    "非因公购物",
    "被执法执纪部门处理",
    "造成公共事件、出现公共危机或发生群体性事件",
    "因参与黄赌毒或酒后驾车等造成不良影响",
]

# The first deduction the document states after an item's words: 扣4分, 扣单位5分,
# 扣30 分, 扣单位10—20分.
DEDUCTION = re.compile(r"扣(?:单位)?\s*(\d+)(?:—(\d+))?\s*分")


def test_zuofeng_phrases_are_the_documents_words(doc004):
    names = [item["name"] for _, item in _items(ZUOFENG)]
    for phrase in PHRASES:
        assert phrase in doc004, f"not in document 004: {phrase}"
        assert any(phrase in name for name in names), f"no item says: {phrase}"


def test_zuofeng_item_names_and_points_are_the_documents(doc004, doc004_plain):
    """Every item name is the document's words (redaction marks aside), and its points are
    the first deduction the document states after those words."""
    for section, item in _items(ZUOFENG):
        name = item["name"]
        if name in COMPOSED:
            for phrase in COMPOSED[name]:
                assert phrase in doc004, phrase
            continue
        at = doc004_plain.find(name)
        assert at >= 0, f"{section['name']}: not the document's words: {name}"
        match = DEDUCTION.search(doc004_plain, at + len(name))
        assert match is not None, name
        low, high = int(match.group(1)), match.group(2)
        if "points" in item:
            assert high is None and item["points"] == low, (name, match.group(0))
        elif high is not None:  # 视情节轻重 10—20
            assert (item["min"], item["max"]) == (low, int(high)), (name, match.group(0))
        else:  # 扣30 分,每少一项扣除相应分值: up to 30, the share stated per entry
            assert (item["min"], item["max"]) == (0, low), (name, match.group(0))


def test_zuofeng_sections_follow_the_document():
    kinds = [(s["name"], s["kind"]) for s in ZUOFENG["sections"]]
    assert [k for _, k in kinds] == ["items"] * 5 + ["survey", "rollup", "rollup"]
    assert all(s["cap"] is None for s in ZUOFENG["sections"])  # no section maximum stated
    counts = [len(s["items"]) for s in ZUOFENG["sections"] if s["kind"] == "items"]
    # (一) 1 两项 + 2 两项; (二) 三项; (三) 1 三项 + 2 三项; (四) 1 三项 + 2–6 (3 两项);
    # (五) 四项.
    assert counts == [4, 3, 6, 9, 4]
    for section in ZUOFENG["sections"][5:]:
        assert section["measure"] == "satisfaction"


def test_zuofeng_the_30_point_approval_item():
    (section,) = [s for s in ZUOFENG["sections"] if s["name"] == "审批事项进驻行政服务中心"]
    (item,) = [i for i in section["items"] if "未进入行政服务中心办理" in i["name"]]
    assert item["max"] == 30 and item["min"] == 0
    assert section["source"] == "行政服务中心"


def test_zuofeng_ranges_10_to_20():
    ranged = [(s["name"], i) for s, i in _items(ZUOFENG) if "min" in i and i["max"] != 30]
    assert len(ranged) == 2
    for section_name, item in ranged:
        assert section_name == "行政不作为、乱作为"
        assert (item["min"], item["max"]) == (10, 20)
    assert any("被执法执纪部门处理" in i["name"] for _, i in ranged)
    assert any("群体性事件" in i["name"] for _, i in ranged)


def test_zuofeng_sources_are_named_by_the_document(doc004_plain):
    for section in ZUOFENG["sections"]:
        for office in re.split(r"、|及", section["source"]):
            office = office.removeprefix("党委").removeprefix("政府")  # the redacted ***
            assert office in doc004_plain, (section["name"], office)


def test_zuofeng_grades_and_rules(doc004):
    assert [(b["label"], b["min"]) for b in ZUOFENG["bands"]] == [
        ("优秀", 90),
        ("良好", 80),
        ("合格", 60),
        ("不合格", 0),
    ]
    # The document's lines; the integer ranges' gaps (89.5) are read as minima (spec §3).
    for words in ["90—100分为优秀", "80—89分为良好", "60—79为合格", "59分以下为不合格"]:
        assert words in doc004
    failing = ZUOFENG["bands"][-1]
    assert failing["rectify"] and not any(b["rectify"] for b in ZUOFENG["bands"][:-1])
    for words in ["通报批评", "诫勉谈话", "评先评优资格", "限期整改"]:
        assert words in failing["consequence"] and words in doc004
    assert "通报表彰" in ZUOFENG["bands"][0]["consequence"]
    assert ZUOFENG["rules"] == [
        {"grade": "优秀", "years": 2, "flag": "title"},
        {"grade": "不合格", "years": 2, "flag": "accountability"},
    ]
    assert "连续两年被评为优秀的单位" in doc004 and "连续两年被评为不合格的单位" in doc004
    (category,) = ZUOFENG["categories"]
    assert category["honoured"] == 0 and category["honoured_grade"] is None


# ---------------------------------------------------------------------------
# zhengfeng_zonghe against document 002 (printed in traditional characters)
# ---------------------------------------------------------------------------

ZONGHE = PRESETS["zhengfeng_zonghe"]

# Simplified -> traditional, only for the characters of the names checked below.
TRADITIONAL = str.maketrans(
    "问测评众满议风热线综点队岗层单题实践动组织领导报门机构务业绩优",
    "問測評眾滿議風熱線綜點隊崗層單題實踐動組織領導報門機構務業績優",
)


def test_zonghe_the_seven_components_of_the_document(doc002):
    names = [s["name"] for s in ZONGHE["sections"]]
    assert names == [
        "问卷测评群众满意度",
        "评议代表测评",
        "政风行风热线综合考核",
        "重点科(室、队)和重点岗位评议",
        "基层站所和窗口单位评议",
        "主题实践活动成效",
        "组织领导和材料报送",
    ]
    sentence = doc002[doc002.index("2.綜合考核。") :]
    sentence = sentence[: sentence.index("。", len("2.綜合考核。"))]
    for name in names:
        # The document lists the last one as "組織領導、材料報送".
        for part in name.split("和") if name == "组织领导和材料报送" else [name]:
            assert part.translate(TRADITIONAL) in sentence, part
    kinds = {s["name"]: s["kind"] for s in ZONGHE["sections"]}
    assert kinds["问卷测评群众满意度"] == "survey"
    assert kinds["重点科(室、队)和重点岗位评议"] == "rollup"
    assert kinds["基层站所和窗口单位评议"] == "rollup"
    assert [n for n, k in kinds.items() if k == "score"] == [
        "评议代表测评",
        "政风行风热线综合考核",
        "主题实践活动成效",
        "组织领导和材料报送",
    ]
    assert ZONGHE["sections"][0]["measure"] == "satisfaction"
    assert "确认" in ZONGHE["description"]  # the maxima are placeholders


def test_zonghe_categories_and_honours_of_the_document(doc002):
    use = doc002[doc002.index("五、評議結果的運用") :]
    use = use[: use.index("\n", len("五、評議結果的運用") + 1)]
    assert [(c["name"], c["honoured"], c["honoured_grade"]) for c in ZONGHE["categories"]] == [
        ("政府部门及其它机构", 20, "优"),
        ("公共服务行业", 10, "优"),
    ]
    for category in ZONGHE["categories"]:
        match = re.search(
            re.escape(category["name"].translate(TRADITIONAL)) + r"[^,;]*?前(\d+)名", use
        )
        assert match is not None and int(match.group(1)) == category["honoured"]
    assert "綜合考核評為優" in use  # 评为优秀等级的…前20名: the honour needs the top grade


def test_zonghe_grades_and_rules(doc002):
    assert [(b["label"], b["min"]) for b in ZONGHE["bands"]] == [
        ("优", 90),
        ("良", 80),
        ("中", 60),
        ("差", 0),
    ]
    worst = ZONGHE["bands"][-1]
    assert "通报批评" in worst["consequence"] and "诫勉谈话" in worst["consequence"]
    assert "給予通報批評,對其領導班子誡勉談話" in doc002
    assert "先进单位" in ZONGHE["bands"][0]["consequence"]
    assert ZONGHE["rules"] == [{"grade": "差", "years": 2, "flag": "accountability"}]
    assert "被評為“差”等級者建議組織部門對其領導班子進行調整" in doc002
