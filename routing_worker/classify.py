"""Category, department and priority from what the customer wrote, by the keyword rules of
the retailer's policy file. Pure: text and policy in, a Classification out."""
from __future__ import annotations

from shared.policy import Keyword, Policy, words_of
from shared.schema import Classification, Priority


def _matches(keyword: Keyword, words: list[str]) -> bool:
    n = len(keyword.words)
    for i in range(len(words) - n + 1):
        if all((words[i + j] == stem) if keyword.exact else words[i + j].startswith(stem)
               for j, stem in enumerate(keyword.words)):
            return True
    return False


def score_categories(words: list[str], policy: Policy) -> dict[str, tuple[float, list[str]]]:
    scores = {}
    for name, category in policy.categories.items():
        hits = [k for k in category.keywords if _matches(k, words)]
        if hits:
            scores[name] = (sum(k.weight for k in hits), [" ".join(k.words) for k in hits])
    return scores


def classify(text: str, policy: Policy, *, has_other_open_claim: bool = False) -> Classification:
    words = words_of(text)
    scores = score_categories(words, policy)
    order = list(policy.categories)
    if scores:
        best = max(scores, key=lambda c: (scores[c][0], -order.index(c)))
        total = sum(s for s, _ in scores.values())
        confidence = scores[best][0] / total
        evidence = [f"keyword:{w}" for w in scores[best][1]]
    else:
        best, confidence, evidence = policy.fallback_category, 0.0, ["fallback: no keyword matched"]
    legal = [" ".join(k.words) for k in policy.high_priority_keywords if _matches(k, words)]
    high = bool(legal) or (has_other_open_claim and policy.repeat_customer_is_high)
    if legal:
        evidence.append("priority:legal:" + ",".join(legal))
    if has_other_open_claim:
        evidence.append("priority:repeat_customer")
    return Classification(category=best, department=policy.department_of(best),
                          priority=Priority.HIGH if high else Priority.NORMAL,
                          confidence=round(confidence, 3), evidence=tuple(evidence))
