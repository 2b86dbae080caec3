"""The ledger format: column headers and cell vocabularies in Chinese and English.

Headers and cell values are part of the file format that offices exchange, not UI text, so both
languages are spelled out here (and both are accepted on import whatever the UI language); the
explanations shown in the template go through gettext like any other UI string. What a column
is and how headers compare is shared by every format (`bastion.core.sheets.columns`).
"""

from django.utils.translation import gettext_lazy as _

from bastion.core.sheets.columns import Column, header_index, header_key
from bastion.geo.services import RESIDENT_FLAGS

FLAG_KEYS = RESIDENT_FLAGS  # the yes/no columns: geo's one list of a resident's flags

RESIDENT_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", True, _("Full name as on the ID card."), "张三"),
    Column(
        "id_number",
        "身份证号",
        "ID number",
        False,
        _(
            "18-character resident ID number; the last character may be X. Format the column "
            "as text, or Excel keeps only 15 digits. Required unless another document kind is "
            "given."
        ),
        "220421198503150010",
        ("身份证号码", "公民身份号码", "证件号码", "身份证", "id", "id no", "id card"),
    ),
    Column(
        "phone",
        "手机号",
        "Mobile",
        False,
        _("11-digit mainland mobile number. May be left blank."),
        "13800138000",
        ("手机号码", "联系电话", "电话", "phone", "mobile number", "phone number"),
    ),
    Column(
        "relation",
        "与户主关系",
        "Relation to head",
        False,
        _(
            "One of: 户主, 配偶, 子女, 父母, 孙子女, 祖父母, 兄弟姐妹, 其他. Blank means head of "
            "household."
        ),
        "户主",
        ("关系", "relation", "relationship"),
    ),
    Column(
        "community",
        "社区",
        "Community",
        True,
        _("Name (or code) of the community, as in Bastion's tree."),
        "幸福社区",
        ("所属社区", "社区(村)", "村"),
    ),
    Column(
        "grid",
        "网格",
        "Grid",
        True,
        _("Name (or code) of the grid inside that community."),
        "第一网格",
        ("所属网格",),
    ),
    Column(
        "building",
        "楼栋",
        "Building",
        True,
        _("Name (or code) of the building inside that grid, e.g. 3号楼 or 3."),
        "1号楼",
        ("楼号", "楼栋号", "楼栋名称"),
    ),
    Column(
        "unit",
        "单元",
        "Unit",
        True,
        _("Name (or code) of the unit (stairwell) inside that building, e.g. 2单元 or 2."),
        "1单元",
        ("单元号",),
    ),
    Column(
        "room",
        "房号",
        "Room",
        True,
        _("Room number. A room not yet in the unit is created as a new household."),
        "101",
        ("房间号", "门牌号", "室", "room number"),
    ),
    Column(
        "floor",
        "楼层",
        "Floor",
        False,
        _("Floor of the room, -5 to 200. Needed when the room is new."),
        "1",
        ("层", "所在楼层"),
    ),
    Column(
        "presence",
        "在住状态",
        "Presence",
        False,
        _("One of: 在家, 外出, 迁出. Blank means at home."),
        "在家",
        ("居住状态", "在家状态", "status"),
    ),
    Column(
        "immobile",
        "行动不便",
        "Immobile",
        False,
        _("是 or 否 (blank means 否)."),
        "否",
        ("行动不便人员",),
    ),
    Column(
        "disabled", "残疾", "Disabled", False, _("是 or 否 (blank means 否)."), "否", ("残疾人",)
    ),
    Column(
        "chronic_illness",
        "慢性病",
        "Chronic illness",
        False,
        _("是 or 否 (blank means 否)."),
        "否",
        ("慢性病患者", "基础病"),
    ),
    Column("pregnant", "孕妇", "Pregnant", False, _("是 or 否 (blank means 否)."), "否", ()),
    Column("infant", "婴幼儿", "Infant", False, _("是 or 否 (blank means 否)."), "否", ()),
    Column(
        "doc_kind",
        "证件类型",
        "Document kind",
        False,
        _(
            "One of: 居民身份证, 港澳台居民居住证, 外国人永久居留身份证, 中国护照, 外国护照, "
            "港澳居民来往内地通行证, 台湾居民来往大陆通行证, 无证件 (a child under a guardian). "
            "Blank means 居民身份证."
        ),
        "居民身份证",
        ("证件种类", "document type"),
    ),
    Column(
        "doc_number",
        "其他证件号码",
        "Document number",
        False,
        _("Number of the document when it is not the ID card. Format the column as text."),
        "",
        ("证件号", "护照号码", "通行证号码", "document no"),
    ),
    Column(
        "sex",
        "性别",
        "Sex",
        False,
        _("男 or 女. Needed when the document does not carry it (passports, permits)."),
        "",
        ("sex",),
    ),
    Column(
        "birth_date",
        "出生日期",
        "Birth date",
        False,
        _("YYYY-MM-DD. Needed when the document does not carry it (passports, permits)."),
        "",
        ("出生年月日", "date of birth"),
    ),
    Column(
        "guardian",
        "监护人",
        "Guardian",
        False,
        _(
            "For a child: the name of the guardian, a resident of the same room (in this file "
            "or already registered). Required with 无证件."
        ),
        "",
        ("监护人姓名",),
    ),
    Column(
        "no_phone",
        "无手机",
        "No phone",
        False,
        _("是 when the resident has no phone (the mobile stays blank); blank means 否."),
        "否",
        ("没有手机", "无手机号"),
    ),
    Column(
        "registered_address",
        "户籍地址",
        "Registered address",
        False,
        _("Where the resident's household registration (hukou) is, when not here. Blank: here."),
        "",
        ("户籍地", "户口所在地", "户籍所在地", "hukou"),
    ),
)
RESIDENT_COLUMN = {c.key: c for c in RESIDENT_COLUMNS}

# Extra columns of the residents export (ignored when the export is imported again).
EXPORT_EXTRA_COLUMNS: tuple[Column, ...] = (Column("aged", "60岁以上", "Aged 60+"),)

DOC_KINDS: dict[str, tuple[str, str]] = {
    "id_card": ("居民身份证", "Resident ID card"),
    "hmt_residence": ("港澳台居民居住证", "HK/Macao/Taiwan residence permit"),
    "pr_card": ("外国人永久居留身份证", "Permanent residence card"),
    "passport_cn": ("中国护照", "Chinese passport"),
    "passport": ("外国护照", "Foreign passport"),
    "hk_macao_permit": ("港澳居民来往内地通行证", "Hong Kong/Macao travel permit"),
    "taiwan_permit": ("台湾居民来往大陆通行证", "Taiwan travel permit"),
    "none": ("无证件", "None"),
}
DOC_KIND_SYNONYMS = {
    "身份证": "id_card",
    "居住证": "hmt_residence",
    "港澳居民居住证": "hmt_residence",
    "台湾居民居住证": "hmt_residence",
    "永居证": "pr_card",
    "外国人永久居留证": "pr_card",
    "回乡证": "hk_macao_permit",
    "港澳通行证": "hk_macao_permit",
    "台胞证": "taiwan_permit",
    "护照": "passport",
    "无": "none",
}

POST_COLUMNS: tuple[Column, ...] = (
    Column("person", "姓名", "Name"),
    Column("role", "职务", "Post"),
    Column("title", "职务说明", "Title"),
    Column("path", "所在位置", "Place"),
    Column("zone", "指挥区", "Command zone"),
    Column("phone", "手机号", "Mobile"),
    Column("started_on", "任职日期", "Since"),
)

ERROR_COLUMNS: tuple[Column, ...] = (
    Column("row", "行号", "Row"),
    Column("column", "列", "Column"),
    Column("message", "问题", "Problem"),
)

RELATIONS: dict[str, tuple[str, str]] = {
    "head": ("户主", "Head of household"),
    "spouse": ("配偶", "Spouse"),
    "child": ("子女", "Child"),
    "parent": ("父母", "Parent"),
    "grandchild": ("孙子女", "Grandchild"),
    "grandparent": ("祖父母", "Grandparent"),
    "sibling": ("兄弟姐妹", "Sibling"),
    "other": ("其他", "Other"),
}
RELATION_SYNONYMS = {
    "本人": "head",
    "户主本人": "head",
    "妻子": "spouse",
    "丈夫": "spouse",
    "妻": "spouse",
    "夫": "spouse",
    "儿子": "child",
    "女儿": "child",
    "子": "child",
    "女": "child",
    "长子": "child",
    "次子": "child",
    "长女": "child",
    "次女": "child",
    "儿媳": "other",
    "女婿": "other",
    "父亲": "parent",
    "母亲": "parent",
    "孙子": "grandchild",
    "孙女": "grandchild",
    "外孙": "grandchild",
    "外孙女": "grandchild",
    "祖父": "grandparent",
    "祖母": "grandparent",
    "外祖父": "grandparent",
    "外祖母": "grandparent",
    "哥哥": "sibling",
    "弟弟": "sibling",
    "姐姐": "sibling",
    "妹妹": "sibling",
    "兄弟": "sibling",
    "姐妹": "sibling",
}
PRESENCES: dict[str, tuple[str, str]] = {
    "home": ("在家", "At home"),
    "away": ("外出", "Away"),
    "moved_out": ("迁出", "Moved out"),
}
PRESENCE_SYNONYMS = {"在住": "home", "居住": "home", "常住": "home", "moved out": "moved_out"}
SEXES: dict[str, tuple[str, str]] = {"M": ("男", "Male"), "F": ("女", "Female")}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
FALSE_WORDS = {"", "否", "n", "no", "false", "0", "×", "无", "-"}


HEADER_INDEX = header_index(RESIDENT_COLUMNS)


def _value_index(values: dict[str, tuple[str, str]], synonyms: dict[str, str]) -> dict[str, str]:
    index = {header_key(s): code for s, code in synonyms.items()}
    for code, (zh, en) in values.items():
        for text in (code, zh, en):
            index[header_key(text)] = code
    return index


RELATION_INDEX = _value_index(RELATIONS, RELATION_SYNONYMS)
PRESENCE_INDEX = _value_index(PRESENCES, PRESENCE_SYNONYMS)
DOC_KIND_INDEX = _value_index(DOC_KINDS, DOC_KIND_SYNONYMS)
SEX_INDEX = _value_index(SEXES, {"男性": "M", "女性": "F"})


def column_header(field: str | None, language: str | None = None) -> str:
    """The header naming a problem's field, for error tables."""
    if not field:
        return ""
    column = RESIDENT_COLUMN.get(field)
    return column.header(language) if column else field
