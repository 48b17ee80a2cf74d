"""Render the OCR bench's pages: A4 at 300 dpi, our own legal texts, Debian's CJK fonts, real degradations.

Usage: .venv/bin/python bench/ocr/make_corpus.py [--set main|heldout] [--out DIR]

``--set heldout`` renders a second corpus (default ``bench/ocr/heldout``) with other texts, names, places,
numbers and seeds, written after the OCR rules (normalisation, known names, page preparation) were: no rule
was written against it, so its figures are the held-out ones.

Each page ``page-NN.png`` (or ``.jpg`` for the JPEG-damaged ones) has its ground truth beside it:
``page-NN.txt``, the lines exactly as rendered (table cells separated by a space), and ``page-NN.json``, the
planted identifiers by kind (``name``, ``id_number``, ``case_number``, ``phone``), the font and the
degradations. The texts are invented for this bench; every person, number and case in them is made up.
Fonts: fonts-wqy-microhei and fonts-wqy-zenhei (sans), fonts-arphic-ukai (Kai, a brush style). Rendering
is deterministic (fixed seeds), so the committed corpus can be rebuilt bit for bit on the same fonts.
"""

from __future__ import annotations

import argparse
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
FONTS = {
    "microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "ukai": "/usr/share/fonts/truetype/arphic/ukai.ttc",
}
WIDTH, HEIGHT = 2480, 3508  # A4 at 300 dpi
MARGIN = 230
SIZE = 44  # about 10.5 pt at 300 dpi
LEADING = 78


def id_number(region: str, birth: str, sequence: str) -> str:
    """An 18-digit resident ID number with a valid check character (GB 11643)."""
    body = region + birth + sequence
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


IDS = {
    "xian": id_number("440703", "19850612", "351"),
    "ouyang": id_number("440704", "19790103", "214"),
    "liang": id_number("440705", "19920827", "046"),
    "huang": id_number("440781", "19680415", "527"),
    "tan": id_number("440703", "20010930", "119"),
    "situ": id_number("440784", "19881121", "268"),
    "ou": id_number("440785", "19750308", "431"),
    "mai": id_number("440703", "19960214", "082"),
}


@dataclass
class Page:
    name: str
    font: str
    lines: list[str]  # "\t" separates table cells
    identifiers: list[tuple[str, str]]
    degradations: list[str] = field(default_factory=list)
    table: bool = False
    seal_on: str | None = None  # a string on the page the red seal covers


def pages() -> list[Page]:
    return [
        Page("page-01", "microhei", [
            "广东省江门市蓬江区人民法院",
            "民事判决书",
            "（2023）粤0703民初1234号",
            f"原告：冼国梁，男，1985年6月12日出生，汉族，住江门市蓬江区白沙街道堤东路18号，公民身份号码{IDS['xian']}。",
            "委托诉讼代理人：欧阳志强，广东蓬江律师事务所律师，联系电话13826075318。",
            "被告：江门市蓬江区永盛五金制品有限公司，住所地江门市蓬江区杜阮镇龙榜工业区。",
            "法定代表人：谭振邦，该公司总经理。",
            "原告冼国梁与被告江门市蓬江区永盛五金制品有限公司劳动争议纠纷一案，本院于2023年3月6日立案后，",
            "依法适用简易程序，公开开庭进行了审理。原告冼国梁及其委托诉讼代理人欧阳志强、被告法定代表人",
            "谭振邦到庭参加诉讼。本案现已审理终结。",
            "原告向本院提出诉讼请求：一、判令被告支付拖欠工资人民币二万三千六百元；二、判令被告支付解除劳动",
            "合同经济补偿金人民币一万八千元；三、本案诉讼费用由被告负担。事实和理由：原告自2019年4月起在被告",
            "处从事冲压工作，被告自2022年9月起未足额发放工资，原告于2022年12月向被告提出解除劳动合同。",
            "本院认为，劳动者的合法权益受法律保护。用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额",
            "支付劳动报酬。依照《中华人民共和国劳动合同法》第三十条、第三十八条、第四十六条之规定，判决如下：",
            "一、被告于本判决发生法律效力之日起十日内向原告冼国梁支付拖欠工资二万三千六百元；",
            "二、被告于本判决发生法律效力之日起十日内向原告冼国梁支付经济补偿金一万八千元。",
            "如不服本判决，可以在判决书送达之日起十五日内，向本院递交上诉状，上诉于广东省江门市中级人民法院。",
            "审判员　梁美华",
            "二〇二三年五月十八日",
            "书记员　司徒慧敏",
        ], [("name", "冼国梁"), ("name", "欧阳志强"), ("name", "谭振邦"), ("name", "梁美华"), ("name", "司徒慧敏"),
            ("id_number", IDS["xian"]), ("phone", "13826075318"), ("case_number", "（2023）粤0703民初1234号")]),
        Page("page-02", "microhei", [
            "广东省江门市中级人民法院",
            "刑事裁定书",
            "（2022）粤07刑终256号",
            f"原公诉机关江门市蓬江区人民检察院。上诉人（原审被告人）黄桂英，女，1968年4月15日出生，公民身份号码{IDS['huang']}，",
            "汉族，小学文化，无业，户籍地江门市新会区会城街道。因涉嫌盗窃罪于2022年3月2日被刑事拘留。",
            "指定辩护人：区嘉豪，广东侨乡律师事务所律师，电话0750-3216548。",
            "江门市蓬江区人民法院审理江门市蓬江区人民检察院指控原审被告人黄桂英犯盗窃罪一案，于2022年7月12日",
            "作出（2022）粤0703刑初412号刑事判决。原审被告人黄桂英不服，提出上诉。本院依法组成合议庭，经过阅卷，",
            "讯问上诉人，听取辩护人的意见，认为本案事实清楚，决定不开庭审理。现已审理终结。",
            "上诉人黄桂英及其辩护人区嘉豪提出：上诉人系初犯、偶犯，认罪认罚，已退赔被害人麦淑贞全部损失，",
            "并取得被害人谅解，原判量刑过重，请求二审法院改判缓刑。",
            "本院认为，上诉人黄桂英以非法占有为目的，多次窃取他人财物，其行为已构成盗窃罪。原判认定的事实清楚，",
            "证据确实、充分，定罪准确，量刑适当，审判程序合法。上诉人及其辩护人的意见，本院不予采纳。",
            "依照《中华人民共和国刑事诉讼法》第二百三十六条第一款第（一）项之规定，裁定如下：",
            "驳回上诉，维持原判。本裁定为终审裁定。",
            "审判长　钟国伟",
            "审判员　邝丽芬",
            "审判员　甘永康",
            "二〇二二年九月二十六日",
        ], [("name", "黄桂英"), ("name", "区嘉豪"), ("name", "麦淑贞"), ("name", "钟国伟"), ("name", "邝丽芬"),
            ("name", "甘永康"), ("id_number", IDS["huang"]), ("phone", "0750-3216548"),
            ("case_number", "（2022）粤07刑终256号"), ("case_number", "（2022）粤0703刑初412号")],
            degradations=["rotation +1.2°"]),
        Page("page-03", "ukai", [
            "会见笔录",
            "时间：2023年6月3日上午9时30分至11时",
            "地点：江门市看守所第三会见室",
            "会见人：容少东（广东五邑律师事务所律师）　记录人：赖春梅",
            f"被会见人：莫家明，公民身份号码{IDS['tan']}",
            "问：我们是江门市法律援助处指派的律师，接受指派担任你的辩护人，你是否同意？",
            "答：同意。",
            "问：你的家属是谁，怎样联系？",
            "答：我母亲卢秀兰，电话13609627741，住蓬江区荷塘镇。",
            "问：你对公安机关认定的事实有没有异议？",
            "答：那天是何耀祖先动手的，我只是推了他一下，他自己摔倒撞到头。",
            "问：当时现场有谁？",
            "答：还有关志恒，他可以证明。他的电话是13922581604。",
            "问：你之前有没有受过刑事处罚？",
            "答：没有。",
            "问：你还有什么要补充的？",
            "答：希望律师帮我申请取保候审，我愿意赔偿。",
            "以上笔录我看过，和我说的一样。",
            "被会见人：莫家明",
        ], [("name", "容少东"), ("name", "赖春梅"), ("name", "莫家明"), ("name", "卢秀兰"), ("name", "何耀祖"),
            ("name", "关志恒"), ("id_number", IDS["tan"]), ("phone", "13609627741"), ("phone", "13922581604")]),
        Page("page-04", "microhei", [
            "法律援助申请表",
            "申请人\t冼伟东\t性别\t男",
            f"身份证号\t{IDS['situ']}\t民族\t汉",
            "联系电话\t15017336925\t职业\t务工",
            "住址\t江门市蓬江区棠下镇良溪村二巷6号",
            "代理人\t陈晓燕\t与申请人关系\t配偶",
            "代理人电话\t18688503127\t工作单位\t无",
            "案件类型\t劳动争议\t对方当事人\t江门市蓬江区顺达物流有限公司",
            "案由\t追索劳动报酬纠纷",
            "受理机构\t江门市蓬江区法律援助处",
            "文号\t江蓬法援〔2023〕45号",
            "申请人签名\t冼伟东\t日期\t2023年4月10日",
        ], [("name", "冼伟东"), ("name", "陈晓燕"), ("id_number", IDS["situ"]), ("phone", "15017336925"),
            ("phone", "18688503127"), ("case_number", "江蓬法援〔2023〕45号")],
            degradations=["blur σ=1.3"], table=True),
        Page("page-05", "zenhei", [
            "法律援助案件办理情况表",
            "序号\t受援人\t承办律师\t案号\t结案日期",
            "1\t梁淑仪\t李建国\t（2023）粤0703民初2231号\t2023年8月2日",
            "2\t司徒永健\t欧阳志强\t（2023）粤0704刑初88号\t2023年9月15日",
            "3\t区美玲\t何丽珊\t（2023）粤0705民初907号\t2023年10月9日",
            "4\t冼志华\t李建国\t（2023）粤07民终1561号\t2023年11月20日",
            "5\t谭桂芳\t容少东\t（2024）粤0703民初15号\t2024年1月8日",
            "联系人：邝丽芬　电话：0750-3352716",
            "江门市蓬江区法律援助处　二〇二四年一月十二日",
        ], [("name", "梁淑仪"), ("name", "李建国"), ("name", "司徒永健"), ("name", "区美玲"), ("name", "何丽珊"),
            ("name", "冼志华"), ("name", "谭桂芳"), ("case_number", "（2023）粤0703民初2231号"),
            ("case_number", "（2023）粤0704刑初88号"), ("case_number", "（2023）粤0705民初907号"),
            ("case_number", "（2023）粤07民终1561号"), ("case_number", "（2024）粤0703民初15号"),
            ("phone", "0750-3352716")],
            degradations=["JPEG quality 22"], table=True),
        Page("page-06", "microhei", [
            "辩护意见书",
            "审判长、审判员：",
            "广东侨乡律师事务所接受江门市法律援助处指派，指派本律师担任被告人麦志坚的辩护人。",
            f"被告人麦志坚，公民身份号码{IDS['mai']}，联系电话13715428830。",
            "本辩护人通过会见被告人、查阅案卷材料，对本案有了全面的了解，现提出如下辩护意见：",
            "一、被告人麦志坚具有自首情节，依法可以从轻或者减轻处罚。案发后被告人主动到江门市公安局蓬江分局",
            "白沙派出所投案，如实供述了自己的罪行。",
            "二、被告人积极赔偿被害人何耀祖的经济损失人民币三万元，取得了被害人的谅解，有谅解书为证。",
            "三、被告人系初犯，平时表现良好，其所在社区出具了证明。",
            "综上，恳请合议庭对被告人麦志坚从轻处罚，并适用缓刑。",
            "此致",
            "江门市蓬江区人民法院",
            "辩护人：何丽珊",
            "二〇二三年七月二十日",
            "（2023）粤0703刑初533号",
        ], [("name", "麦志坚"), ("name", "何耀祖"), ("name", "何丽珊"), ("id_number", IDS["mai"]),
            ("phone", "13715428830"), ("case_number", "（2023）粤0703刑初533号")],
            degradations=["salt-and-pepper noise 1.5 %"]),
        Page("page-07", "microhei", [
            "结案报告",
            "案号：（2023）粤0703民初1234号　受援人：冼国梁",
            "承办律师：欧阳志强　联系电话：13826075318",
            "一、案件基本情况",
            "受援人冼国梁因劳动争议于2023年2月20日申请法律援助，江门市蓬江区法律援助处于同日审查批准，",
            "并指派本所律师承办。对方当事人为江门市蓬江区永盛五金制品有限公司。",
            "二、办案过程",
            "承办律师于2023年2月24日会见受援人，了解案情，收集了劳动合同、工资条、考勤记录等证据；于3月6日",
            "代为提起诉讼；于4月20日出庭参加诉讼，发表代理意见。",
            "三、办案结果",
            "法院判决支持受援人的全部诉讼请求，对方未上诉，判决已生效。受援人获得款项共计四万一千六百元。",
            "四、受援人意见",
            "受援人对承办律师的工作表示满意。",
            "报告人：欧阳志强　审核人：梁美华",
            "二〇二三年六月三十日",
        ], [("name", "冼国梁"), ("name", "欧阳志强"), ("name", "梁美华"), ("phone", "13826075318"),
            ("case_number", "（2023）粤0703民初1234号")],
            degradations=["grey paper"]),
        Page("page-08", "microhei", [
            "法律援助公函",
            "粤司发〔2023〕12号",
            "江门市蓬江区人民法院：",
            "根据《中华人民共和国法律援助法》的规定，本处决定为受援人司徒慧敏提供法律援助，",
            "指派广东蓬江律师事务所律师关志恒担任其诉讼代理人。",
            f"受援人身份证号：{IDS['ou']}",
            "承办律师电话：13543176092",
            "特此函告。",
            "附：法律援助决定书一份",
            "联系人：卢秀兰　电话：0750-3217745",
            "经办人：冼伟东　负责人：黄志刚",
            "江门市蓬江区法律援助处",
            "二〇二三年三月八日",
        ], [("name", "司徒慧敏"), ("name", "关志恒"), ("name", "卢秀兰"), ("name", "冼伟东"), ("name", "黄志刚"),
            ("id_number", IDS["ou"]), ("phone", "13543176092"), ("phone", "0750-3217745"),
            ("case_number", "粤司发〔2023〕12号")],
            degradations=["red seal over names"], seal_on="经办人：冼伟东　负责人：黄志刚"),
        Page("page-09", "ukai", [
            "阅卷笔录",
            "案号：（2024）粤0704刑初88号",
            "阅卷人：钟国伟　阅卷时间：2024年2月27日",
            f"被告人：谭桂芳，公民身份号码{IDS['liang']}",
            "一、起诉书指控：2023年11月5日晚，被告人谭桂芳在蓬江区江华路一出租屋内，",
            "与被害人容永辉发生争执，持水果刀划伤被害人左臂，经鉴定为轻伤二级。",
            "二、证据材料：1.被害人容永辉陈述；2.证人甘秀云证言；3.鉴定意见；4.现场勘验笔录。",
            "三、证人甘秀云的联系电话为13128607419，证言与被害人陈述有出入。",
            "四、辩护要点：被告人系防卫过当还是故意伤害，需进一步核实现场监控。",
            "阅卷人签名：钟国伟",
        ], [("name", "钟国伟"), ("name", "谭桂芳"), ("name", "容永辉"), ("name", "甘秀云"),
            ("id_number", IDS["liang"]), ("phone", "13128607419"), ("case_number", "（2024）粤0704刑初88号")],
            degradations=["rotation -0.8°", "JPEG quality 35"]),
        Page("page-10", "zenhei", [
            "法律援助案件质量评估意见",
            "案号：（2023）粤0705民初907号",
            "受援人：区美玲　承办律师：何丽珊",
            "评估人：李建国　联系电话：13680025573",
            "一、承办律师在指派后三日内会见受援人，及时制作会见笔录，符合办案规范。",
            "二、代理意见论点明确，证据运用得当，但对对方提交的证据质证不够充分。",
            "三、结案材料齐全，归档及时。",
            "评估结论：良好",
            "评估人签名：李建国　复核人：冼志华",
            "二〇二四年三月十五日",
        ], [("name", "区美玲"), ("name", "何丽珊"), ("name", "李建国"), ("name", "冼志华"), ("phone", "13680025573"),
            ("case_number", "（2023）粤0705民初907号")],
            degradations=["grey paper", "blur σ=0.9", "red seal over names"], seal_on="评估人签名：李建国　复核人：冼志华"),
    ]


HELD_OUT_IDS = {
    "qin": id_number("450102", "19830217", "462"),
    "wei": id_number("450103", "19710909", "135"),
    "meng": id_number("450203", "19940522", "308"),
    "li": id_number("450502", "19660730", "271"),
    "ruan": id_number("450105", "20000106", "593"),
}


def heldout_pages() -> list[Page]:
    """The held-out corpus: Guangxi, other people and kinds of document; every person and number made up."""
    ids = HELD_OUT_IDS
    return [
        Page("page-01", "zenhei", [
            "广西壮族自治区南宁市青秀区人民法院",
            "民事调解书",
            "（2024）桂0103民初3587号",
            f"原告：覃海燕，女，1983年2月17日出生，壮族，住南宁市青秀区民族大道136号，公民身份号码{ids['qin']}。",
            "委托诉讼代理人：蓝志远，广西邕城律师事务所律师，联系电话13978135264。",
            "被告：南宁市青秀区宏达建材有限公司，住所地南宁市青秀区长堽路二里9号。",
            "法定代表人：霍志雄，该公司执行董事。",
            "案由：追索劳动报酬纠纷。原告覃海燕于2024年5月13日向本院起诉，本院受理后依法适用简易程序。",
            "经本院主持调解，双方当事人自愿达成如下协议：",
            "一、被告于2024年7月31日前向原告覃海燕支付工资及加班费共计人民币三万七千四百元；",
            "二、原告放弃其他诉讼请求；",
            "三、案件受理费减半收取三百二十五元，由被告负担。",
            "上述协议不违反法律规定，本院予以确认。本调解书经双方当事人签收后，即具有法律效力。",
            "审判员　滕美娟",
            "二〇二四年七月二日",
            "书记员　农丽萍",
        ], [("name", "覃海燕"), ("name", "蓝志远"), ("name", "霍志雄"), ("name", "滕美娟"), ("name", "农丽萍"),
            ("id_number", ids["qin"]), ("phone", "13978135264"), ("case_number", "（2024）桂0103民初3587号")],
            degradations=["rotation -1.5°"]),
        Page("page-02", "ukai", [
            "调查笔录",
            "时间：2024年4月9日下午2时至3时20分",
            "地点：柳州市柳南区法律援助工作站",
            "调查人：卜建勇（广西龙城律师事务所律师）　记录人：邬春霞",
            f"被调查人：韦德明，公民身份号码{ids['wei']}",
            "问：我们受柳州市法律援助中心指派，代理你与柳州市鑫源物流有限公司的工伤赔偿纠纷，你是否清楚？",
            "答：清楚。",
            "问：你是什么时候受伤的？",
            "答：去年十一月二十日晚上装车的时候，叉车司机饶丽君倒车没看到我，压伤了我的右脚。",
            "问：当时谁在场？",
            "答：班长闫淑华在，她的电话是18977264105。",
            "问：公司有没有给你买工伤保险？",
            "答：没有，主管龚雪琴说试用期不买。",
            "问：你还有其他证据吗？",
            "答：有医院的病历和诊断证明，还有我和主管的聊天记录。",
            "以上笔录已向我宣读，与我所说相符。",
            "被调查人：韦德明",
        ], [("name", "卜建勇"), ("name", "邬春霞"), ("name", "韦德明"), ("name", "饶丽君"), ("name", "闫淑华"),
            ("name", "龚雪琴"), ("id_number", ids["wei"]), ("phone", "18977264105")]),
        Page("page-03", "microhei", [
            "法律援助经济困难状况说明表",
            "申请人\t蒙秋菊\t性别\t女",
            f"身份证号\t{ids['meng']}\t民族\t瑶",
            "联系电话\t15277409386\t家庭人口\t4",
            "住址\t柳州市柳北区跃进路18号3栋",
            "月收入\t一千九百元\t收入来源\t零工",
            "村委证明人\t黎振华\t证明人电话\t0772-2853196",
            "案件类型\t婚姻家庭\t对方当事人\t阮国栋",
            "受理机构\t柳州市柳北区法律援助中心",
            "文号\t柳北法援〔2024〕117号",
            "申请人签名\t蒙秋菊\t日期\t2024年3月28日",
        ], [("name", "蒙秋菊"), ("name", "黎振华"), ("name", "阮国栋"), ("id_number", ids["meng"]),
            ("phone", "15277409386"), ("phone", "0772-2853196"), ("case_number", "柳北法援〔2024〕117号")],
            degradations=["blur σ=1.1"], table=True),
        Page("page-04", "zenhei", [
            "法律援助案件结案归档登记表",
            "序号\t受援人\t承办人\t案号\t归档日期",
            "1\t黎秀英\t蔺晓峰\t（2024）桂0203刑初76号\t2024年6月3日",
            "2\t覃家宝\t蓝志远\t（2024）桂0103民初3587号\t2024年7月9日",
            "3\t韦玉兰\t饶丽君\t（2023）桂02民终1892号\t2024年1月22日",
            "4\t卜春生\t蔺晓峰\t（2024）桂0502民初641号\t2024年8月15日",
            "登记人：滕美娟　电话：0771-5632918",
            "柳州市法律援助中心　二〇二四年八月二十日",
        ], [("name", "黎秀英"), ("name", "蔺晓峰"), ("name", "覃家宝"), ("name", "蓝志远"), ("name", "韦玉兰"),
            ("name", "饶丽君"), ("name", "卜春生"), ("case_number", "（2024）桂0203刑初76号"),
            ("case_number", "（2024）桂0103民初3587号"), ("case_number", "（2023）桂02民终1892号"),
            ("case_number", "（2024）桂0502民初641号"), ("phone", "0771-5632918")],
            degradations=["JPEG quality 28"], table=True),
        Page("page-05", "microhei", [
            "取保候审申请书",
            "申请人：蔺晓峰，广西邕城律师事务所律师，系犯罪嫌疑人黎永康的辩护人，电话13517716048。",
            f"犯罪嫌疑人：黎永康，男，1966年7月30日出生，公民身份号码{ids['li']}，因涉嫌交通肇事罪于2024年",
            "9月2日被北海市公安局海城分局刑事拘留，现羁押于北海市看守所。",
            "申请事项：对犯罪嫌疑人黎永康取保候审。",
            "事实和理由：",
            "一、犯罪嫌疑人案发后留在现场，拨打120急救电话并报警，主动配合调查，如实供述，依法可从轻处罚。",
            "二、犯罪嫌疑人已向被害人家属霍丽珍赔偿人民币十二万元，取得书面谅解。",
            "三、犯罪嫌疑人患有高血压、糖尿病，不宜继续羁押，其妻子闫桂香愿意担任保证人。",
            "综上，犯罪嫌疑人采取取保候审不致发生社会危险性，特提出申请，请予批准。",
            "此致",
            "北海市公安局海城分局",
            "申请人：蔺晓峰",
            "二〇二四年九月十日",
        ], [("name", "蔺晓峰"), ("name", "黎永康"), ("name", "霍丽珍"), ("name", "闫桂香"), ("id_number", ids["li"]),
            ("phone", "13517716048")],
            degradations=["salt-and-pepper noise 1.0 %"]),
        Page("page-06", "microhei", [
            "法律援助指派通知书",
            "桂司援指〔2024〕203号",
            "广西邕城律师事务所：",
            "根据《中华人民共和国法律援助法》第三十条的规定，本中心决定为受援人阮小燕提供法律援助，",
            "请指派律师于收到本通知书之日起三日内与受援人联系，并依法办理。",
            f"受援人身份证号：{ids['ruan']}",
            "受援人电话：19977108352",
            "案由：机动车交通事故责任纠纷",
            "对方当事人：南宁市顺通出租汽车有限公司",
            "联系人：饶丽君　电话：0771-2861437",
            "经办人：龚雪琴　负责人：覃振宇",
            "南宁市法律援助中心",
            "二〇二四年五月六日",
        ], [("name", "阮小燕"), ("name", "饶丽君"), ("name", "龚雪琴"), ("name", "覃振宇"), ("id_number", ids["ruan"]),
            ("phone", "19977108352"), ("phone", "0771-2861437"), ("case_number", "桂司援指〔2024〕203号")],
            degradations=["grey paper", "red seal over names"], seal_on="经办人：龚雪琴　负责人：覃振宇"),
        Page("page-07", "ukai", [
            "案件讨论记录",
            "案号：（2024）桂0502民初641号",
            "主持人：滕美娟　记录人：农丽萍",
            "参加人：蔺晓峰、蓝志远、卜建勇",
            "讨论内容：受援人卜春生诉北海市银滩酒店管理有限公司劳动争议一案的代理方案。",
            "蔺晓峰：对方主张受援人系劳务派遣，应追加派遣单位北海市众诚人力资源有限公司为被告。",
            "蓝志远：考勤和工资均由酒店直接管理，可主张事实劳动关系。",
            "卜建勇：建议申请调取社保缴费记录，联系人邬春霞，电话18107797263。",
            "结论：按事实劳动关系起诉，同时申请追加派遣单位为第三人。",
            "记录人签名：农丽萍",
        ], [("name", "滕美娟"), ("name", "农丽萍"), ("name", "蔺晓峰"), ("name", "蓝志远"), ("name", "卜建勇"),
            ("name", "卜春生"), ("name", "邬春霞"), ("phone", "18107797263"),
            ("case_number", "（2024）桂0502民初641号")],
            degradations=["rotation +0.6°", "JPEG quality 40"]),
        Page("page-08", "zenhei", [
            "受援人回访记录",
            "案号：（2023）桂02民终1892号",
            "受援人：韦玉兰　承办律师：饶丽君",
            "回访人：闫淑华　回访电话：13307728514",
            "一、受援人对承办律师的服务态度表示满意，律师每次开庭前均与其沟通。",
            "二、受援人反映二审判决后执行款尚未全部到位，希望律师继续协助申请强制执行。",
            "三、受援人未向承办律师支付任何费用。",
            "回访结论：满意",
            "回访人签名：闫淑华　审核人：韦德明",
            "二〇二四年二月二十六日",
        ], [("name", "韦玉兰"), ("name", "饶丽君"), ("name", "闫淑华"), ("name", "韦德明"), ("phone", "13307728514"),
            ("case_number", "（2023）桂02民终1892号")],
            degradations=["blur σ=0.8", "grey paper"]),
    ]


#: the corpora make_corpus renders: their pages, the first rendering seed, the default directory
SETS = {"main": (pages, 1000, HERE / "corpus"), "heldout": (heldout_pages, 7000, HERE / "heldout")}


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, current = [], ""
    for char in text:
        if font.getlength(current + char) > width:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current else lines


def render(page: Page, rng: random.Random) -> tuple[Image.Image, list[str], tuple[int, int, int, int] | None]:
    """The clean page (RGB), the lines as rendered, and the box of the line the seal covers."""
    font = ImageFont.truetype(FONTS[page.font], SIZE)
    title = ImageFont.truetype(FONTS[page.font], int(SIZE * 1.5))
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y = MARGIN
    rendered: list[str] = []
    seal_box = None
    for number, line in enumerate(page.lines):
        if number == 0:
            width = draw.textlength(line, font=title)
            draw.text(((WIDTH - width) / 2, y), line, font=title, fill=(0, 0, 0))
            rendered.append(line)
            y += int(LEADING * 1.6)
            continue
        if "\t" in line:
            cells = line.split("\t")
            column = (WIDTH - 2 * MARGIN) // len(cells)
            if page.table:
                for index in range(len(cells) + 1):
                    draw.line([(MARGIN + index * column, y - 16), (MARGIN + index * column, y + LEADING - 8)],
                              fill=(0, 0, 0), width=3)
                draw.line([(MARGIN, y - 16), (WIDTH - MARGIN, y - 16)], fill=(0, 0, 0), width=3)
                draw.line([(MARGIN, y + LEADING - 8), (WIDTH - MARGIN, y + LEADING - 8)], fill=(0, 0, 0), width=3)
            cell_font = font
            for cell in cells:
                while draw.textlength(cell, font=cell_font) > column - 30:
                    cell_font = ImageFont.truetype(FONTS[page.font], cell_font.size - 2)
            for index, cell in enumerate(cells):
                draw.text((MARGIN + index * column + 14, y), cell, font=cell_font, fill=(0, 0, 0))
            rendered.append(" ".join(cells))
            y += LEADING + 12
            continue
        for part in _wrap(line, font, WIDTH - 2 * MARGIN):
            draw.text((MARGIN, y), part, font=font, fill=(0, 0, 0))
            if page.seal_on == line:
                seal_box = (MARGIN, y, MARGIN + int(draw.textlength(part, font=font)), y + SIZE)
            rendered.append(part)
            y += LEADING
    assert y < HEIGHT - MARGIN, f"{page.name} does not fit on the page"
    return image, rendered, seal_box


def red_seal(image: Image.Image, centre: tuple[int, int], rng: random.Random) -> Image.Image:
    """Press a round red seal (ring, star, agency name) over ``centre``, multiplied like ink on paper."""
    size = 420
    seal = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(seal)
    red = (205, 32, 38)
    draw.ellipse([10, 10, size - 10, size - 10], outline=red, width=16)
    cx = cy = size // 2
    points = []
    for k in range(10):
        radius = 70 if k % 2 == 0 else 28
        angle = np.pi / 2 + k * np.pi / 5
        points.append((cx + radius * np.cos(angle), cy - radius * np.sin(angle)))
    draw.polygon(points, fill=red)
    font = ImageFont.truetype(FONTS["microhei"], 40)
    text = "江门市蓬江区法律援助处"
    for index, char in enumerate(text):
        angle = np.pi * (1.15 - index * 1.3 / (len(text) - 1))
        x, y = cx + 150 * np.cos(angle) - 20, cy - 150 * np.sin(angle) - 20
        draw.text((x, y), char, font=font, fill=red)
    draw.text((cx - 100, cy + 95), "法律援助专用章", font=ImageFont.truetype(FONTS["microhei"], 32), fill=red)
    seal = seal.rotate(rng.uniform(-25, 25), fillcolor=(255, 255, 255), resample=Image.Resampling.BICUBIC)
    paper = np.asarray(image).astype(np.float32) / 255
    ink = np.asarray(seal).astype(np.float32) / 255
    ink = 1 - (1 - ink) * 0.85  # seals are not fully opaque
    x0, y0 = centre[0] - size // 2, centre[1] - size // 2
    paper[y0 : y0 + size, x0 : x0 + size] *= ink
    return Image.fromarray((paper * 255).clip(0, 255).astype(np.uint8))


def degrade(image: Image.Image, page: Page, seal_box: tuple[int, int, int, int] | None,
            rng: random.Random) -> tuple[Image.Image, str]:
    """Apply the page's degradations in a scanner's order; returns the image and its file suffix."""
    suffix = "png"
    array_rng = np.random.default_rng(rng.randrange(2**32))
    for step in page.degradations:
        if step == "red seal over names":
            assert seal_box is not None
            image = red_seal(image, ((seal_box[0] + seal_box[2]) // 2 + 60, (seal_box[1] + seal_box[3]) // 2), rng)
        elif step == "grey paper":
            paper = np.asarray(image).astype(np.float32)
            blotches = Image.fromarray(array_rng.normal(128, 40, (HEIGHT // 32, WIDTH // 32)).clip(0, 255)
                                       .astype(np.uint8)).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
            tone = 212 + (np.asarray(blotches).astype(np.float32)[..., None] - 128) / 10
            ink = paper / 255  # 1 on paper, 0 on ink
            paper = tone * ink + 55 * (1 - ink)
            image = Image.fromarray(paper.clip(0, 255).astype(np.uint8))
    for step in page.degradations:
        if step.startswith("rotation"):
            angle = float(step.split()[1].rstrip("°"))
            image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
        elif step.startswith("blur"):
            image = image.filter(ImageFilter.GaussianBlur(float(step.split("=")[1])))
        elif step.startswith("salt"):
            pixels = np.asarray(image).copy()
            share = float(step.split()[-2]) / 100
            mask = array_rng.random(pixels.shape[:2])
            pixels[mask < share / 2] = 0
            pixels[mask > 1 - share / 2] = 255
            image = Image.fromarray(pixels)
    for step in page.degradations:
        if step.startswith("JPEG"):
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=int(step.split()[-1]))
            image = Image.open(io.BytesIO(out.getvalue()))
            image.load()
            suffix = "jpg"
    return image, suffix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="main")
    parser.add_argument("--out", type=Path, help="directory (default bench/ocr/corpus, or bench/ocr/heldout)")
    args = parser.parse_args()
    make, seed, default_out = SETS[args.set]
    args.out = args.out or default_out
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("page-*"):
        old.unlink()
    for index, page in enumerate(make()):
        rng = random.Random(seed + index)
        image, lines, seal_box = render(page, rng)
        image, suffix = degrade(image, page, seal_box, rng)
        text = "\n".join(lines)
        for kind, value in page.identifiers:
            assert value in "".join(text.split()), f"{page.name}: {kind} {value} is not on the page"
        path = args.out / f"{page.name}.{suffix}"
        if suffix == "jpg":
            image.save(path, format="JPEG", quality=int(page.degradations[-1].split()[-1]))
        elif "red seal over names" in page.degradations:
            image.save(path, format="PNG")
        else:
            image.convert("L").save(path, format="PNG")
        (args.out / f"{page.name}.txt").write_text(text + "\n", encoding="utf-8")
        meta = {"image": path.name, "font": page.font, "degradations": page.degradations,
                "identifiers": [{"kind": kind, "text": value} for kind, value in page.identifiers]}
        (args.out / f"{page.name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
        print(f"{path.name}: {len(text)} characters, {len(page.identifiers)} identifiers, "
              f"{', '.join(page.degradations) or 'clean'}")


if __name__ == "__main__":
    main()
