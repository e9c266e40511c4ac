"""Demo data for ``manage.py seed_demo``: a made-up county-level city in Fujian, 青溪市.

Everything here is fixed data or derived from a seeded random generator, so every run produces the same
city, the same trades, the same people. Numbers follow the real formats:

- Area codes are 12 digits (GB/T 2260 county + 3-digit town + 3-digit village). 青溪市's county code
  ``350186`` is made up (no real county has it), so the city cannot be mistaken for a real one.
- Resident ID numbers (GB 11643) carry a real region code, so demo people were "born" in real nearby
  counties (闽侯县, 福清市, 浙江桐庐/淳安…), as many workers are. 福清市's code 350181 dates from 1990, when
  the county became a city; people born before then carry it too (their IDs were re-issued), as here.
- Unified Social Credit Codes (GB 32100) carry a correct organisation-code check (GB 11714) and a correct
  final check character.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from dataclasses import dataclass, field
from decimal import Decimal

from stdnum.cn import uscc

from accounts.validators import id_check_digit, normalize_id_number

CITY = "青溪市"
COUNTY_CODE = "350186"
CENTER = (Decimal("26.451200"), Decimal("118.203400"))

# ------------------------------------------------------------------------------------- "1+17+N" map


@dataclass(frozen=True)
class Town:
    code: str  # 3 digits: 001–099 街道, 100–199 镇, 200–299 乡
    name: str
    villages: tuple[str, ...]
    offset: tuple[float, float]  # degrees from the city centre (lat, lng)


TOWNS: tuple[Town, ...] = (
    Town("001", "城关街道", ("中山社区", "水南社区", "解放社区"), (0.004, -0.006)),
    Town("002", "溪东街道", ("东门社区", "滨江社区", "新桥社区"), (0.012, 0.021)),
    Town("003", "溪西街道", ("西门社区", "下洋社区"), (-0.008, -0.027)),
    Town("004", "南湖街道", ("南湖社区", "湖滨社区", "工业园社区"), (-0.031, 0.006)),
    Town("005", "凤山街道", ("凤山社区", "玉屏社区"), (0.028, -0.012)),
    Town("101", "白沙镇", ("白沙村", "上坪村", "溪口村", "坑头村"), (0.094, 0.061)),
    Town("102", "竹溪镇", ("竹溪村", "后洋村", "新厝村"), (-0.072, 0.113)),
    Town("103", "安仁镇", ("安仁村", "下坂村", "岭头村"), (0.131, -0.052)),
    Town("104", "高桥镇", ("高桥村", "洋中村", "墩头村"), (-0.118, -0.094)),
    Town("105", "石门镇", ("石门村", "枫林村", "上洋村", "湖头村"), (0.057, -0.143)),
    Town("106", "龙泉镇", ("龙泉村", "岭下村", "黄厝村"), (-0.151, 0.041)),
    Town("107", "桃源镇", ("桃源村", "后山村", "大埔村"), (0.176, 0.087)),
    Town("108", "黄坑镇", ("黄坑村", "坪地村"), (-0.043, 0.168)),
    Town("109", "梅林镇", ("梅林村", "南坑村", "溪尾村"), (0.102, 0.152)),
    Town("201", "万安乡", ("万安村", "坑口村"), (-0.187, -0.031)),
    Town("202", "洋口乡", ("洋口村", "上际村", "山门村"), (0.213, -0.118)),
    Town("203", "大田乡", ("大田村", "茶园村"), (-0.092, -0.176)),
)


# The city's three districts (区县), each a made-up code like the city's: the hall's charts compare them.
# The towns keep their area codes (under the city's prefix) whichever district they belong to, so a demo
# database seeded before the split is re-parented in place.
@dataclass(frozen=True)
class District:
    code: str  # 12 digits
    name: str
    towns: tuple[str, ...]  # Town.code


DISTRICTS: tuple[District, ...] = (
    District(f"{COUNTY_CODE}000000", "溪城区", ("001", "002", "003", "004", "005")),
    District("350187000000", "东溪区", ("101", "102", "103", "107", "109", "202")),
    District("350188000000", "西山县", ("104", "105", "106", "108", "201", "203")),
)


def district_of_town(town: Town) -> District:
    return next(d for d in DISTRICTS if town.code in d.towns)


# Days of history the demo city has (daily supply/demand snapshots for the dashboard's trends).
HISTORY_DAYS = 90
# Finished, paid orders in that history: one every HISTORY_DEAL_EVERY days (30 in 90 days, the districts
# in turn), and a closed wage case on every HISTORY_CASE_EVERY-th of them. Each post's title starts with
# HISTORY_TITLE_PREFIX and carries its date (how a later run finds the days it already has).
HISTORY_DEAL_EVERY = 3
HISTORY_CASE_EVERY = 10
HISTORY_TITLE_PREFIX = "【往期】"


@dataclass(frozen=True)
class HistoryWorker:
    phone: str  # a verified SeekerSpec
    trade: str  # one they want, without a certificate
    pay_fen: int  # a day


HISTORY_WORKERS: tuple[HistoryWorker, ...] = (
    HistoryWorker("13600000101", "保洁", 18000),
    HistoryWorker("13600000102", "搬运", 22000),
    HistoryWorker("13600000104", "茶叶采摘", 16000),
    HistoryWorker("13600000117", "洗碗工", 15000),
    HistoryWorker("13600000119", "茶叶采摘", 16000),
    HistoryWorker("13600000109", "礼仪/活动执行", 20000),
)

DISTRICT_MARKET = "青溪市零工市场"
DISTRICT_ADDRESS = "青溪市城关街道人民路88号人力资源市场一楼"


def town_area_code(town: Town) -> str:
    return f"{COUNTY_CODE}{town.code}000"


def village_area_code(town: Town, index: int) -> str:
    # 社区 (urban communities) are numbered from 001, 村 (villages) from 200, as in real codes.
    base = 1 if town.code < "100" else 200
    return f"{COUNTY_CODE}{town.code}{base + index:03d}"


def village_offset(town: Town, index: int) -> tuple[float, float]:
    rng = random.Random(f"village:{town.code}:{index}")  # noqa: S311 - reproducible demo data, not secrets
    return (town.offset[0] + rng.uniform(-0.02, 0.02), town.offset[1] + rng.uniform(-0.02, 0.02))


def coord(offset: tuple[float, float]) -> tuple[Decimal, Decimal]:
    lat = CENTER[0] + Decimal(str(round(offset[0], 6)))
    lng = CENTER[1] + Decimal(str(round(offset[1], 6)))
    return lat.quantize(Decimal("0.000001")), lng.quantize(Decimal("0.000001"))


def station_name(town: Town, village: str) -> str:
    return f"{town.name}{village}零工驿站"


def market_name(town: Town) -> str:
    return f"{CITY}{town.name}零工市场"


# ------------------------------------------------------------------------------ certificates, trades


@dataclass(frozen=True)
class CertType:
    code: str
    name: str
    issuer: str


CERTIFICATE_TYPES: tuple[CertType, ...] = (
    CertType("welding", "特种作业操作证（焊接与热切割作业）", "应急管理局"),
    CertType("electrician", "特种作业操作证（电工作业）", "应急管理局"),
    CertType("work-at-height", "特种作业操作证（高处作业）", "应急管理局"),
    CertType("refrigeration", "特种作业操作证（制冷与空调作业）", "应急管理局"),
    CertType("forklift", "特种设备作业人员证（N1叉车司机）", "市场监督管理局"),
    CertType("driving-licence", "机动车驾驶证", "公安局交通警察支队"),
    CertType("health", "健康证明（从业人员）", "疾病预防控制中心"),
    CertType("elderly-care", "养老护理员职业技能等级证书", "人力资源和社会保障局"),
)


@dataclass(frozen=True)
class TradeSpec:
    name: str
    category: str
    risk_class: int
    certificate: str | None  # CertType.code for restricted trades (限制性工种)
    pay_unit: str
    pay_range: tuple[int, int]  # yuan per unit, what seekers usually ask
    skills: tuple[str, ...] = field(default_factory=tuple)


C, H, L, A, F, M, T, K, S, E = (
    "construction",
    "housekeeping",
    "logistics",
    "agriculture",
    "catering",
    "manufacturing",
    "transport",
    "care",
    "services",
    "education",
)

TRADES: tuple[TradeSpec, ...] = (
    TradeSpec("保洁", H, 2, None, "hour", (25, 40), ("日常保洁", "擦玻璃", "厨房清洁")),
    TradeSpec("开荒保洁", H, 3, None, "day", (180, 260), ("新房开荒", "除胶除漆", "地面打蜡")),
    TradeSpec("钟点工", H, 2, None, "hour", (25, 35), ("做饭", "洗衣熨烫", "日常保洁")),
    TradeSpec("保姆", H, 2, None, "day", (150, 220), ("做饭", "照看老人", "家务整理")),
    TradeSpec("月嫂", H, 2, None, "day", (300, 450), ("新生儿护理", "产妇护理", "月子餐")),
    TradeSpec("育儿嫂", H, 2, None, "day", (200, 300), ("婴幼儿护理", "辅食制作", "早教陪伴")),
    TradeSpec("护工/陪护", K, 2, None, "day", (200, 300), ("医院陪护", "翻身擦洗", "喂饭喂药")),
    TradeSpec("养老护理", K, 2, None, "day", (180, 260), ("失能照护", "康复陪练", "助浴")),
    TradeSpec("瓦工", C, 4, None, "day", (300, 400), ("贴砖", "砌墙", "抹灰")),
    TradeSpec("木工", C, 4, None, "day", (300, 400), ("吊顶", "门窗安装", "模板支护")),
    TradeSpec("电焊工", C, 5, "welding", "day", (350, 450), ("氩弧焊", "二保焊", "钢结构焊接")),
    TradeSpec("电工", C, 5, "electrician", "day", (300, 420), ("强电布线", "配电箱安装", "故障排查")),
    TradeSpec("水电安装", C, 4, None, "day", (280, 380), ("水管布管", "开槽", "灯具安装")),
    TradeSpec("油漆工", C, 4, None, "day", (280, 360), ("刷乳胶漆", "刮腻子", "木器漆")),
    TradeSpec("钢筋工", C, 5, None, "day", (320, 420), ("钢筋绑扎", "钢筋下料")),
    TradeSpec("架子工", C, 6, "work-at-height", "day", (350, 450), ("脚手架搭设", "拆除")),
    TradeSpec("高空作业", C, 6, "work-at-height", "day", (400, 550), ("吊篮作业", "高空安装")),
    TradeSpec("外墙清洗", S, 6, "work-at-height", "day", (350, 500), ("蜘蛛人清洗", "玻璃幕墙清洗")),
    TradeSpec("防水工", C, 4, None, "day", (280, 380), ("卫生间防水", "屋面防水")),
    TradeSpec("建筑小工", C, 4, None, "day", (200, 280), ("搬砖运料", "拌砂浆", "清理场地")),
    TradeSpec("空调安装维修", S, 5, "refrigeration", "piece", (80, 200), ("空调安装", "加氟", "移机")),
    TradeSpec("家电维修", S, 3, None, "piece", (50, 150), ("洗衣机维修", "热水器维修", "冰箱维修")),
    TradeSpec("管道疏通", S, 3, None, "piece", (80, 200), ("下水道疏通", "马桶疏通", "化粪池清理")),
    TradeSpec("搬家", L, 4, None, "job", (300, 800), ("家具拆装", "打包", "搬运")),
    TradeSpec("搬运", L, 4, None, "hour", (30, 50), ("人力搬运", "上楼搬运")),
    TradeSpec("装卸工", L, 4, None, "hour", (30, 45), ("货车装卸", "集装箱卸货")),
    TradeSpec("快递分拣", L, 3, None, "hour", (20, 28), ("包裹分拣", "扫码录入")),
    TradeSpec("仓库理货", L, 3, None, "day", (150, 200), ("盘点", "上架", "出入库登记")),
    TradeSpec("叉车工", L, 5, "forklift", "day", (250, 330), ("叉车驾驶", "堆垛")),
    TradeSpec("外卖配送", T, 4, None, "piece", (5, 9), ("电动车驾驶", "熟悉城区道路")),
    TradeSpec("司机", T, 4, "driving-licence", "day", (250, 350), ("C1驾照", "商务接送", "货车驾驶")),
    TradeSpec("水果采摘", A, 3, None, "day", (120, 180), ("柑橘采摘", "果园套袋", "分拣装箱")),
    TradeSpec("茶叶采摘", A, 2, None, "day", (120, 200), ("手工采茶", "摊青")),
    TradeSpec("农田帮工", A, 3, None, "day", (130, 180), ("插秧", "收割", "喷药")),
    TradeSpec("绿化养护", A, 3, None, "day", (150, 200), ("浇水施肥", "草坪修剪", "病虫害防治")),
    TradeSpec("园林修剪", A, 4, None, "day", (180, 260), ("绿篱修剪", "果树修剪", "油锯操作")),
    TradeSpec("服务员", F, 2, None, "hour", (18, 25), ("点菜", "传菜", "宴席服务")),
    TradeSpec("厨师帮工", F, 3, None, "day", (150, 220), ("切配", "打荷", "面点")),
    TradeSpec("洗碗工", F, 2, None, "hour", (16, 22), ("洗碗", "厨房清洁")),
    TradeSpec("普工", M, 3, None, "hour", (18, 25), ("流水线作业", "包装", "简单质检")),
    TradeSpec("缝纫工", M, 2, None, "piece", (1, 3), ("平车", "锁边", "服装整烫")),
    TradeSpec("包装工", M, 2, None, "hour", (17, 23), ("打包", "贴标", "装箱")),
    TradeSpec("保安", S, 3, None, "day", (130, 180), ("门岗", "巡逻", "活动安保")),
    TradeSpec("促销员", S, 1, None, "day", (120, 180), ("商超促销", "试吃推广")),
    TradeSpec("礼仪/活动执行", S, 1, None, "day", (150, 300), ("会场布置", "迎宾", "签到引导")),
    TradeSpec("收银员", S, 1, None, "hour", (18, 24), ("收银", "理货")),
    TradeSpec("数据标注", S, 1, None, "piece", (1, 2), ("图片标注", "语音转写")),
    TradeSpec("家教", E, 1, None, "class_hour", (80, 200), ("小学数学", "初中英语", "作业辅导")),
    TradeSpec("托管辅导", E, 1, None, "day", (120, 180), ("接送孩子", "作业辅导")),
)

# ------------------------------------------------------------------------------------ people, codes

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余叶廖"
GIVEN = [
    "秀英",
    "桂英",
    "秀兰",
    "玉兰",
    "春花",
    "美华",
    "丽娟",
    "金凤",
    "素珍",
    "月娥",
    "淑芬",
    "海燕",
    "建华",
    "建国",
    "志强",
    "国平",
    "德明",
    "永福",
    "水生",
    "长根",
    "家豪",
    "伟",
    "强",
    "军",
    "勇",
    "杰",
    "磊",
    "涛",
    "斌",
    "明",
    "华",
    "平",
    "辉",
    "鹏",
    "洪亮",
    "文斌",
    "俊杰",
    "金水",
    "来福",
    "阿妹",
]

# 福清市 (re-coded 1990), 闽侯县, 桐庐县, 淳安县.
ID_REGIONS: tuple[str, ...] = ("350181", "350121", "330122", "330127")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def id_number(seq: int, birth: dt.date) -> str:
    """A valid resident ID for a demo person (GB 11643 check digit, a real region code)."""
    region = ID_REGIONS[seq % len(ID_REGIONS)]
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    number = body + id_check_digit(body)
    normalize_id_number(number)  # fail loudly here rather than in the service
    return number


_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the USCC alphabet (no I, O, S, V, Z)


def _org_code(serial: int) -> str:
    """A 9-character organisation code: "MA" + 6 characters + the GB 11714 check character. Serials are
    scattered by a bijection on 31**6, so neighbouring serials do not give neighbouring codes."""
    serial = (serial * 48271 + 12345) % len(_ORG_ALPHABET) ** 6
    chars = []
    for _ in range(6):
        serial, digit = divmod(serial, len(_ORG_ALPHABET))
        chars.append(_ORG_ALPHABET[digit])
    body = "MA" + "".join(reversed(chars))
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def uscc_code(serial: int, *, kind: str) -> str:
    """A valid USCC: 9 = registered by market regulation, 1 = enterprise / 2 = individual business."""
    body = f"9{'2' if kind == 'individual_business' else '1'}{COUNTY_CODE}{_org_code(serial)}"
    return body + uscc.calc_check_digit(body)


# --------------------------------------------------------------------------------------- demo logins


@dataclass(frozen=True)
class DemoLogin:
    key: str
    role_label: str
    phone: str
    name: str
    where: str  # "admin" or "site"


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("superuser", "超级管理员", "13500000000", "系统管理员", "admin"),
    DemoLogin("staff", "大厅工作人员", "13500000001", "陈晓燕", "admin"),
    DemoLogin("station_staff", "驿站工作人员", "13500000005", "熊冬梅", "admin"),
    DemoLogin("mediator", "调解员", "13500000002", "黄德明", "site"),
    DemoLogin("seeker", "求职者", "13500000003", "廖华光", "site"),
    DemoLogin("employer", "用工主体（企业负责人）", "13500000004", "田志远", "site"),
)

# The demo's staff and mediators come with an authenticator (二次验证) whose key is derived from their
# number, so the key seed_demo prints is the same on every run and machine. Demo only: the derivation is
# public, like the demo password.
DEMO_TOTP_SEED = b"gigmarket-demo-authenticator"


def demo_totp_key(phone: str) -> str:
    """The demo authenticator's key for this number: 20 bytes, hex, as django-otp stores it."""
    return hmac.new(DEMO_TOTP_SEED, phone.encode(), hashlib.sha256).digest()[:20].hex()


STAFF_GROUP = "大厅工作人员"
MEDIATOR_GROUP = "调解员"
DISTRICT_STAFF_GROUP = "区级零工市场管理"
STAFF_PERMISSIONS = (
    "accounts.view_realname",
    "accounts.change_realname",
    "accounts.view_employer",
    "accounts.change_employer",
    "accounts.view_certificate",
    "accounts.change_certificate",
    "accounts.view_workerprofile",
    "accounts.change_workerprofile",
    "accounts.view_user",
    "accounts.register_on_behalf",
    "accounts.view_servicepoint",
    "accounts.view_area",
    "accounts.view_certificatetype",
    "accounts.view_reviewevent",
    "jobs.view_trade",
    "jobs.post_on_behalf",
    "wallet.view_account",
    # the hall (大屏、求职机、数据看板), follow-ups and trainings, disputes
    "hall.view_dashboard",
    "hall.export_dashboard",
    "outreach.view_followup",
    "outreach.change_followup",
    "outreach.view_course",
    "outreach.add_course",
    "outreach.change_course",
    "outreach.view_enrollment",
    "outreach.change_enrollment",
    "outreach.view_article",
    "outreach.add_article",
    "outreach.change_article",
    "disputes.view_case",
    "disputes.add_case",
    "disputes.accept_case",
    "notifications.view_message",
    # accident insurance: policies and claims (review, forward to the insurer)
    "insurance.view_policy",
    "insurance.change_policy",
    "insurance.view_premiumrate",
    "insurance.view_accidentclaim",
    "insurance.add_accidentclaim",
    "insurance.change_accidentclaim",
    "insurance.review_accidentclaim",
)
# District staff also manage the open-data tokens for the provincial data centre and the premium remittance.
DISTRICT_STAFF_PERMISSIONS = (
    "hall.add_exporttoken",
    "hall.change_exporttoken",
    "hall.view_exporttoken",
    "hall.view_exportpull",
    # the daily premium remittance to the insurer (district books)
    "insurance.view_remittance",
    "insurance.change_remittance",
)
MEDIATOR_PERMISSIONS = ("accounts.view_user", "accounts.view_employer", "disputes.view_party_contact")

# --------------------------------------------------------------------------------- the small, named set


@dataclass(frozen=True)
class SeekerSpec:
    phone: str
    name: str
    birth: dt.date
    town: str  # Town.code
    trades: tuple[str, ...]
    realname: str  # "verified" | "pending" | "rejected" | "none"
    certificates: tuple[tuple[str, str], ...] = ()  # (CertType.code, "approved" | "pending" | "rejected")
    about: str = ""
    help_tier: int = 0
    help_reasons: tuple[str, ...] = ()


SEEKERS: tuple[SeekerSpec, ...] = (
    SeekerSpec(
        "13500000003",
        "廖华光",
        dt.date(1979, 3, 12),
        "001",
        ("电焊工", "瓦工", "水电安装"),
        "verified",
        (("welding", "approved"),),
        "电焊初级工、管道中级工，干过瓦工，随叫随到。",
    ),
    SeekerSpec(
        "13600000101", "林春花", dt.date(1976, 8, 2), "101", ("保洁", "开荒保洁", "钟点工"), "verified"
    ),
    SeekerSpec("13600000102", "赵洪亮", dt.date(1984, 11, 20), "002", ("搬运", "装卸工", "搬家"), "verified"),
    SeekerSpec(
        "13600000103",
        "陈世林",
        dt.date(1971, 1, 9),
        "105",
        ("电工", "空调安装维修"),
        "verified",
        (("electrician", "approved"), ("refrigeration", "pending")),
    ),
    SeekerSpec(
        "13600000104",
        "王桂英",
        dt.date(1968, 5, 30),
        "102",
        ("茶叶采摘", "水果采摘", "农田帮工"),
        "verified",
        (),
        "家住村里，农忙时都能来。",
        2,
        ("older", "low_income"),
    ),
    SeekerSpec(
        "13600000105",
        "郑美华",
        dt.date(1982, 9, 14),
        "004",
        ("月嫂", "育儿嫂"),
        "verified",
        (("health", "approved"),),
    ),
    SeekerSpec(
        "13600000106",
        "何建国",
        dt.date(1975, 12, 1),
        "103",
        ("架子工", "高空作业", "外墙清洗"),
        "verified",
        (("work-at-height", "pending"),),
    ),
    SeekerSpec(
        "13600000107", "许丽娟", dt.date(1990, 4, 18), "003", ("服务员", "收银员", "促销员"), "pending"
    ),
    SeekerSpec(
        "13600000108",
        "蔡永福",
        dt.date(1963, 7, 7),
        "106",
        ("保安", "绿化养护"),
        "pending",
        (),
        "",
        1,
        ("older",),
    ),
    SeekerSpec(
        "13600000109",
        "叶海燕",
        dt.date(1993, 2, 25),
        "002",
        ("数据标注", "家教", "礼仪/活动执行"),
        "verified",
    ),
    SeekerSpec(
        "13600000110",
        "罗长根",
        dt.date(1969, 10, 10),
        "107",
        ("叉车工", "仓库理货"),
        "verified",
        (("forklift", "rejected"),),
    ),
    SeekerSpec(
        "13600000111",
        "曾志强",
        dt.date(1987, 6, 6),
        "005",
        ("司机", "外卖配送"),
        "verified",
        (("driving-licence", "approved"),),
    ),
    SeekerSpec(
        "13600000112",
        "唐素珍",
        dt.date(1966, 3, 3),
        "108",
        ("护工/陪护", "养老护理"),
        "verified",
        (("elderly-care", "pending"),),
    ),
    SeekerSpec(
        "13600000113", "邓伟", dt.date(1995, 12, 12), "004", ("快递分拣", "普工", "包装工"), "rejected"
    ),
    SeekerSpec("13600000114", "潘金凤", dt.date(1974, 1, 28), "109", ("缝纫工", "普工"), "pending"),
    SeekerSpec(
        "13600000115",
        "袁水生",
        dt.date(1961, 9, 19),
        "201",
        ("农田帮工", "园林修剪"),
        "none",
        (),
        "",
        3,
        ("older", "long_unemployed"),
    ),
    SeekerSpec("13600000116", "梁俊杰", dt.date(1998, 8, 8), "001", ("外卖配送", "搬运"), "none"),
    SeekerSpec(
        "13600000117",
        "谢玉兰",
        dt.date(1972, 4, 4),
        "202",
        ("厨师帮工", "洗碗工", "服务员"),
        "verified",
        (("health", "pending"),),
    ),
    SeekerSpec(
        "13600000118",
        "宋德明",
        dt.date(1980, 2, 14),
        "104",
        ("电焊工", "钢筋工"),
        "verified",
        (("welding", "approved"), ("work-at-height", "approved")),
    ),
    SeekerSpec(
        "13600000119",
        "冯阿妹",
        dt.date(1985, 5, 5),
        "203",
        ("茶叶采摘", "保洁"),
        "verified",
        (),
        "",
        2,
        ("disabled",),
    ),
)

# Assisted registrations (代注册) waiting for the villager to read back the SMS code.
ASSISTED: tuple[tuple[str, str], ...] = (("13600000201", "熊来福"), ("13600000202", "黄月娥"))


@dataclass(frozen=True)
class EmployerSpec:
    key: str
    kind: str
    name: str
    owner_phone: str
    owner_name: str
    status: str
    town: str
    legal_representative: str = ""
    reason: str = ""
    licence_years: int | None = 5  # None = long-term licence
    members: tuple[tuple[str, str], ...] = ()  # (phone, name)
    serial: int = 0


EMPLOYERS: tuple[EmployerSpec, ...] = (
    EmployerSpec(
        "hongjian",
        "company",
        "青溪市宏建建筑工程有限公司",
        "13500000004",
        "田志远",
        "approved",
        "001",
        "田志远",
        members=(("13600000301", "吴淑芬"),),
        serial=101,
    ),
    EmployerSpec(
        "minshun",
        "company",
        "青溪市闽顺物流有限公司",
        "13600000302",
        "郭文斌",
        "approved",
        "004",
        "郭文斌",
        licence_years=None,
        serial=102,
    ),
    EmployerSpec(
        "jiemei",
        "company",
        "青溪市洁美家政服务有限公司",
        "13600000303",
        "肖美华",
        "approved",
        "002",
        "肖美华",
        serial=103,
    ),
    EmployerSpec(
        "chaye",
        "company",
        "福建青溪清语茶业有限公司",
        "13600000304",
        "高国平",
        "pending",
        "102",
        "高国平",
        serial=104,
    ),
    EmployerSpec(
        "xinda",
        "company",
        "青溪市鑫达五金制品有限公司",
        "13600000305",
        "韩杰",
        "rejected",
        "004",
        "韩杰",
        "营业执照照片不清晰，请重新拍摄完整的执照正本上传",
        serial=105,
    ),
    EmployerSpec(
        "suda",
        "company",
        "青溪市速达快递服务有限公司",
        "13600000306",
        "董磊",
        "suspended",
        "003",
        "董磊",
        "有零工投诉拖欠工资，核查期间暂停发布岗位",
        serial=106,
    ),
    EmployerSpec(
        "laolin",
        "individual_business",
        "青溪市城关老林水电维修部",
        "13600000307",
        "林长根",
        "approved",
        "001",
        "林长根",
        serial=201,
    ),
    EmployerSpec(
        "guoyuan",
        "individual_business",
        "青溪市安仁镇清语橙果园",
        "13600000308",
        "熊建华",
        "approved",
        "103",
        "熊建华",
        licence_years=1,
        serial=202,
    ),
    EmployerSpec(
        "afang",
        "individual_business",
        "青溪市溪口阿芳小吃店",
        "13600000309",
        "朱秀兰",
        "pending",
        "101",
        "朱秀兰",
        serial=203,
    ),
    EmployerSpec(
        "kaisuo",
        "individual_business",
        "青溪市凤山快修开锁店",
        "13600000310",
        "彭勇",
        "rejected",
        "005",
        "彭勇",
        "统一社会信用代码与执照上的不一致，请核对后重新提交",
        serial=204,
    ),
    EmployerSpec("household-zhou", "household", "", "13600000311", "周建华", "approved", "002"),
    EmployerSpec("household-cao", "household", "", "13600000312", "曹玉兰", "pending", "105"),
    EmployerSpec(
        "household-jiang",
        "household",
        "",
        "13600000313",
        "蒋国平",
        "suspended",
        "001",
        reason="多次临时取消用工，暂停核查",
    ),
)

# Household employers must be verified residents: their IDs.
HOUSEHOLD_BIRTHS = {
    "13600000311": dt.date(1970, 10, 1),
    "13600000312": dt.date(1983, 3, 8),
    "13600000313": dt.date(1966, 6, 16),
}

# ---------------------------------------------------------------------------------- bulk generation

BULK_WORKER_PREFIX = "150"  # bulk seekers: 150 0000 0000 + index
BULK_EMPLOYER_PREFIX = "151"  # bulk employer owners: 151 0000 0000 + index
BULK_SEED = 20260601

AVAILABILITY_CHOICES = (
    ["any"],
    ["any"],
    ["weekdays"],
    ["weekends"],
    ["mornings"],
    ["mornings", "afternoons"],
    ["evenings", "weekends"],
    ["weekdays", "mornings"],
)

EMPLOYER_WORDS = (
    "鑫源",
    "宏达",
    "顺兴",
    "恒通",
    "福源",
    "兴旺",
    "金鹏",
    "永盛",
    "华盛",
    "建兴",
    "瑞丰",
    "安达",
    "隆基",
    "嘉和",
    "万家",
    "青禾",
    "闽江",
    "天成",
    "汇丰",
    "盛世",
    "诚信",
    "联发",
    "鸿运",
    "长青",
    "佳美",
    "新星",
    "百川",
    "益民",
    "广源",
    "聚力",
    "锦程",
    "同心",
)
EMPLOYER_BUSINESS = (
    ("建筑工程有限公司", "company"),
    ("装饰工程有限公司", "company"),
    ("物流有限公司", "company"),
    ("家政服务有限公司", "company"),
    ("农业发展有限公司", "company"),
    ("食品有限公司", "company"),
    ("物业管理有限公司", "company"),
    ("餐饮店", "individual_business"),
    ("水电维修部", "individual_business"),
    ("家庭农场", "individual_business"),
    ("便利店", "individual_business"),
)

# ------------------------------------------------------------------------------------ posts on the board


@dataclass(frozen=True)
class PostSpec:
    """A demo post, found again on the next run by (employer, title). Its start is relative to the day
    the command runs: ``days`` ahead at ``start`` o'clock (local time), lasting ``hours``."""

    employer: str  # EmployerSpec.key
    trade: str
    title: str
    description: str
    pay_yuan: Decimal
    pay_unit: str
    slots: int
    town: str  # Town.code
    village: int | None  # index into Town.villages, None = the street/town itself
    address: str
    days: int
    start: tuple[int, int]  # (hour, minute)
    hours: float
    mode: str = "grab"
    quantity: Decimal = Decimal("1")
    insurance: bool = False


def _p(
    employer, trade, title, description, pay, unit, slots, town, village, address, days, start, hours, **kw
):
    return PostSpec(
        employer, trade, title, description, Decimal(str(pay)), unit, slots, town, village, address, days,
        start, hours, **kw,
    )  # fmt: skip


# Open posts: varied trades (电焊工, 架子工, 叉车工, 空调安装维修 are restricted), grab and apply, many towns.
BOARD_POSTS: tuple[PostSpec, ...] = (
    _p("hongjian", "电焊工", "城关体育馆看台钢结构焊接 急招3名",
       "体育馆看台钢结构主体焊接，二保焊为主。须持有效的焊接与热切割作业操作证，自带焊帽和手套，"
       "工地提供焊机、劳保鞋和午餐。", 420, "day", 3, "001", 1, "城关街道水南路体育馆工地", 2, (7, 0), 10,
       insurance=True),
    _p("hongjian", "瓦工", "南湖工业园厂房贴砖 瓦工3名",
       "新厂房办公区及卫生间贴墙地砖约600平方米，要求平整度好，有5年以上经验优先。材料工地提供。",
       380, "day", 3, "004", 2, "南湖街道工业园区纬三路6号", 3, (7, 30), 9, mode="apply", insurance=True),
    _p("hongjian", "架子工", "白沙安置房外墙脚手架搭设",
       "安置房6层外墙双排脚手架搭设，须持高处作业操作证，系好安全带。按天计酬，预计5天，可连续做。",
       450, "day", 4, "101", 0, "白沙镇白沙村安置房项目部", 4, (7, 0), 10, mode="apply", insurance=True),
    _p("hongjian", "建筑小工", "工地清理建筑垃圾 小工5名",
       "清理楼层建筑垃圾、搬运砌块、拌砂浆。能吃苦即可，60岁以下，包午餐，当天结算。",
       240, "day", 5, "001", None, "城关街道解放路旧城改造工地", 1, (7, 30), 9, insurance=True),
    _p("minshun", "快递分拣", "快递中转场夜班分拣 10名",
       "年底包裹量大，夜班流水线分拣、扫码、装笼。站立作业，提供夜宵，满8小时按时计酬。",
       26, "hour", 10, "004", 2, "南湖街道工业园社区闽顺物流中转场", 1, (20, 0), 8, quantity=8),
    _p("minshun", "装卸工", "冷链仓库卸货 装卸工4名",
       "冷冻食品整车卸货、码垛，库内零下18度，提供防寒服和手套。按小时计，预计6小时。",
       40, "hour", 4, "004", 0, "南湖街道南湖社区冷链物流园3号库", 2, (6, 0), 6, quantity=6, insurance=True),
    _p("minshun", "叉车工", "仓库倒库 叉车司机1名",
       "电动叉车倒库、堆垛，须持N1叉车司机证。一天完成，有仓库经验优先。",
       300, "day", 1, "004", 2, "南湖街道工业园区闽顺物流仓库", 5, (8, 0), 9, mode="apply", insurance=True),
    _p("jiemei", "开荒保洁", "新房开荒保洁 三室两厅",
       "新装修房屋开荒：除胶、擦玻璃、厨卫清洁、地面清洗。公司提供工具和清洁剂，两人一组。",
       240, "day", 2, "002", 1, "溪东街道滨江社区江景花园8栋", 2, (8, 30), 8),
    _p("jiemei", "保洁", "写字楼日常保洁 钟点工3名",
       "写字楼公共区域日常保洁：地面、卫生间、垃圾清运。每天4小时，工具齐全，可长期做。",
       30, "hour", 3, "005", 0, "凤山街道凤山社区商务大厦", 1, (14, 0), 4, quantity=4),
    _p("jiemei", "月嫂", "住家月嫂 预产期下月初",
       "住家照顾产妇和新生儿26天，需有健康证和育婴经验，会做月子餐。雇主家住南湖社区。",
       400, "day", 1, "004", 0, "南湖街道南湖社区", 9, (8, 0), 26 * 24, mode="apply", quantity=26),
    _p("laolin", "水电安装", "老小区水电改造 水电工1名",
       "老房子厨房卫生间水电改造：开槽、布管、穿线、装开关插座。自带工具，材料店里出。",
       350, "day", 1, "001", 2, "城关街道解放社区幸福里小区", 3, (8, 0), 9, mode="apply"),
    _p("laolin", "空调安装维修", "空调移机加氟 按台计",
       "5台挂机移机、加氟、打孔安装，须持制冷与空调作业操作证。高空外机需系安全带。",
       120, "piece", 1, "003", 0, "溪西街道西门社区锦绣家园", 2, (9, 0), 8, quantity=5, insurance=True),
    _p("guoyuan", "水果采摘", "脐橙采摘 包午餐 日结",
       "果园脐橙采摘、分拣装箱，早上6点半开工，包午餐，每天下午现金或线上日结。村里有车接送。",
       150, "day", 15, "103", 0, "安仁镇安仁村清语橙果园", 1, (6, 30), 10),
    _p("guoyuan", "农田帮工", "果园除草施肥 零工6名",
       "果园除草、施有机肥、挖排水沟，体力活，包午餐。",
       160, "day", 6, "103", 1, "安仁镇下坂村清语橙果园二号园", 4, (7, 0), 9, mode="apply"),
    _p("household-zhou", "护工/陪护", "家里老人白天陪护",
       "80岁老人白天陪护：做午饭、陪散步、提醒吃药，老人能自理。有耐心、会讲本地话优先。",
       220, "day", 1, "002", 0, "溪东街道东门社区", 2, (8, 0), 10, mode="apply"),
    _p("household-zhou", "家教", "周末家教 初二数学",
       "初二学生数学辅导，周六晚上两个课时，讲解作业和错题。大学在读或有教学经验。",
       120, "class_hour", 1, "002", 1, "溪东街道滨江社区江景花园", 5, (19, 0), 2, mode="apply", quantity=2),
)  # fmt: skip

DEMO_EMPLOYER_FUNDS_FEN = 50_000_00  # each approved demo employer tops up 50,000 yuan before posting
DEMO_SEEKER = "13500000003"  # 廖华光: 电焊工 (with certificate), 瓦工, 水电安装
DEMO_EMPLOYER = "hongjian"  # owned by the demo employer login 田志远

# The demo seeker's history with the demo employer: finished work, rated both ways. Each is its own post,
# created through the services as if done today and then moved back ``days`` (negative) into the past.
PAST_ORDERS: tuple[tuple[PostSpec, int, int, str, str], ...] = (
    # (post, stars worker→employer, stars employer→worker, comment to employer, comment to worker)
    (
        _p("hongjian", "电焊工", "厂房钢梁补焊（已完工）",
           "旧厂房钢梁加固补焊，持证上岗。", 400, "day", 1, "004", 2, "南湖街道工业园区纬三路6号",
           -12, (7, 30), 9),
        5, 5, "结算及时，工地安全措施到位。", "焊缝质量好，准时到岗。",
    ),
    (
        _p("hongjian", "水电安装", "地下车库消防管道安装（已完工）",
           "地下车库消防管道安装配合，按天计。", 350, "day", 1, "001", 0, "城关街道中山社区中山花园工地",
           -25, (8, 0), 9),
        4, 4, "活多但安排清楚。", "做事踏实，下次还找他。",
    ),
)  # fmt: skip

# Claims on board posts: (seeker phone, post title). Grab posts confirm at once; apply posts wait for the
# employer, so the demo employer has applicants to accept or reject.
BOARD_CLAIMS: tuple[tuple[str, str], ...] = (
    (DEMO_SEEKER, "城关体育馆看台钢结构焊接 急招3名"),  # an upcoming confirmed order with a contract to sign
    ("13600000118", "城关体育馆看台钢结构焊接 急招3名"),  # 宋德明, also a certified welder
    (DEMO_SEEKER, "南湖工业园厂房贴砖 瓦工3名"),  # an application waiting for the demo employer
    ("13600000102", "冷链仓库卸货 装卸工4名"),  # 赵洪亮
    ("13600000101", "新房开荒保洁 三室两厅"),  # 林春花
    ("13600000104", "脐橙采摘 包午餐 日结"),  # 王桂英
    ("13600000119", "脐橙采摘 包午餐 日结"),  # 冯阿妹
)

STALE_WITHIN = dt.timedelta(hours=6)  # a demo post starting sooner than this is moved to its next date

# --------------------------------------------------------------------------------- bulk posts (--posts)

BULK_POST_PREFIX = "152"  # bulk posts: contact phone 152 0000 0000 + index, the key of a bulk post

# Where the work is, by trade category; the work itself is one of the trade's skills.
SITES = {
    "construction": ("厂房", "自建房", "小区外墙", "商铺", "安置房项目", "学校", "市政道路"),
    "housekeeping": ("家庭", "新装修住宅", "写字楼", "酒店", "小区物业"),
    "logistics": ("物流园", "电商仓", "超市", "冷链仓库", "快递网点"),
    "agriculture": ("果园", "茶园", "水稻田", "苗木基地", "蔬菜基地"),
    "catering": ("婚宴", "酒楼", "学校食堂", "农家乐", "夜市"),
    "manufacturing": ("电子厂", "服装厂", "食品厂", "五金厂", "鞋厂"),
    "transport": ("同城", "商务", "学校", "物流公司"),
    "care": ("医院", "居家", "养老院", "社区"),
    "services": ("商场", "小区", "展会", "写字楼", "酒店"),
    "education": ("小学生", "初中生", "暑期班", "社区"),
}
TITLE_PATTERNS = (
    "{place}{site}{skill} 招{trade}{n}名",
    "急招{trade}{n}名（{place}）",
    "{site}{skill}，{trade}日结",
    "{place}{trade} {site}{skill}",
    "{site}需要{trade}，{perk}",
)
PERKS = ("包午餐", "日结工资", "提供工具", "完工当天结算", "有交通补贴", "提供住宿", "包接送", "可长期做")
REQUIREMENTS = (
    "吃苦耐劳即可",
    "有相关经验优先",
    "年龄60岁以下",
    "自带常用工具",
    "需健康证",
    "服从现场安排",
    "会讲本地话优先",
)
ROADS = ("人民路", "解放路", "中山路", "滨江路", "工业路", "建设路", "新华街", "府前路", "环城路", "站前路")

# --------------------------------------------------------------- the hall: trainings, articles, a case

# (title, trade name, days from today to the start, days long, schedule, seats, free?)
COURSES = (
    ("家政服务员（初级）", "保洁", 5, 5, "每天 9:00–16:00", 20, True),
    ("低压电工上岗培训", "电工", 9, 10, "每天 8:30–17:00", 12, True),
    ("中式烹调师（农家宴）", "厨师帮工", 14, 7, "每天 9:00–15:30", 16, True),
)
# (title, category, summary, body, published?)
ARTICLES = (
    (
        "灵活就业人员社保补贴怎么申领",
        "subsidy",
        "就业困难人员灵活就业后缴纳社会保险的，可按规定申请社会保险补贴。",
        "一、谁可以申请：登记失业的就业困难人员，以灵活就业方式就业并缴纳基本养老、医疗保险费的。\n\n"
        "二、怎么申请：带身份证到户籍所在地的零工服务网点或街道（乡镇）零工市场提出申请，工作人员帮您填表。\n\n"
        "三、补贴标准：按当地规定，一般不超过实际缴费额的三分之二，最长三年。",
        True,
    ),
    (
        "工钱被拖欠怎么办",
        "rights",
        "在平台接的活，工钱由平台托管；遇到欠薪，一键投诉，调解员免费帮您追讨。",
        "一、平台接单的活，雇主的报酬在开工前已托管到平台，完工确认后直接进您的钱包。\n\n"
        "二、雇主不确认或少算：在订单页点“投诉/申请调解”，写清楚干了多少、该拿多少，上传照片或聊天记录。\n\n"
        "三、调解员会在15天内组织双方调解，达成协议后钱从托管款直接付给您；调不成的，帮您转到劳动人事争议仲裁委员会。",
        True,
    ),
    (
        "干活受伤了怎么办",
        "rights",
        "每单意外险签到起生效，受伤后先就医，再在订单页报案。",
        "一、先就医，保存好病历、发票。\n\n二、在订单页点“意外险”报案，上传材料；不会操作的到服务网点，工作人员帮您办。"
        "\n\n三、保险公司赔付后，赔款直接进您的钱包。",
        True,
    ),
    (
        "零工安全常识十条",
        "safety",
        "高处作业系好安全带，电焊、电工持证上岗。",
        "1. 高处作业必须系安全带。\n\n2. 电工、焊工等特种作业必须持证。\n\n3. 进工地戴好安全帽。\n\n"
        "4. 天热注意防暑，按时喝水休息。",
        True,
    ),
    ("2027年零工市场春风行动安排（草稿）", "policy", "", "待定稿后发布。", False),
)
DEMO_CASE_DESCRIPTION = "工钱说好一天280元，结算只给了250元，差的30元老板说下次再给。"
