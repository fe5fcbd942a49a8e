"""Chinese patent titles and abstracts from templates, with IPC codes consistent with the text.

Five kinds of text are planted:

* ``ai`` - genuine AI inventions; every text names an AI-dictionary technique.
* ``false_positive`` - not AI, yet the text contains a dictionary term (a kettle with
  智能控制, a radar 目标检测 circuit, a chemical reaction that 生成式(I) compound, 一类脑血管
  drugs): the keyword measure counts them, so keyword AI differs from true AI.
* ``decoy`` - not AI and look-alike words only (智能电表, 神经外科, 学习桌, 视觉检测灯,
  机器人玩具外壳): no dictionary term may occur; the unit tests check every combination.
* ``green`` - green technologies whose IPC codes are in the WIPO Green Inventory seed.
* ``neutral`` - everything else.

A template is a sequence of pieces: literal text, or ``{NAME}`` naming a vocabulary. All
occurrences of one vocabulary in a patent's title and abstract use the same draw. The
``{SUBJECT}`` vocabulary of a template carries the IPC codes its phrases imply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

INVENTION, UTILITY_MODEL, DESIGN = "invention", "utility_model", "design"


@dataclass(frozen=True)
class Subject:
    phrase: str
    codes: tuple[str, ...]  # IPC codes the phrase implies (for ai: the AI groups)
    it_codes: tuple[str, ...] = ()  # ai only: IT codes an examiner may give instead of an AI group


@dataclass(frozen=True)
class Template:
    patent_type: str
    weight: float
    subjects: tuple[Subject, ...]
    title: tuple[str, ...]
    abstract: tuple[str, ...]


# Shared vocabularies (no dictionary term in any of them, nor across their joins).
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "BENEFIT": ("结构简单,成本低廉", "显著提高了生产效率", "延长了使用寿命", "降低了能耗", "便于安装和维护",
                "提高了产品的一致性", "工艺简单,适合规模化生产", "有效提升了产品强度"),
    "PARTS": ("底座、支撑架和驱动机构", "壳体、端盖和密封组件", "机架、传动轴和导向轮", "主体、连接件和紧固件",
              "箱体、加热模块和温控模块", "外壳、电路板和散热片"),
    "STEPS": ("配料、混合、成型和烧结等步骤", "预处理、反应、过滤和干燥等步骤", "熔炼、铸造、热处理和机加工等步骤",
              "清洗、涂覆、固化和检验等步骤"),
    "METHOD": ("的制备方法", "的加工工艺", "及其制备方法", "的生产方法"),
    "DEVICE": ("结构", "组件", "安装装置", "固定装置", "生产设备"),
    "VARIANT": ("A型", "B型", "标准款", "豪华款", "迷你款", "1", "2"),
    "OBJECT": ("锂电池极片", "焊缝", "印刷电路板", "钢板表面", "药品包装", "纺织面料", "汽车零部件", "注塑件",
               "晶圆", "光伏电池片", "电机", "轴承", "输油管道", "仓储货物", "产线设备", "刀具", "液晶面板",
               "瓶装饮料", "铸件", "芯片封装"),
    "TASK": ("缺陷检测方法", "质量预测方法", "故障诊断方法", "分拣方法", "寿命预测方法", "工艺参数优化方法",
             "状态监测方法", "排产调度方法"),
    "AI_DEVICE": ("检测装置", "分拣装置", "巡检装置", "监测设备"),
    "SENSOR": ("工业相机", "多传感器", "麦克风阵列", "激光雷达", "数据采集模块"),
    "DATA": ("图像数据", "运行数据", "声学信号", "工艺参数", "历史生产数据"),
    "AI_BENEFIT": ("提高了识别准确率", "降低了人工成本", "实现了生产过程的自动化", "减少了误判和漏检"),
    "GREEN_PROCESS": ("制备方法", "处理工艺", "运行方法", "集成系统"),
    "GREEN_BENEFIT": ("减少了污染物排放", "提高了能源利用效率", "实现了资源循环利用", "降低了碳排放"),
    "REAGENT": ("取代苯甲醛", "氯乙酰氯", "对硝基苯胺", "乙酰乙酸乙酯"),
    "DRUG_FORM": ("注射液", "缓释胶囊", "口服溶液", "冻干粉针"),
}

AI_TECHNIQUES = (
    Subject("深度学习", ("G06N 3/08", "G06N 3/04"), ("G06F 17/18", "G06Q 50/04")),
    Subject("卷积神经网络", ("G06N 3/0464", "G06V 10/82"), ("G06F 17/15",)),
    Subject("机器视觉", ("G06T 7/00", "G06V 10/44"), ("G01N 21/88", "G01B 11/00")),
    Subject("计算机视觉", ("G06V 20/52", "G06T 7/73"), ("H04N 7/18",)),
    Subject("图像识别", ("G06V 10/764", "G06K 9/62"), ("G06F 16/583",)),
    Subject("目标检测", ("G06V 10/25", "G06T 7/11"), ("G08B 13/196",)),
    Subject("图像分割", ("G06T 7/11", "G06T 7/136"), ("G06F 17/18",)),
    Subject("人脸识别", ("G06V 40/16", "G06K 9/00"), ("G07C 9/37",)),
    Subject("语音识别", ("G10L 15/22", "G10L 15/26"), ("H04R 1/08",)),
    Subject("语音合成", ("G10L 13/02",), ("H04M 3/493",)),
    Subject("声纹识别", ("G10L 17/00",), ("H04L 9/40",)),
    Subject("自然语言处理", ("G06F 40/30", "G06F 40/289"), ("G06F 16/33",)),
    Subject("知识图谱", ("G06N 5/02", "G06F 40/295"), ("G06F 16/36",)),
    Subject("语义分析", ("G06F 40/30",), ("G06F 16/35",)),
    Subject("机器学习", ("G06N 20/00",), ("G06F 17/18", "G06Q 50/04")),
    Subject("强化学习", ("G06N 3/092", "G06N 20/00"), ("G05B 19/418",)),
    Subject("迁移学习", ("G06N 3/096",), ("G06F 17/16",)),
    Subject("联邦学习", ("G06N 20/00", "G06N 3/098"), ("H04L 9/00",)),
    Subject("支持向量机", ("G06N 20/10", "G06F 18/2411"), ("G01M 13/045",)),
    Subject("随机森林", ("G06N 20/20", "G06F 18/24323"), ("G01R 31/367",)),
    Subject("遗传算法", ("G06N 3/126",), ("G06F 30/17",)),
    Subject("专家系统", ("G06N 5/04",), ("G05B 23/02",)),
    Subject("模式识别", ("G06F 18/00", "G06K 9/62"), ("G01H 17/00",)),
    Subject("数据挖掘", ("G06F 18/23",), ("G06F 16/2465",)),
    Subject("人工智能", ("G06N 3/08", "G06N 5/00"), ("G06Q 50/04",)),
    Subject("大模型", ("G06N 3/0475", "G06F 40/40"), ("G06F 16/332",)),
    Subject("预训练模型", ("G06N 3/0455", "G06F 40/40"), ("G06F 16/35",)),
    Subject("智能机器人", ("B25J 9/16", "B25J 9/1697"), ("B25J 11/00",)),
    Subject("服务机器人", ("B25J 9/16",), ("B25J 11/008",)),
    Subject("自动驾驶", ("B60W 60/00", "G05D 1/02"), ("B60W 30/09",)),
    Subject("无人驾驶", ("G05D 1/02", "B60W 60/001"), ("G08G 1/0968",)),
    Subject("人机交互", ("G10L 15/22",), ("G06F 3/01",)),
    Subject("智能算法", ("G06N 3/006", "G05B 13/04"), ("G05B 19/418",)),
)

GREEN_TECHNOLOGIES = (
    Subject("光伏组件", ("H02S 40/34", "H01L 31/048")),
    Subject("太阳能集热器", ("F24S 10/70", "F24S 20/40")),
    Subject("风力发电机叶片", ("F03D 1/06", "F03D 80/00")),
    Subject("燃料电池双极板", ("H01M 8/0202", "H01M 8/0258")),
    Subject("生物质成型燃料", ("C10L 5/44", "C10L 5/40")),
    Subject("工业废水处理", ("C02F 9/00", "C02F 1/52")),
    Subject("烟气脱硫脱硝", ("B01D 53/50", "B01D 53/86")),
    Subject("废旧锂电池回收", ("H01M 10/54", "C22B 7/00")),
    Subject("工业余热回收", ("F01K 27/02", "F27D 17/00")),
    Subject("混合动力汽车传动", ("B60K 6/20", "B60W 20/00")),
    Subject("电动汽车充电桩", ("B60L 53/31", "B60L 53/16")),
    Subject("LED照明灯具", ("H01L 33/48", "F21K 99/00")),
    Subject("储能电池管理", ("H02J 7/00", "H01M 10/44")),
    Subject("相变储热材料", ("C09K 5/06", "F28D 20/02")),
    Subject("外墙保温板", ("E04B 1/76", "E04B 1/80")),
    Subject("生活垃圾焚烧炉", ("F23G 5/00", "F23G 5/44")),
    Subject("废塑料再生", ("C08J 11/04", "C08J 11/06")),
    Subject("盐碱地土壤改良剂", ("C09K 17/40",)),
    Subject("有机肥发酵", ("C05F 17/00", "C05F 11/08")),
    Subject("柴油机尾气净化", ("F01N 3/20", "F01N 3/28")),
    Subject("袋式除尘器", ("B01D 46/02", "B01D 46/00")),
    Subject("固体废弃物处置", ("B09B 3/00", "B09B 5/00")),
    Subject("节水灌溉", ("A01G 25/02", "A01G 25/16")),
    Subject("污泥厌氧消化", ("C02F 11/04", "C12P 5/02")),
    Subject("地源热泵", ("F24T 10/10",)),
    Subject("小型水力发电机组", ("F03B 13/00", "E02B 9/00")),
    Subject("钢渣微粉", ("C04B 18/04", "C04B 18/08")),
)

PRODUCTS = (
    Subject("高强度铝合金型材", ("C22C 21/00", "C22F 1/04")),
    Subject("耐高温防腐涂料", ("C09D 163/00", "C09D 5/08")),
    Subject("双向拉伸聚酯薄膜", ("B29C 55/12", "C08J 5/18")),
    Subject("氮化铝陶瓷基板", ("C04B 35/581", "H05K 1/03")),
    Subject("不锈钢无缝钢管", ("C21D 8/10", "B21C 37/06")),
    Subject("阻燃复合纤维面料", ("D03D 15/00", "D06M 11/00")),
    Subject("环氧树脂胶黏剂", ("C09J 163/00",)),
    Subject("缓释片剂", ("A61K 9/22", "A61K 9/20")),
    Subject("中药提取物", ("A61K 36/00", "A61P 1/00")),
    Subject("无取向硅钢片", ("C21D 8/12", "C22C 38/02")),
    Subject("高模量玻璃纤维", ("C03C 13/00", "C03B 37/02")),
    Subject("电解铜箔", ("C25D 1/04",)),
    Subject("氟橡胶密封圈", ("F16J 15/10", "C08L 27/12")),
    Subject("行星齿轮箱", ("F16H 1/28", "F16H 57/02")),
    Subject("双作用液压缸", ("F15B 15/14",)),
    Subject("干式变压器线圈", ("H01F 27/28", "H01F 41/04")),
    Subject("高速背板连接器", ("H01R 13/50", "H01R 12/71")),
    Subject("铝制散热器", ("H05K 7/20", "F28F 3/02")),
    Subject("电动调节阀门", ("F16K 31/04", "F16K 1/22")),
    Subject("多层柔性电路板", ("H05K 1/02", "H05K 3/46")),
    Subject("液晶显示模组", ("G02F 1/1333", "G09F 9/35")),
    Subject("摄像模组", ("H04N 23/55", "G03B 17/12")),
    Subject("永磁同步电机转子", ("H02K 1/27", "H02K 15/03")),
    Subject("汽车座椅骨架", ("B60N 2/68",)),
    Subject("制动卡钳", ("F16D 65/18", "B60T 1/06")),
    Subject("数控机床主轴", ("B23Q 5/10", "B23B 19/02")),
    Subject("注射用冻干粉针", ("A61K 9/19", "A61K 38/00")),
    Subject("复合肥料颗粒", ("C05G 3/00",)),
    Subject("酱香型白酒", ("C12G 3/02", "C12H 6/02")),
    Subject("速冻调理食品", ("A23L 3/36", "A23L 13/00")),
    Subject("功能性饮料", ("A23L 2/52", "A23L 33/10")),
    Subject("实木复合地板", ("B27D 1/04", "E04F 15/04")),
    Subject("钢结构桥梁构件", ("E01D 19/00", "E04B 1/24")),
    Subject("船用柴油机曲轴", ("F16C 3/06", "F02B 75/32")),
    Subject("动车组转向架", ("B61F 5/00",)),
    Subject("光纤连接器", ("G02B 6/38",)),
    Subject("5G基站天线", ("H01Q 1/24", "H01Q 21/00")),
    Subject("功率半导体模块", ("H01L 25/07", "H01L 23/367")),
    Subject("血糖检测试纸", ("G01N 27/327", "A61B 5/145")),
    Subject("骨科植入钉", ("A61B 17/86",)),
    Subject("一次性输液器", ("A61M 5/14",)),
    Subject("纸质包装箱", ("B65D 5/00", "B65D 81/02")),
    Subject("彩色印刷油墨", ("C09D 11/03",)),
    Subject("运动鞋中底", ("A43B 13/04", "A43B 13/18")),
    Subject("羽绒服面料", ("A41D 31/00", "D06M 15/00")),
    Subject("陶瓷卫浴洁具", ("E03D 11/02", "C04B 33/00")),
    Subject("PVC管材", ("F16L 9/12", "C08L 27/06")),
    Subject("轮胎胎面胶", ("B60C 11/00", "C08L 9/00")),
)

DESIGN_PRODUCTS = (
    Subject("包装盒", ("B65D 5/00",)),
    Subject("手机壳", ("A45C 11/00",)),
    Subject("台灯", ("F21S 6/00",)),
    Subject("电动牙刷", ("A61C 17/22",)),
    Subject("茶具", ("A47G 19/14",)),
    Subject("办公座椅", ("A47C 7/00",)),
    Subject("收纳柜", ("A47B 67/00",)),
    Subject("电源适配器", ("H01R 31/06",)),
    Subject("保温水杯", ("A47J 41/00",)),
    Subject("无线路由器", ("H04W 88/10",)),
)

DECOY_PRODUCTS = (
    Subject("智能电表", ("G01R 22/06",)),
    Subject("智能马桶盖", ("A47K 13/30",)),
    Subject("智能家居插座", ("H01R 13/66",)),
    Subject("神经外科手术牵开器", ("A61B 17/02",)),
    Subject("儿童学习桌", ("A47B 13/08",)),
    Subject("视觉检测灯", ("F21V 33/00",)),
    Subject("机器人关节减速器", ("F16H 1/32",)),
    Subject("深度可调的钻孔装置", ("B23B 45/00",)),
    Subject("无人值守称重系统", ("G01G 19/02",)),
    Subject("模式切换开关", ("H01H 9/06",)),
    Subject("识别标签贴附装置", ("B65C 9/18",)),
    Subject("语音播报装置", ("G08B 3/10",)),
    Subject("数据采集终端", ("G08C 17/02",)),
    Subject("神经阻滞穿刺针", ("A61B 17/34",)),
    Subject("学习机支架", ("F16M 11/04",)),
)

DECOY_DESIGNS = (
    Subject("机器人玩具外壳", ("A63H 11/00",)),
    Subject("学习桌", ("A47B 13/08",)),
    Subject("视觉检测灯", ("F21V 33/00",)),
    Subject("智能电表", ("G01R 22/06",)),
    Subject("智能手环", ("A44C 5/00",)),
)

FALSE_POSITIVE_APPLIANCES = (  # each phrase holds a dictionary term although the product is not AI
    Subject("带智能控制功能的电热水壶", ("A47J 27/21",)),
    Subject("带智能控制功能的电饭煲", ("A47J 27/08",)),
    Subject("带智能控制面板的燃气灶", ("F24C 3/12",)),
    Subject("雷达目标检测电路", ("G01S 7/41", "G01S 13/52")),
    Subject("红外目标检测报警器", ("G08B 13/19",)),
    Subject("大模型铸件浇注系统", ("B22C 9/08", "B22D 35/04")),
    Subject("智能制造车间物料周转架", ("B65G 1/02",)),
    Subject("服务机器人外壳注塑模具", ("B29C 45/26",)),
)
FALSE_POSITIVE_COMPOUNDS = (  # abstracts say the reaction 生成式(I) compound
    Subject("吡啶衍生物", ("C07D 213/74", "C07D 401/14")),
    Subject("喹啉衍生物", ("C07D 215/20",)),
    Subject("噻唑衍生物", ("C07D 277/20",)),
)
FALSE_POSITIVE_DRUGS = (Subject("脑血管疾病治疗用", ("A61K 31/4745", "A61P 9/10")),)  # "一类脑血管..." holds 类脑
FALSE_POSITIVE_DESIGNS = (
    Subject("智能机器人", ("B25J 11/00",)),  # a design patent protects appearance only: not an AI invention
    Subject("服务机器人", ("B25J 11/008",)),
)

# Codes an examiner may add to a non-AI text although they are AI groups (classical image analysis,
# adaptive control): they make the IPC measure count a few non-AI patents.
STRAY_AI_CODES = ("G06T 7/00", "G05B 13/02")

_INV = ("本发明公开了",)
_UM = ("本实用新型公开了",)
_DESIGN_ABSTRACT = ("1.本外观设计产品的名称:", "{SUBJECT}", "(", "{VARIANT}", ")。2.本外观设计产品的用途:作为",
                    "{SUBJECT}", "使用。3.本外观设计产品的设计要点:在于形状与图案的结合。")
_DESIGN_TITLE = ("{SUBJECT}", "(", "{VARIANT}", ")")


def _device_templates(subjects, weight_um: float, weight_inv: float, weight_design: float = 0.0, designs=()):
    templates = [
        Template(UTILITY_MODEL, weight_um, subjects, ("一种", "{SUBJECT}", "{DEVICE}"),
                 _UM + ("一种", "{SUBJECT}", "{DEVICE}", ",包括", "{PARTS}", ",", "{BENEFIT}", "。")),
        Template(INVENTION, weight_inv, subjects, ("一种", "{SUBJECT}", "{METHOD}"),
                 _INV + ("一种", "{SUBJECT}", "{METHOD}", ",包括", "{STEPS}", ",", "{BENEFIT}", "。")),
    ]
    if weight_design:
        templates.append(Template(DESIGN, weight_design, designs, _DESIGN_TITLE, _DESIGN_ABSTRACT))
    return tuple(templates)


TEMPLATES: dict[str, tuple[Template, ...]] = {
    "ai": (
        Template(INVENTION, 0.55, AI_TECHNIQUES, ("一种基于", "{SUBJECT}", "的", "{OBJECT}", "{TASK}"),
                 _INV + ("一种基于", "{SUBJECT}", "的", "{OBJECT}", "{TASK}", ",通过", "{SENSOR}", "获取", "{DATA}",
                         ",利用", "{SUBJECT}", "技术进行分析,", "{AI_BENEFIT}", "。")),
        Template(INVENTION, 0.30, AI_TECHNIQUES, ("一种", "{OBJECT}", "{TASK}", "及系统"),
                 _INV + ("一种", "{OBJECT}", "{TASK}", "及系统,采用", "{SUBJECT}", "对", "{SENSOR}", "采集的",
                         "{DATA}", "进行处理,", "{AI_BENEFIT}", "。")),
        Template(UTILITY_MODEL, 0.15, AI_TECHNIQUES, ("一种基于", "{SUBJECT}", "的", "{OBJECT}", "{AI_DEVICE}"),
                 _UM + ("一种基于", "{SUBJECT}", "的", "{OBJECT}", "{AI_DEVICE}", ",包括", "{SENSOR}",
                        "、处理器和执行机构,", "{AI_BENEFIT}", "。")),
    ),
    "green": (
        Template(INVENTION, 0.5, GREEN_TECHNOLOGIES, ("一种", "{SUBJECT}", "的", "{GREEN_PROCESS}"),
                 _INV + ("一种", "{SUBJECT}", "的", "{GREEN_PROCESS}", ",包括", "{STEPS}", ",", "{GREEN_BENEFIT}", "。")),
        Template(UTILITY_MODEL, 0.5, GREEN_TECHNOLOGIES, ("一种", "{SUBJECT}", "{DEVICE}"),
                 _UM + ("一种", "{SUBJECT}", "{DEVICE}", ",包括", "{PARTS}", ",", "{GREEN_BENEFIT}", "。")),
    ),
    "neutral": _device_templates(PRODUCTS, 0.45, 0.40, 0.15, DESIGN_PRODUCTS),
    "decoy": (
        Template(UTILITY_MODEL, 0.75, DECOY_PRODUCTS, ("一种", "{SUBJECT}"),
                 _UM + ("一种", "{SUBJECT}", ",包括", "{PARTS}", ",", "{BENEFIT}", "。")),
        Template(DESIGN, 0.25, DECOY_DESIGNS, _DESIGN_TITLE, _DESIGN_ABSTRACT),
    ),
    "false_positive": (
        Template(UTILITY_MODEL, 0.45, FALSE_POSITIVE_APPLIANCES, ("一种", "{SUBJECT}"),
                 _UM + ("一种", "{SUBJECT}", ",包括", "{PARTS}", ",", "{BENEFIT}", "。")),
        Template(INVENTION, 0.25, FALSE_POSITIVE_COMPOUNDS, ("一种", "{SUBJECT}", "的制备方法"),
                 _INV + ("一种", "{SUBJECT}", "的制备方法,以", "{REAGENT}", "为原料,经缩合反应生成式(I)所示化合物,",
                         "{BENEFIT}", "。")),
        Template(INVENTION, 0.15, FALSE_POSITIVE_DRUGS, ("一类", "{SUBJECT}", "{DRUG_FORM}"),
                 _INV + ("一类", "{SUBJECT}", "{DRUG_FORM}", ",由活性成分和药用辅料组成,", "{BENEFIT}", "。")),
        Template(DESIGN, 0.15, FALSE_POSITIVE_DESIGNS, _DESIGN_TITLE, _DESIGN_ABSTRACT),
    ),
}
KINDS = tuple(TEMPLATES)


def all_codes() -> tuple[str, ...]:
    """Every IPC code a template or the stray list can emit, in a stable order."""
    codes = dict.fromkeys(STRAY_AI_CODES)
    for templates in TEMPLATES.values():
        for template in templates:
            for subject in template.subjects:
                codes.update(dict.fromkeys(subject.codes + subject.it_codes))
    return tuple(codes)
_SLOT = re.compile(r"^\{([A-Z_]+)\}$")


def template_vocabularies(template: Template) -> dict[str, tuple[str, ...]]:
    """The vocabularies a template draws from, SUBJECT included."""
    names = {m.group(1) for piece in template.title + template.abstract if (m := _SLOT.match(piece))}
    return {name: tuple(s.phrase for s in template.subjects) if name == "SUBJECT" else VOCABULARIES[name]
            for name in sorted(names)}


@dataclass(frozen=True)
class RenderedTexts:
    """Texts for n patents, listed in ``order``: entry j belongs to patent ``order[j]``.

    Grouping rows by template lets each template be joined in one Arrow call; callers permute
    their own (cheap, numeric) columns by ``order`` instead of permuting the strings back.
    """

    title: pa.Array
    abstract: pa.Array
    order: np.ndarray
    patent_type: np.ndarray  # object, aligned with title
    template: np.ndarray  # int index into TEMPLATES[kind], aligned with title
    subject: np.ndarray  # int index into the template's subjects, aligned with title


def _join(pieces: tuple[str, ...], vocabularies: dict[str, tuple[str, ...]], draws: dict[str, np.ndarray]) -> pa.Array:
    parts = []
    for piece in pieces:
        match = _SLOT.match(piece)
        if match:
            name = match.group(1)
            parts.append(pa.array(vocabularies[name], pa.string()).take(pa.array(draws[name])))
        else:
            parts.append(pa.scalar(piece, pa.string()))
    return pc.binary_join_element_wise(*parts, "")


def render(rng: np.random.Generator, kind: str, n: int) -> RenderedTexts:
    """Draw a template per patent by weight, then one phrase per vocabulary; join the pieces in Arrow."""
    templates = TEMPLATES[kind]
    weights = np.array([t.weight for t in templates])
    chosen = rng.choice(len(templates), size=n, p=weights / weights.sum())
    order = np.argsort(chosen, kind="stable")
    template = chosen[order]
    subject = np.zeros(n, dtype=np.int64)
    titles: list[pa.Array] = [pa.array([], pa.string())]
    abstracts: list[pa.Array] = [pa.array([], pa.string())]
    for k, spec in enumerate(templates):
        rows = np.flatnonzero(template == k)
        if not len(rows):
            continue
        vocabularies = template_vocabularies(spec)
        draws = {name: rng.integers(0, len(options), len(rows)) for name, options in vocabularies.items()}
        subject[rows] = draws["SUBJECT"]
        titles.append(_join(spec.title, vocabularies, draws))
        abstracts.append(_join(spec.abstract, vocabularies, draws))
    types = np.array([t.patent_type for t in templates], dtype=object)[template]
    return RenderedTexts(title=pa.concat_arrays(titles), abstract=pa.concat_arrays(abstracts), order=order,
                         patent_type=types, template=template, subject=subject)
