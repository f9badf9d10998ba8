"""Look-alike characters among and around the HSK1 set: hard negatives for verification, variety for training.

Groups are hand-picked (one stroke more or less, a stroke longer or crossing, the same parts in another place);
every member of a group is a look-alike of every other. Only characters present in the stroke data are returned.
"""

from __future__ import annotations

from functools import lru_cache

GROUPS: tuple[str, ...] = (
    "大太犬夫天丈", "人八入乂", "日目田白曰旧且", "日月用", "口囗回", "土士王工干", "己已巳", "木本未末术禾",
    "午牛年", "天夫无", "儿几九", "商高", "现视观规", "说读谈话", "了子", "小少", "上下卡", "千干于", "十千",
    "二三", "中申由甲", "东车", "么公", "门们问间", "个介", "他她也", "在左右", "开井", "么么", "我找", "块快",
    "吃乞", "喝渴", "请情清晴", "时对", "听斤", "见贝", "北比", "冷冰", "家豕", "字学", "明朋", "买卖", "头买",
    "打他", "电由", "没设", "钱线", "看着", "认从", "后右", "生牛", "米来", "出山", "飞下", "火大", "水木",
    "爱受", "衣农", "会全", "住往", "作昨", "坐座", "些此", "岁多", "的约", "喂喂", "气乞", "不下", "五丑",
    "四西", "六穴", "七匕", "也他", "号亏", "哪那", "呢尼", "医区", "叫叶", "师帅", "脑恼", "样洋", "能熊",
    "起赶", "候侯", "分今", "今令", "妈吗码", "菜采", "茶条", "都部", "脑胸", "客容", "名各", "桌卓", "视祝",
    "爸把", "杯坏不", "京景", "点店占站", "饭板反", "馆官", "机几", "钟中种", "汉又", "语话", "好妈", "和知",
    "很银跟", "老考孝", "里理果", "猫描", "关美", "你他", "女安", "友有左", "前剪", "去丢云", "热执", "什十",
    "是走", "书韦", "谁准", "睡垂", "觉见", "同周", "雨两", "先洗", "想相", "姐组租", "写与", "谢射", "星生",
    "期朝", "习刁", "校交", "一二", "服报", "院完", "椅奇", "再耳", "怎作", "这进", "国圆", "做故", "喜嘉",
    "欢次", "零冷", "影景", "兴举", "狗句", "系糸", "面而", "漂票", "亮高", "苹平", "识只", "喂畏", "热熟",
)


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in GROUPS:
        members = list(dict.fromkeys(group))
        for c in members:
            row = table.setdefault(c, [])
            row.extend(o for o in members if o != c and o not in row)
    return {c: tuple(v) for c, v in table.items() if v}


def lookalikes(db=None) -> dict[str, list[str]]:
    """Character → its look-alikes, both present in the stroke data (``db``: a StrokeDB, default one if None)."""
    if db is None:
        from .strokes import default_db

        db = default_db()
    out: dict[str, list[str]] = {}
    for c, others in _table().items():
        if c in db:
            present = [o for o in others if o in db]
            if present:
                out[c] = present
    return out


def hsk1_lookalikes() -> dict[str, list[str]]:
    """HSK1 character → its look-alikes that are HSK1 characters too (from the groups alone: no stroke data)."""
    from .charset import hsk1_chars

    known = set(hsk1_chars())
    out = {c: [o for o in others if o in known] for c, others in _table().items() if c in known}
    return {c: v for c, v in out.items() if v}
