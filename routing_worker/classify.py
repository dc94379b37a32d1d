"""Category, department and priority from what the customer wrote, by the keyword rules of
the retailer's policy file. Pure: text and policy in, a Classification out."""
from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache

from shared.policy import Keyword, Policy, words_of
from shared.schema import Classification, Priority
from shared.stemming import lemma, stem


class KeywordIndex:
    """Finds which keywords a text contains in one pass over its words: each word looks up its own
    prefixes (a keyword may be written as a stem), its Snowball stem and its lemma (or as a word
    whose inflections should meet), so the cost grows with the text, not with the number of keywords."""

    def __init__(self, keywords: list[tuple[str, Keyword]]):
        self.by_first: dict[str, list[tuple[str, Keyword]]] = defaultdict(list)
        self.by_stem: dict[str, list[tuple[str, Keyword]]] = defaultdict(list)
        self.by_lemma: dict[str, list[tuple[str, Keyword]]] = defaultdict(list)
        for owner, keyword in keywords:
            self.by_first[keyword.words[0]].append((owner, keyword))
            if not keyword.exact:
                self.by_stem[keyword.stems[0]].append((owner, keyword))
                if keyword.lemmas[0] is not None:
                    self.by_lemma[keyword.lemmas[0]].append((owner, keyword))
        self.lengths = sorted({len(k.words[0]) for _, k in keywords})   # the prefixes worth looking up

    def find(self, words: list[str]) -> dict[str, list[Keyword]]:
        stems = [stem(w) for w in words]
        lemmas = [lemma(w) for w in words]
        found: dict[str, dict[Keyword, None]] = defaultdict(dict)
        by_first = self.by_first
        for i, word in enumerate(words):
            candidates = list(self.by_stem.get(stems[i], ()))
            if lemmas[i] is not None:
                candidates += self.by_lemma.get(lemmas[i], ())
            for n in self.lengths:
                if n > len(word):
                    break
                candidates += by_first.get(word[:n], ())
            for owner, keyword in candidates:
                if keyword not in found[owner] and _matches_at(keyword, words, stems, lemmas, i):
                    found[owner][keyword] = None
        return {owner: list(hits) for owner, hits in found.items() if hits}


def _word_matches(keyword: Keyword, j: int, word: str, word_stem: str, word_lemma: str) -> bool:
    if keyword.exact:
        return word == keyword.words[j]
    return (word.startswith(keyword.words[j]) or word_stem == keyword.stems[j]
            or (word_lemma is not None and word_lemma == keyword.lemmas[j]))


def _matches_at(keyword: Keyword, words: list[str], stems: list[str], lemmas: list[str], i: int) -> bool:
    if i + len(keyword.words) > len(words):
        return False
    return all(_word_matches(keyword, j, words[i + j], stems[i + j], lemmas[i + j])
               for j in range(len(keyword.words)))


LEGAL = "\x00priority:high"     # the owner of the policy's legal-threat keywords in the shared index


@lru_cache(maxsize=8)
def _index(policy: Policy) -> KeywordIndex:
    """One index of every keyword (categories' and priority's), so a text is read once."""
    return KeywordIndex([(name, k) for name, c in policy.categories.items() for k in c.keywords]
                        + [(LEGAL, k) for k in policy.high_priority_keywords])


def _scores(hits: dict[str, list[Keyword]]) -> dict[str, tuple[float, list[str]]]:
    return {name: (sum(k.weight for k in found), [" ".join(k.words) for k in found])
            for name, found in hits.items() if name != LEGAL}


def score_categories(words: list[str], policy: Policy) -> dict[str, tuple[float, list[str]]]:
    return _scores(_index(policy).find(words))


KEYWORD_WEIGHT = 0.5      # with a model, a category's keywords are evidence that multiplies a category's odds by exp(KEYWORD_WEIGHT × its keyword score)
TRIAGE_BELOW = 0.45       # a model's best (calibrated) probability below this goes to a person


def _triage_department(policy: Policy) -> str:
    return policy.triage_department or policy.department_of(policy.fallback_category)


def _routing_setting(policy: Policy, name: str, default: float) -> float:
    """``routing: {keyword_weight: …, triage_below: …}`` in the policy file overrides the defaults."""
    value = getattr(policy, name, None)
    return default if value is None else value


def with_keywords(candidates: list[tuple[str, float]], scores: dict[str, tuple[float, list[str]]],
                  weight: float) -> list[tuple[str, float]]:
    """The model's probabilities with the policy's keywords as evidence: each category's odds
    multiplied by exp(weight × keyword score), renormalised, best first. The retailer's keywords
    move the model, they do not replace it."""
    if not scores or not weight:
        return candidates
    raised = [(c, p * math.exp(weight * min(scores.get(c, (0.0,))[0], 10.0))) for c, p in candidates]
    total = sum(p for _, p in raised) or 1.0
    return sorted(((c, p / total) for c, p in raised), key=lambda cp: (-cp[1], cp[0]))


def _triage(policy: Policy, why: str) -> tuple[None, float, str, list[str]]:
    return None, 0.0, _triage_department(policy), [f"triage: {why}"]


def classify(text: str, policy: Policy, *, has_other_open_claim: bool = False, marketplace: str | None = None,
             reason_codes=(), model=None) -> Classification:
    """Evidence in order: a marketplace reason code the policy maps decides alone. Otherwise the
    model (anything with ``predict(text) -> [(category, probability)]``, best first) reads the
    text and the policy's keywords raise the odds of the categories they speak for; a best
    probability below ``triage_below`` sends the claim to the policy's triage department, with
    no category, the candidates in evidence. Without a model the keyword rules decide alone.
    A claim nothing speaks for (blank text, no keyword) waits in triage for a person; a policy
    without a triage department gets its fallback category instead."""
    hits = _index(policy).find(words_of(text))
    scores = _scores(hits)
    order = list(policy.categories)
    ranked = sorted(scores, key=lambda c: (-scores[c][0], order.index(c)))
    by_code = policy.category_of_reason(marketplace, reason_codes)
    department = None
    if by_code:
        best, confidence, evidence = by_code[0], 1.0, [f"reason_code:{marketplace}:{by_code[1]}"]
    elif model is not None:
        readable = any(ch.isalpha() for ch in text or "")
        candidates = [(c, p) for c, p in (model.predict(text) if readable else ()) if c in policy.categories]
        candidates = with_keywords(candidates, scores, _routing_setting(policy, "keyword_weight", KEYWORD_WEIGHT))
        threshold = _routing_setting(policy, "triage_below", TRIAGE_BELOW)
        if not candidates:       # no words: nothing for the model to read
            best, confidence, department, evidence = _triage(policy, "no text to classify")
        elif candidates[0][1] < threshold:
            best, confidence, department, evidence = _triage(
                policy, f"model confidence {candidates[0][1]:.2f} < {threshold:.2f}")
            confidence = candidates[0][1]
            evidence += [f"candidate:{c}:{p:.2f}" for c, p in candidates[:3]]
            evidence += [f"keyword:{w}" for c in ranked for w in scores[c][1]]
        else:
            best, confidence = candidates[0]
            evidence = [f"model:{best}:{confidence:.2f}"] + [f"keyword:{w}" for w in scores.get(best, (0, []))[1]]
    elif ranked:
        best = ranked[0]
        confidence = scores[best][0] / sum(s for s, _ in scores.values())
        evidence = [f"keyword:{w}" for w in scores[best][1]]
    elif policy.triage_department:
        best, confidence, department, evidence = _triage(policy, "no reason code or keyword speaks for a category")
    else:
        best, confidence, evidence = policy.fallback_category, 0.0, ["fallback: no keyword matched"]
    legal = [" ".join(k.words) for k in hits.get(LEGAL, [])]
    high = bool(legal) or (has_other_open_claim and policy.repeat_customer_is_high)
    if legal:
        evidence.append("priority:legal:" + ",".join(legal))
    if has_other_open_claim:
        evidence.append("priority:repeat_customer")
    return Classification(category=best, department=department or policy.department_of(best),
                          priority=Priority.HIGH if high else Priority.NORMAL,
                          confidence=round(confidence, 3), evidence=tuple(evidence))
