"""Pinyin (with tone marks) of the 178 HSK1 characters: the reading taught in the HSK1 words they come from.

Used by the web page's target picker and the service's ``/v1/chars``. Kept in code (not a data file) so it
ships with the package without a package-data rule.
"""

from __future__ import annotations

from functools import lru_cache

from .charset import hsk1_chars

_TABLE = """
爱 ài
八 bā
爸 bà
杯 bēi
子 zǐ
北 běi
京 jīng
本 běn
不 bù
客 kè
气 qì
菜 cài
茶 chá
吃 chī
出 chū
租 zū
车 chē
打 dǎ
电 diàn
话 huà
大 dà
的 de
点 diǎn
脑 nǎo
视 shì
影 yǐng
东 dōng
西 xī
都 dōu
读 dú
对 duì
起 qǐ
多 duō
少 shǎo
儿 ér
二 èr
饭 fàn
馆 guǎn
飞 fēi
机 jī
分 fēn
钟 zhōng
高 gāo
兴 xìng
个 gè
工 gōng
作 zuò
狗 gǒu
汉 hàn
语 yǔ
好 hǎo
喝 hē
和 hé
很 hěn
后 hòu
面 miàn
回 huí
会 huì
火 huǒ
站 zhàn
几 jǐ
家 jiā
叫 jiào
今 jīn
天 tiān
九 jiǔ
开 kāi
看 kàn
见 jiàn
块 kuài
来 lái
老 lǎo
师 shī
了 le
冷 lěng
里 lǐ
零 líng
六 liù
妈 mā
吗 ma
买 mǎi
猫 māo
没 méi
关 guān
系 xì
米 mǐ
名 míng
字 zì
明 míng
哪 nǎ
那 nà
呢 ne
能 néng
你 nǐ
年 nián
女 nǚ
朋 péng
友 yǒu
漂 piào
亮 liàng
苹 píng
果 guǒ
七 qī
前 qián
钱 qián
请 qǐng
去 qù
热 rè
人 rén
认 rèn
识 shí
日 rì
三 sān
商 shāng
店 diàn
上 shàng
午 wǔ
什 shén
么 me
十 shí
时 shí
候 hòu
是 shì
书 shū
谁 shéi
水 shuǐ
睡 shuì
觉 jiào
说 shuō
四 sì
岁 suì
他 tā
她 tā
太 tài
听 tīng
同 tóng
学 xué
喂 wèi
我 wǒ
们 men
五 wǔ
喜 xǐ
欢 huān
下 xià
雨 yǔ
先 xiān
生 shēng
现 xiàn
在 zài
想 xiǎng
小 xiǎo
姐 jiě
些 xiē
写 xiě
谢 xiè
星 xīng
期 qī
习 xí
校 xiào
一 yī
衣 yī
服 fú
医 yī
院 yuàn
椅 yǐ
有 yǒu
月 yuè
再 zài
怎 zěn
样 yàng
这 zhè
中 zhōng
国 guó
住 zhù
桌 zhuō
昨 zuó
坐 zuò
做 zuò
"""


@lru_cache(maxsize=1)
def pinyin() -> dict[str, str]:
    """{character: pinyin} for every HSK1 character, in class order."""
    table = dict(line.split() for line in _TABLE.strip().splitlines())
    missing = [c for c in hsk1_chars() if c not in table]
    if missing or len(table) != len(hsk1_chars()):
        raise RuntimeError(f"pinyin table out of step with hsk1_chars.txt (missing {''.join(missing)!r})")
    return {c: table[c] for c in hsk1_chars()}
