"""Loads the retailer's policy file: categories, departments, keywords, priority rules,
deadlines and the business calendar (``policy.md``). Read once at start-up."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from shared.calendars import DAY_NAMES, Calendar, parse_calendars   # noqa: F401  (DAY_NAMES: re-exported)
from shared.deadline_rules import DeadlinePolicy, parse_deadlines
from shared.schema import Channel, Priority, Resolution
from shared.stemming import dictionary_lemma, stem


class PolicyError(ValueError):
    """The policy file is unusable: says which part and why."""


@dataclass(frozen=True)
class Keyword:
    """Consecutive words. A word of the text meets a keyword's word when it begins with it (the
    policy may write a stem: «протек» meets «протекает»), when both have the same Snowball stem
    (the policy may write a word: «сломан» meets «сломался»), or the same lemma (the policy may write
    a dictionary form: «прийти» meets «пришла»); an exact keyword's word only itself."""
    words: tuple[str, ...]     # lower-case, ё read as е
    weight: float = 1.0
    exact: bool = False
    stems: tuple[str, ...] = field(default=(), compare=False)    # computed once, from ``words``
    lemmas: tuple[str | None, ...] = field(default=(), compare=False)   # likewise; None: not a word

    def __post_init__(self):
        if not self.stems:
            object.__setattr__(self, "stems", tuple(stem(w) for w in self.words))
        if not self.lemmas:
            object.__setattr__(self, "lemmas", tuple(dictionary_lemma(w) for w in self.words))

    @classmethod
    def parse(cls, spec: str) -> "Keyword":
        weight, exact = 1.0, False
        spec = spec.strip()
        if spec.startswith("!"):
            weight, spec = 3.0, spec[1:]
        if spec.startswith("="):
            exact, spec = True, spec[1:]
        words = tuple(words_of(spec))
        if not words:
            raise PolicyError(f"empty keyword {spec!r}")
        return cls(words, weight * len(words), exact)


@dataclass(frozen=True)
class Category:
    name: str
    department: str
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True, eq=False)    # compared and hashed by identity: one loaded policy, one object
class Policy:
    departments: dict[str, str]
    categories: dict[str, Category]
    fallback_category: str
    high_priority_keywords: tuple[Keyword, ...]
    repeat_customer_is_high: bool
    deadlines: DeadlinePolicy
    calendar: Calendar                        # the default business calendar
    calendars: dict[str, Calendar] = field(default_factory=dict)   # every named calendar, the default too
    reason_codes: dict[str, dict[str, str]] = field(default_factory=dict)   # marketplace → code → category
    triage_department: str | None = None      # where claims no evidence speaks for wait for a person
    keyword_weight: float | None = None       # routing: how far keywords move the model (None: routing's default)
    triage_below: float | None = None         # routing: the model's confidence under which a person reads it
    source: str = field(default="", compare=False)
    document: dict = field(default_factory=dict, compare=False, repr=False)   # the YAML it was parsed from

    def category_of_reason(self, marketplace: str | None, codes) -> tuple[str, str] | None:
        """The category the first mapped reason code means, with that code."""
        table = self.reason_codes.get((marketplace or "").strip().lower().replace("-", "_"), {})
        for code in codes:
            if code in table:
                return table[code], code
        return None

    def department_of(self, category: str) -> str:
        return self.categories[category].department


_WORD = re.compile(r"[\w']+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """Lower-case words, ё read as е, split on anything but letters, digits and apostrophes:
    the one tokeniser of both the policy's keywords and the customer's text."""
    return _WORD.findall(text.lower().replace("ё", "е").replace("’", "'"))


def _keywords(spec: dict | list | None, where: str) -> tuple[Keyword, ...]:
    if spec is None:
        return ()
    items = [k for lang in spec.values() for k in lang] if isinstance(spec, dict) else list(spec)
    try:
        return tuple(Keyword.parse(str(k)) for k in items)
    except PolicyError as e:
        raise PolicyError(f"{where}: {e}") from None


def _routing_section(spec) -> dict:
    """``routing: {keyword_weight: 0..10, triage_below: 0..1}``, both optional."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise PolicyError("routing: must be a mapping of keyword_weight and triage_below")
    unknown = sorted(set(spec) - {"keyword_weight", "triage_below"})
    if unknown:
        raise PolicyError(f"routing: unknown setting {', '.join(map(str, unknown))} "
                          "(known: keyword_weight, triage_below)")
    out = {}
    for name, top in (("keyword_weight", 10.0), ("triage_below", 1.0)):
        if name in spec:
            value = spec[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
                raise PolicyError(f"routing.{name} must be a number from 0 to {top:g}, not {value!r}")
            out[name] = float(value)
    return out


def _check_other_sections(doc: dict, source: str, departments) -> None:
    """``closing:`` and ``notifications:`` are parsed by the parts that use them, but checked here,
    with the whole file: a typo stops the process at start-up with one line, instead of failing
    the housekeeping every minute while /healthz stays green."""
    from shared.closing_policy import parse_closing
    from shared.notify_policy import parse_notifications
    parse_closing(doc, source)
    parse_notifications(doc, source, departments)


def parse_policy(doc: dict, source: str = "") -> Policy:
    if not isinstance(doc, dict):
        raise PolicyError(f"{source}: the policy must be a YAML mapping")
    try:
        departments = {str(k): str((v or {}).get("title", k)) for k, v in doc["departments"].items()}
        categories = {}
        for name, spec in doc["categories"].items():
            dept = spec["department"]
            if dept not in departments:
                raise PolicyError(f"category {name}: department {dept!r} is not among departments")
            categories[name] = Category(name, dept, _keywords(spec.get("keywords"), f"category {name}"))
        fallback = doc.get("fallback_category") or next(iter(categories))
        if fallback not in categories:
            raise PolicyError(f"fallback_category {fallback!r} is not a category")
        prio = doc.get("priority") or {}
        calendars, default_calendar = parse_calendars(doc)
        deadlines = parse_deadlines(doc["deadlines"], calendars, {
            "category": categories, "department": departments, "channel": [c.value for c in Channel],
            "priority": [p.value for p in Priority], "resolution": [r.value for r in Resolution]})
        reason_codes = {str(m): {str(code): str(cat) for code, cat in (table or {}).items()}
                        for m, table in (doc.get("reason_codes") or {}).items()}
        unknown = sorted({cat for table in reason_codes.values() for cat in table.values()} - categories.keys())
        if unknown:
            raise PolicyError(f"reason_codes name unknown categories: {', '.join(unknown)}")
        triage = doc.get("triage_department")
        if triage is not None and triage not in departments:
            raise PolicyError(f"triage_department {triage!r} is not among departments")
        routing = _routing_section(doc.get("routing"))
        _check_other_sections(doc, source, departments)
        return Policy(
            **routing,
            triage_department=triage,
            reason_codes=reason_codes,
            departments=departments,
            categories=categories,
            fallback_category=fallback,
            high_priority_keywords=_keywords(prio.get("high_keywords"), "priority.high_keywords"),
            repeat_customer_is_high=bool(prio.get("repeat_customer_is_high", True)),
            deadlines=deadlines,
            calendar=calendars[default_calendar],
            calendars=calendars,
            source=source,
            document=doc,
        )
    except KeyError as e:
        raise PolicyError(f"{source}: missing section {e.args[0]!r}") from None
    except (TypeError, AttributeError, ValueError) as e:
        if isinstance(e, PolicyError):
            raise
        raise PolicyError(f"{source}: {e}") from None


def read_policy_document(path: Path | None = None) -> tuple[dict, str]:
    """The YAML document of the policy file at ``path`` (or the bundled default), and its name for
    error messages. Sections other parts own (``closing:``, ``notifications:``) are parsed from it
    by them, through ``Policy.document``."""
    if path is None:
        text = resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8")
        return yaml.safe_load(text), "bundled default policy"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyError(f"cannot read policy file {path}: {e.strerror}") from None
    return yaml.safe_load(text), str(path)


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path``, or the bundled default."""
    return parse_policy(*read_policy_document(path))
