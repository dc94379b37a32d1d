"""Recurring causes and repeat customers, pure: the categories and products claims are most often
about, the pairs of the two that recur, their counts week by week, and the customers who claimed
more than once (told apart by a hash of their contacts; no contact is ever in a figure)."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.management_report.facts import ClaimFacts
from services.management_report.period import Period
from services.management_report.table import Table, share

TOP = 10            # rows of a top list
TRENDS = 5          # lines of a trend plot


def week_of(moment: datetime, zone: str) -> date:
    """The Monday of the week ``moment`` falls in, in the report's time zone."""
    day = moment.astimezone(ZoneInfo(zone)).date()
    return day - timedelta(days=day.weekday())


def sku_names(claims: Sequence[ClaimFacts]) -> dict[str, str]:
    """Each SKU's product name, as most claims naming both the SKU and a product call it."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for c in claims:
        if c.sku and c.product:
            seen[c.sku][c.product] += 1
    return {sku: names.most_common(1)[0][0] for sku, names in seen.items()}


def product_of(claim: ClaimFacts, names: dict[str, str]) -> str | None:
    """The product a claim is about: the name in its text, else its SKU's name, else ``SKU …``."""
    if claim.product:
        return claim.product
    if claim.sku:
        return names.get(claim.sku) or f"SKU {claim.sku}"
    return None


def _trend(name: str, title: str, weeks: list[date], labels: list[tuple[str, str | None]],
           keys: list[str], partial: str) -> Table:
    per_week = Counter(labels)
    rows = [(week.isoformat(), *(per_week[(week.isoformat(), k)] for k in keys)) for week in weeks]
    return Table(name, title, ("week",), tuple(keys), rows, "Claims received each week (Monday to Sunday)."
                 + partial)


def partial_weeks(weeks: list[date], period: Period, now: datetime) -> str:
    """A note naming the first or last week when the period (or today) cuts it short."""
    if not weeks:
        return ""
    zone = ZoneInfo(period.timezone)
    cut = [w.isoformat() for w, short in (
        (weeks[0], datetime.combine(weeks[0], time(0), zone) < period.start),
        (weeks[-1], datetime.combine(weeks[-1] + timedelta(weeks=1), time(0), zone) > min(period.end, now)))
        if short]
    return f" Partial weeks: {', '.join(dict.fromkeys(cut))}." if cut else ""


def cause_tables(claims: Sequence[ClaimFacts], period: Period, now: datetime) -> list[Table]:
    """Top categories, top products (SKU or name), top product × category pairs, and weekly trends."""
    names, zone = sku_names(claims), period.timezone
    products = {c.id: product_of(c, names) for c in claims}
    by_category = Counter(c.category or "—" for c in claims)
    by_product = Counter(p for p in products.values() if p)
    skus: dict[str, set] = defaultdict(set)
    for c in claims:
        if products[c.id] and c.sku:
            skus[products[c.id]].add(c.sku)
    pairs = Counter((products[c.id], c.category or "—") for c in claims if products[c.id])
    total, named = len(claims), sum(by_product.values())
    tables = [
        Table("top_categories", "Top recurring causes: categories", ("category",), ("claims", "share_pct"),
              [(k, n, share(n, total)) for k, n in by_category.most_common(TOP)]),
        Table("top_products", "Top recurring causes: products (by name, else SKU)", ("product",),
              ("claims", "skus", "top_category"),
              [(p, n, ", ".join(sorted(skus[p])) or "—",
                Counter(c.category or "—" for c in claims if products[c.id] == p).most_common(1)[0][0])
               for p, n in by_product.most_common(TOP)],
              f"{named} of {total} claims name a product or an SKU. A name follows a label (\"Товар:\", "
              "\"Item:\") in the claim's text; an SKU without one takes the name other claims give it."),
        Table("top_causes", "Top recurring causes: product × category", ("product", "category"), ("claims",),
              [(p, cat, n) for (p, cat), n in pairs.most_common(TOP) if n > 1]),
    ]
    weeks = _weeks([c.received_at for c in claims], zone)
    partial = partial_weeks(weeks, period, now)
    week = {c.id: week_of(c.received_at, zone).isoformat() for c in claims}
    tables.append(_trend("trend_categories", "Weekly trend of the top categories", weeks,
                         [(week[c.id], c.category or "—") for c in claims],
                         [k for k, _ in by_category.most_common(TRENDS)], partial))
    tables.append(_trend("trend_products", "Weekly trend of the top products", weeks,
                         [(week[c.id], products[c.id]) for c in claims if products[c.id]],
                         [k for k, _ in by_product.most_common(TRENDS)], partial))
    return tables


def _weeks(moments: list[datetime], zone: str) -> list[date]:
    if not moments:
        return []
    first, last = week_of(min(moments), zone), week_of(max(moments), zone)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def customers(claims: Sequence[ClaimFacts]) -> list[list[int]]:
    """The claims of each customer: claims sharing a contact hash (an e-mail or a phone, directly or
    through another claim that has both) are one customer's."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for c in claims:
        keys = c.customers or (f"claim:{c.id}",)
        for other in keys[1:]:
            parent[root(other)] = root(keys[0])
    groups: dict[str, list[int]] = defaultdict(list)
    for c in claims:
        groups[root((c.customers or (f"claim:{c.id}",))[0])].append(c.id)
    return list(groups.values())


def repeat_customers(claims: Sequence[ClaimFacts]) -> tuple[Table, dict]:
    """How many customers claimed more than once in the period, by how many claims each."""
    repeat = [len(g) for g in customers(claims) if len(g) > 1]
    buckets = Counter(str(n) if n < 5 else "5+" for n in repeat)
    rows = [(b, buckets[b], sum(n for n in repeat if (str(n) if n < 5 else "5+") == b))
            for b in ("2", "3", "4", "5+") if buckets[b]]
    stats = {"customers": len(repeat), "claims": sum(repeat)}
    return Table("repeat_customers", "Repeat customers (more than one claim in the period)",
                 ("claims_per_customer",), ("customers", "claims"), rows,
                 f"{stats['customers']} customers made {stats['claims']} of the {len(claims)} claims. "
                 "Customers are told apart by a hash of their e-mail and phone; none is shown."), stats
