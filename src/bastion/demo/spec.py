"""What the demo street holds: the exact figures of the field reports and the name pools.

The figures are per street; `--scale N` repeats them N times under the same district.
"""

from typing import NamedTuple

SEED = 2022
PASSWORD = "bastion-demo"
# Demo logins carry this e-mail domain, so a reset deletes them and nobody else's login.
LOGIN_EMAIL_DOMAIN = "demo.bastion.invalid"

CITY = ("辽源市", "220400")
DISTRICT = ("东丰县", "220421")
AREA_CODE = "220421"  # the first six digits of every demo ID number
STREET_NAME = "祥鹿街道"


class CommunitySpec(NamedTuple):
    buildings: int
    grids: int
    zones: int  # one of them independent, the rest joint


# 6 communities: 348 buildings, 45 grids, 22 zones (6 independent, 16 joint).
COMMUNITIES = (
    CommunitySpec(62, 8, 4),
    CommunitySpec(55, 7, 4),
    CommunitySpec(60, 8, 3),
    CommunitySpec(58, 8, 4),
    CommunitySpec(57, 7, 4),
    CommunitySpec(56, 7, 3),
)
UNITS = 1324
HOUSEHOLDS = 21_345
# Households of 1..5 persons: 21,345 households holding 39,303 residents, an ageing
# north-eastern town where singles and empty-nest couples dominate.
HOUSEHOLD_SIZES = {1: 8487, 2: 9258, 3: 2400, 4: 900, 5: 300}
RESIDENTS = sum(size * n for size, n in HOUSEHOLD_SIZES.items())
VACANT_BUILDINGS = 33
VACANT_UNITS = 110
LANE_CHIEFS = 3
DEPUTY_COMMANDERS = 93
CADRES = 5317
RESERVE = 3600
# Community staff per community beyond the grid chiefs (one of them is the demo login).
COMMUNITY_STAFF = 4

assert sum(c.buildings for c in COMMUNITIES) == 348
assert sum(c.grids for c in COMMUNITIES) == 45
assert sum(c.zones for c in COMMUNITIES) == 22
assert sum(HOUSEHOLD_SIZES.values()) == HOUSEHOLDS
assert RESIDENTS == 39_303

COMMUNITY_NAMES = (
    "鹿鸣",
    "福康",
    "新华",
    "东兴",
    "龙城",
    "和平",
    "文化",
    "建设",
    "幸福",
    "长安",
    "永安",
    "兴隆",
    "太平",
    "胜利",
    "光明",
    "向阳",
    "朝阳",
    "繁荣",
    "富民",
    "团结",
    "民主",
    "新民",
    "育才",
    "安康",
)
LANES = (
    "鹿鸣路",
    "新华大街",
    "东兴巷",
    "龙城路",
    "和平街",
    "文化巷",
    "建设路",
    "长安街",
    "永安巷",
)
COMPOUND_PREFIXES = (
    "鹿鸣",
    "福康",
    "新华",
    "东兴",
    "龙城",
    "和平",
    "金鼎",
    "阳光",
    "幸福",
    "锦绣",
    "翠湖",
    "丽景",
    "御景",
    "世纪",
    "祥和",
    "康居",
    "电业",
    "粮食",
    "民安",
    "铁路",
    "新城",
    "富丽",
    "书香",
    "鹿乡",
    "滨河",
    "梅河",
    "东盛",
    "兴隆",
    "长安",
    "瑞丰",
    "泰和",
    "永昌",
    "华府",
    "紫荆",
    "银河",
    "盛世",
    "教育",
    "供销",
    "水利",
    "林业",
)
COMPOUND_SUFFIXES = ("小区", "家园", "花园", "名苑", "华庭", "佳苑", "雅居", "新村")

# Employers of the cadres sent down to the street, shared by every demo street.
GOVERNMENT_BODIES = (
    "东丰县人民政府办公室",
    "中共东丰县委组织部",
    "中共东丰县委宣传部",
    "东丰县卫生健康局",
    "东丰县教育局",
    "东丰县公安局",
    "东丰县财政局",
    "东丰县民政局",
    "东丰县住房和城乡建设局",
    "东丰县市场监督管理局",
    "东丰县交通运输局",
    "东丰县自然资源局",
    "东丰县人力资源和社会保障局",
    "东丰县农业农村局",
    "东丰县文化广播电视和旅游局",
    "东丰县应急管理局",
    "东丰县统计局",
    "国家税务总局东丰县税务局",
)
ENTERPRISES = (
    "东丰县人民医院",
    "东丰县中医院",
    "东丰县第一中学",
    "东丰县实验小学",
    "国网东丰县供电公司",
    "中国移动东丰分公司",
    "吉林东丰农村商业银行",
    "东丰县自来水公司",
    "东丰县供热公司",
    "中国邮政集团东丰县分公司",
)
PROPERTY_COMPANIES = (
    "东丰县鹿城物业服务有限公司",
    "东丰县福瑞物业服务有限公司",
    "东丰县恒泰物业管理有限公司",
    "东丰县安居物业服务有限公司",
    "东丰县金鼎物业管理有限公司",
    "东丰县祥和物业服务有限公司",
)
HIGH_RISE_FLOORS = (11, 18, 24, 26, 33)
