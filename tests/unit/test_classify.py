"""Keyword classification: category, department, priority and evidence come from the policy file."""
from __future__ import annotations

import pytest

from routing_worker.classify import classify
from shared.policy import load_policy, parse_policy
from shared.schema import Priority

POLICY = load_policy()

CLEAR = [
    ("defect", "quality", "Купила пылесос месяц назад, вчера он перестал включаться и пахнет гарью."),
    ("defect", "quality", "The blender stopped working after two days, the motor just hums and nothing happens."),
    ("not_as_described", "sales", "Куртка не соответствует описанию на сайте: материал синтетика, а заявлен хлопок."),
    ("not_as_described", "sales", "The jacket is not as described: the listing said cotton but it is polyester."),
    ("damaged_in_transit", "logistics", "Телевизор привезли с разбитым экраном, коробка была помята со всех сторон."),
    ("damaged_in_transit", "logistics", "The vase was smashed when it came, the box was crushed on one side."),
    ("delivery_delay", "logistics", "Заказ оформлен три недели назад, посылка до сих пор не пришла, трек не обновляется."),
    ("delivery_delay", "logistics", "My parcel has not arrived yet, the tracking page shows no movement for ten days."),
    ("wrong_item", "warehouse", "Заказывала синее платье 44 размера, а прислали другой товар — мужскую рубашку."),
    ("wrong_item", "warehouse", "I ordered a black phone case but you sent me a red one instead, wrong item entirely."),
    ("billing", "finance", "С моей карты дважды списали деньги за один заказ, прошу вернуть лишний платёж."),
    ("billing", "finance", "I was charged twice for the same order, please reverse the second transaction."),
    ("service", "customer_service", "Оператор на горячей линии грубо разговаривал и бросил трубку."),
    ("service", "customer_service", "Your support agent was rude to me on the phone and hung up."),
    ("warranty_repair", "service_center", "Прошу принять холодильник в гарантийный ремонт, на него ещё год гарантии."),
    ("warranty_repair", "service_center", "Please arrange a warranty repair for my washing machine, it is still under guarantee."),
]


@pytest.mark.parametrize("category, department, text", CLEAR)
def test_clear_complaint_lands_in_its_department(category, department, text):
    result = classify(text, POLICY)
    assert (result.category, result.department) == (category, department)
    assert result.priority is Priority.NORMAL
    assert 0 < result.confidence <= 1
    assert result.evidence and all(e.startswith("keyword:") for e in result.evidence)


def test_evidence_lists_the_matched_keywords():
    result = classify("Чайник течёт и искрит, корпус перегревается", POLICY)
    assert result.category == "defect"
    # ё folded to е; «течёт» meets both the stem "течет" and the dictionary form "течь"
    assert set(result.evidence) == {"keyword:течет", "keyword:течь", "keyword:искрит", "keyword:перегрева"}


def test_multiword_keyword_needs_consecutive_words():
    assert "keyword:stopped working" in classify("it stopped working", POLICY).evidence
    assert "keyword:stopped working" not in classify("it stopped, then working again", POLICY).evidence


def test_exact_keyword_does_not_match_longer_words():
    # "=горит" is exact: «горит» matches, «горизонт» must not
    assert "keyword:горит" in classify("Индикатор горит красным", POLICY).evidence
    assert classify("Горизонтальная полка", POLICY).department == POLICY.triage_department


@pytest.mark.parametrize("text, legal", [
    ("Если не вернёте деньги, подам в суд.", "суд"),
    ("Иск уже готов, чайник так и не починили.", "иск"),
    ("Обращусь в Роспотребнадзор, если не вернёте деньги.", "роспотребнадзор"),
    ("Мой юрист свяжется с вами по поводу сломанного чайника.", "юрист"),
    ("I will sue you if the refund is not processed.", "sue"),
    ("My lawyer will contact you about the broken kettle.", "lawyer"),
    ("I am going to report this to the regulator.", "regulator"),
])
def test_legal_threat_is_high_priority(text, legal):
    result = classify(text, POLICY)
    assert result.priority is Priority.HIGH
    assert any(e.startswith("priority:legal:") and legal in e for e in result.evidence)


@pytest.mark.parametrize("text", [
    "Чайник протекает, прошу заменить.",
    "Присылайте курьера в любое время, кроме субботы.",      # «субботы» is not «суд»
    "The courtyard entrance was blocked so delivery was late.",  # «courtyard» is not «court»
    "Issue with the lid: it does not close.",
])
def test_ordinary_complaint_is_normal_priority(text):
    assert classify(text, POLICY).priority is Priority.NORMAL


def test_repeat_customer_is_high_priority():
    text = "Чайник протекает, прошу заменить."
    result = classify(text, POLICY, has_other_open_claim=True)
    assert result.priority is Priority.HIGH
    assert "priority:repeat_customer" in result.evidence
    assert classify(text, POLICY).priority is Priority.NORMAL


@pytest.mark.parametrize("text", ["Здравствуйте, подскажите пожалуйста по заказу", "Hello, a question about my order",
                                  "", "   ", "!!! ??? 123"])
def test_no_keyword_goes_to_a_person_in_triage_with_zero_confidence(text):
    result = classify(text, POLICY)
    assert (result.category, result.department) == (None, "triage")    # no made-up category
    assert result.confidence == 0.0
    assert result.evidence[0].startswith("triage:")


def test_without_a_triage_department_the_fallback_categorys_department_takes_it():
    from dataclasses import replace
    no_triage = replace(POLICY, triage_department=None)
    result = classify("Hello, a question about my order", no_triage)
    assert result.department == POLICY.department_of(POLICY.fallback_category)
    assert result.evidence == ("fallback: no keyword matched",)


@pytest.mark.parametrize("text, category", [
    ("Отнесла чайник в сервис-центр, там его не приняли", "warranty_repair"),
    ("I cannot find the pick-up point for my order", "delivery_delay"),
])
def test_hyphenated_keywords_match(text, category):
    assert classify(text, POLICY).category == category


# --- a retailer's own policy: no department lives in code ---------------------------------------

CUSTOM = {
    "departments": {"kitchen": {"title": "Kitchen"}, "front_desk": {"title": "Front desk"}},
    "fallback_category": "general",
    "categories": {
        "general": {"department": "front_desk"},
        "cold_food": {"department": "kitchen", "keywords": {"en": ["cold", "!frozen"], "ru": ["холодн"]}},
        "slow_waiter": {"department": "front_desk", "keywords": ["waited", "slow"]},
    },
    "priority": {"high_keywords": ["=manager"], "repeat_customer_is_high": False},
    "deadlines": {"first_response_business_hours": 4, "decision_days": {"other": 3}, "closure_days": 7},
}


@pytest.mark.parametrize("text, category, department", [
    ("The soup was cold", "cold_food", "kitchen"),
    ("Суп холодный", "cold_food", "kitchen"),
    ("We waited an hour, the service was slow", "slow_waiter", "front_desk"),
    ("The kettle is broken and leaks", "general", "front_desk"),          # bundled keywords mean nothing here
])
def test_custom_policy_routes_by_its_own_keywords(text, category, department):
    result = classify(text, parse_policy(CUSTOM, "test"))
    assert (result.category, result.department) == (category, department)


def test_custom_policy_weights_and_confidence():
    policy = parse_policy(CUSTOM, "test")
    # slow_waiter: waited + slow = 2; cold_food: "!frozen" = 3  -> cold_food with 3 / 5
    result = classify("We waited so long, the service was slow and the dessert came frozen", policy)
    assert result.category == "cold_food"
    assert result.confidence == 0.6
    assert result.evidence == ("keyword:frozen",)


def test_custom_policy_ties_go_to_the_earlier_category():
    policy = parse_policy(CUSTOM, "test")
    result = classify("cold and slow", policy)   # 1 : 1
    assert result.category == "cold_food" and result.confidence == 0.5


def test_custom_policy_priority_rules():
    policy = parse_policy(CUSTOM, "test")
    assert classify("Call the manager, the soup is cold", policy).priority is Priority.HIGH
    assert classify("The management should know the soup is cold", policy).priority is Priority.NORMAL
    # this retailer does not raise repeat customers
    assert classify("The soup is cold", policy, has_other_open_claim=True).priority is Priority.NORMAL
    # and the bundled legal words are not its rules
    assert classify("I will sue you, the soup is cold", policy).priority is Priority.NORMAL


def test_a_mapped_marketplace_reason_code_is_the_first_evidence():
    result = classify("Коробка пришла, внутри всё в порядке, но не подошёл по размеру", POLICY,
                      marketplace="Yandex-Market", reason_codes=("DAMAGE_DELIVERY",))
    assert (result.category, result.department) == ("damaged_in_transit", "logistics")
    assert result.evidence[0] == "reason_code:Yandex-Market:DAMAGE_DELIVERY" and result.confidence == 1.0


def test_an_unmapped_reason_code_leaves_it_to_the_customers_words():
    result = classify("Не включается совсем, брак", POLICY, marketplace="ozon", reason_codes=("Другое",))
    assert result.category == "defect" and not any(e.startswith("reason_code") for e in result.evidence)


def test_a_keyword_written_as_a_word_meets_its_inflections_through_the_stemmer():
    from shared.policy import parse_policy
    policy = parse_policy({"departments": {"quality": {}, "sales": {}},
                           "categories": {"defect": {"department": "quality", "keywords": ["сломан", "поломка"]},
                                          "other": {"department": "sales", "keywords": ["описание"]}},
                           "fallback_category": "other",
                           "deadlines": {"first_response_business_hours": 24, "decision_days": {"other": 30},
                                         "closure_days": 30}}, "t")
    for text in ("Чайник сломался", "чайник сломан", "поломка чайника", "из-за поломки"):
        assert classify(text, policy).category == "defect", text
    assert classify("Чайник в порядке", policy).category == "other"


def test_a_keyword_written_as_a_dictionary_word_meets_forms_no_stem_shares():
    from shared.policy import Category, Keyword
    from dataclasses import replace
    came = Category("delivery_delay", "logistics", (Keyword.parse("прийти"), Keyword.parse("течь")))
    policy = replace(POLICY, categories={**POLICY.categories, "delivery_delay": came})
    # irregular stems: «пришла», «придёт», «тёк» share no prefix or Snowball stem with the keyword
    for text, keyword in (("посылка так и не пришла", "прийти"), ("когда придёт заказ", "прийти"),
                          ("из крана тёк кипяток", "течь")):
        assert f"keyword:{keyword}" in classify(text, policy).evidence, text


def test_pronouns_do_not_meet_their_other_forms():
    # «не те» (sizes are not as stated) must not meet the keyword «не тот» (another item was sent)
    result = classify("Размеры не те, что заявлены в описании", POLICY)
    assert result.category == "not_as_described"
    assert not any(e in result.evidence for e in ("keyword:не тот", "keyword:не та", "keyword:не ту"))


def test_the_three_forms_of_breaking_meet_the_defect_rules():
    for text in ("Чайник сломался через неделю", "чайник сломан", "поломка чайника", "чайник постоянно ломается"):
        result = classify(text, POLICY)
        assert (result.category, result.department) == ("defect", "quality"), text
