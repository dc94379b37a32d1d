"""How alike two complaints are, for dedupe rule 5, over their content words (Snowball stems,
Russian and English; greetings, politeness and function words left out): the share of the
shorter text's words found in the other when they share at least four (a follow-up that
repeats the first message under a new preamble), else the share of all their words they have
in common (Jaccard). So "Чайник сломался" and "Утюг сломался" are two problems, and a customer
repeating the same complaint in other words is one."""
from __future__ import annotations

import re
from shared.stemming import stem

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset("""
    здравствуйте добрый доброго день вечер утро привет уважаемый уважаемые спасибо пожалуйста прошу просим
    пишу писала писал обращаюсь повторно снова опять ещё еще уже очень всё все это этот эта эти что чтобы как
    так там тут где когда который которая которые мне меня мой моя моё мои вас вам ваш ваша ваши нас нам наш
    was were the and for with this that have has had not but you your our are from please hello dear thanks
    thank regards would could there their they them about again still also just very been into after before
    после перед через для при без под над про или либо then than when while after before
    заказ заказа заказе заказу order товар товара магазин магазина shop store item product
""".split())


def content_stems(text: str) -> frozenset[str]:
    words = (w for w in _WORD.findall(text.lower().replace("ё", "е")) if w not in STOPWORDS)
    return frozenset(stem(w) for w in words)


MIN_SHARED_FOR_CONTAINMENT = 4


def likeness(a: str, b: str) -> float:
    """0..1, see the module's docstring."""
    x, y = content_stems(a), content_stems(b)
    if not x or not y:
        return 0.0
    shared = len(x & y)
    if shared >= MIN_SHARED_FOR_CONTAINMENT:
        return shared / min(len(x), len(y))
    return shared / len(x | y)
