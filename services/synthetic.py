"""Synthetic web-form events for load tests and benchmarks: deterministic, varied enough to
exercise normalisation and every department, with no real person's data in them."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

PROBLEMS = [
    ("Чайник протекает снизу после недели использования, явный брак.", "replacement"),
    ("Пылесос перестал включаться, не работает совсем.", "repair"),
    ("Кроссовки не соответствуют описанию: на фото другой материал.", "refund"),
    ("Коробка пришла помятая, внутри разбитый блендер.", "replacement"),
    ("Заказ задерживается уже на неделю, до сих пор не доставлен.", None),
    ("Прислали другой размер и не того цвета.", "replacement"),
    ("С карты списали деньги дважды за один заказ.", "refund"),
    ("Курьер грубо разговаривал, поддержка не отвечает.", "compensation"),
    ("Прошу гарантийный ремонт утюга в сервисном центре.", "repair"),
    ("The kettle is faulty and stopped working after three days.", "replacement"),
    ("The parcel arrived crushed and the box was wet.", "refund"),
    ("I was charged twice for one order, please refund.", "refund"),
    ("You sent me the wrong item: a different model instead of the one I ordered.", "replacement"),
    ("My order has not arrived, tracking shows no updates for ten days.", None),
    ("Support is rude and nobody answers my emails.", "compensation"),
]
FIRST = ["Анна", "Иван", "Ольга", "Пётр", "Mary", "John", "Елена", "Сергей", "Kate", "Дмитрий"]
LAST = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Smith", "Brown", "Соколова", "Попов", "Jones", "Волков"]


def web_events(count: int, seed: int = 1, prefix: str = "synthetic",
               start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)) -> list[str]:
    """``count`` JSON lines of distinct web claims (no two share a customer and an order)."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        text, resolution = rng.choice(PROBLEMS)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        payload = {
            "name": name,
            "email": f"customer{seed}-{i}@example.ru",
            "phone": f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
            "order_number": f"ORD-{4_000_000 + seed * 100_000 + i}",
            "purchase_date": (start - timedelta(days=rng.randint(3, 40))).date().isoformat(),
            "sku": f"SKU-{rng.randint(1000, 9999)}",
            "subject": text.split(",")[0][:40],
            "description": text,
            "locale": "ru" if any("\u0400" <= ch <= "\u04ff" for ch in text) else "en",
        }
        if resolution:
            payload["desired_resolution"] = resolution
        received = start + timedelta(seconds=i * 7)
        lines.append(json.dumps({"event_id": f"{prefix}-{seed}-{i:07d}", "channel": "web", "source": "site",
                                 "received_at": received.isoformat(), "payload": payload}, ensure_ascii=False))
    return lines
