"""The call-list file format: column headers and drug-category words in Chinese and English.

Like the resident ledger (`bastion.ledgers.columns`), headers and cell words are part of the
file format offices exchange, so both languages are accepted whatever the UI language; columns
and header matching are the shared ones of `bastion.core.sheets.columns`.
"""

from django.utils.translation import gettext_lazy as _

from bastion.core.sheets.columns import Column, header_index, header_key

CALL_COLUMNS: tuple[Column, ...] = (
    Column(
        "name", "姓名", "Name", True, _("Full name."), "张三", ("购药人", "购药人姓名", "人员姓名")
    ),
    Column(
        "id_number",
        "身份证号",
        "ID number",
        False,
        _(
            "18-character resident ID number. Give an ID number, a mobile number or an "
            "address on every row."
        ),
        "220421198503150010",
        ("身份证号码", "公民身份号码", "证件号码", "身份证", "id", "id no", "id card"),
    ),
    Column(
        "phone",
        "手机号",
        "Mobile",
        False,
        _("11-digit mainland mobile number."),
        "13800138000",
        ("手机号码", "联系电话", "电话", "phone", "mobile number", "phone number"),
    ),
    Column(
        "address",
        "地址",
        "Address",
        False,
        _("Building, unit and room as written in Bastion, e.g. 3号楼2单元301."),
        "3号楼2单元301",
        ("住址", "居住地址", "现住址", "家庭住址"),
    ),
    Column(
        "drug_category",
        "药品类别",
        "Drug category",
        False,
        _("Pharmacy lists: 退烧 (fever), 抗病毒 (antiviral) or 抗生素 (antibiotic)."),
        "退烧",
        ("药品类型", "购药类别", "类别", "drug", "category"),
    ),
    Column(
        "event_at",
        "时间",
        "Time",
        False,
        _("When the drug was bought, or the person arrived or was in contact: 2022-04-01 10:30."),
        "2022-04-01 10:30",
        ("购药时间", "到达时间", "返回时间", "接触时间", "日期", "date", "time"),
    ),
    Column(
        "place",
        "地点",
        "Place",
        False,
        _("The pharmacy, or where the person came from."),
        "益丰大药房",
        ("药店", "药店名称", "购药药店", "来源地", "来自", "pharmacy", "from"),
    ),
    Column("note", "备注", "Note", False, "", "", ("说明",)),
)

CALL_HEADER_INDEX: dict[str, str] = header_index(CALL_COLUMNS)

DRUG_WORDS: dict[str, str] = {
    header_key(word): code
    for code, words in {
        "fever": ("fever", "退烧", "退烧药", "退热", "退热药", "发热", "解热镇痛", "fever reducer"),
        "antiviral": ("antiviral", "抗病毒", "抗病毒药", "抗病毒类"),
        "antibiotic": ("antibiotic", "抗生素", "抗生素类", "抗菌", "抗菌药", "消炎药"),
    }.items()
    for word in words
}
