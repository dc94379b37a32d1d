"""`claimflow routing evaluate FILE` and `routing explain` with the shipped model, and triage as a
person sees it: an unsure claim waits in triage with no made-up category."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from routing_worker.classify import classify
from services.cli import main
from shared.policy import load_policy

POLICY = load_policy()
ROWS = [     # written for this test, in no training file
    {"text": "Микроволновка перестала греть через неделю, гудит и всё", "category": "defect", "channel": "web"},
    {"text": "The courier left my parcel in the rain and the box was soaked through, the lamp inside is cracked",
     "category": "damaged_in_transit", "channel": "email"},
    {"text": "Оплатил заказ, а деньги сняли с карты два раза", "category": "billing", "channel": "call"},
    {"text": "Заказывала куртку размера M, положили XL", "category": "wrong_item", "channel": "marketplace"},
    {"subject": "Ремонт по гарантии", "description": "Пылесосу 8 месяцев, куда сдать его в гарантийный ремонт?",
     "category": "warranty_repair", "channel": "web"},
]


def run(args, env=None):
    return CliRunner().invoke(main, args, env={"CLAIMFLOW_LOG_LEVEL": "WARNING", **(env or {})},
                              catch_exceptions=False)


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    return path


def test_evaluate_prints_accuracy_triage_and_both_confusion_matrices(labelled):
    done = run(["routing", "evaluate", str(labelled), "--model", "bundled"])
    assert done.exit_code == 0, done.output
    assert "department accuracy 1.0000" in done.stdout and "category accuracy 1.0000" in done.stdout
    assert "Departments" in done.stdout and "Categories" in done.stdout and "triage" in done.stdout


def test_evaluate_json_counts_every_row_once_in_each_matrix(labelled):
    answer = json.loads(run(["routing", "evaluate", str(labelled), "--model", "bundled", "--json"]).stdout)
    assert answer["rows"] == len(ROWS)
    for name in ("departments_confusion", "categories_confusion"):
        confusion = answer[name]
        assert sum(map(sum, confusion["counts"])) == len(ROWS)
        assert confusion["answer"][-1] == "triage"
    assert set(answer["by_group"]) == {"web", "email", "call", "marketplace"}


def test_evaluate_counts_a_wrong_label_as_a_mistake_and_names_it(tmp_path):
    path = tmp_path / "wrong.jsonl"
    path.write_text(json.dumps({"text": "Посылка не пришла, трек не обновляется две недели",
                                "category": "billing"}, ensure_ascii=False) + "\n", encoding="utf-8")
    answer = json.loads(run(["routing", "evaluate", str(path), "--model", "bundled", "--json",
                             "--mistakes", "5"]).stdout)
    assert answer["department_accuracy"] == 0.0
    assert answer["mistakes"][0]["truth"] == "billing" and answer["mistakes"][0]["answer"] == "delivery_delay"


def test_evaluate_refuses_labels_the_policy_lacks(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text('{"text": "что-то", "category": "weather"}\n', encoding="utf-8")
    done = run(["routing", "evaluate", str(path), "--model", "none"])
    assert done.exit_code == 2 and "weather" in done.stderr


def test_evaluate_draws_both_matrices_into_a_png(labelled, tmp_path):
    plot = tmp_path / "confusion.png"
    done = run(["routing", "evaluate", str(labelled), "--model", "bundled", "--plot", str(plot)])
    assert done.exit_code == 0, done.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = run(["routing", "evaluate", str(labelled), "--model", "none", "--plot", str(tmp_path / "no" / "x.png")])
    assert missing.exit_code == 2 and "cannot write" in missing.stderr


def test_explain_shows_the_words_that_weighed_most():
    done = run(["routing", "explain", "Чайник не включается, индикатор не горит", "--model", "bundled"])
    answer = json.loads(done.stdout)
    assert answer["category"] == "defect"
    weighed = [t["term"] for t in answer["model"]["weighed_most"]["terms"]]
    assert any(t.startswith("не_включаться") for t in weighed[:5]), weighed
    assert max(answer["model"]["probabilities"].values()) == answer["model"]["probabilities"]["defect"]


class _Unsure:
    def predict(self, text):
        share = 1 / len(POLICY.categories)
        return [(c, share) for c in POLICY.categories]


def test_an_unsure_model_sends_the_claim_to_triage_with_no_category_and_its_candidates():
    result = classify("Здравствуйте, у меня вопрос", POLICY, model=_Unsure())
    assert (result.category, result.department) == (None, "triage")
    assert result.evidence[0].startswith("triage: model confidence 0.12")
    assert sum(e.startswith("candidate:") for e in result.evidence) == 3


def test_a_blank_text_goes_to_triage_without_asking_the_model():
    result = classify(" 123 !!! ", POLICY, model=_Unsure())
    assert (result.category, result.department, result.evidence) == (None, "triage", ("triage: no text to classify",))


def test_a_keyword_of_the_policy_raises_its_category_over_an_unsure_model():
    result = classify("Прошу принять в гарантийный ремонт", POLICY, model=_Unsure())
    assert (result.category, result.department) == ("warranty_repair", "service_center")
    assert any(e.startswith("keyword:") for e in result.evidence)


def test_a_retailer_sets_the_triage_threshold_and_keyword_weight_in_the_policy():
    from dataclasses import replace
    wary = replace(POLICY, triage_below=0.99)
    assert classify("Прошу принять в гарантийный ремонт", wary, model=_Unsure()).category is None
    deaf = replace(POLICY, keyword_weight=0.0)
    assert classify("Прошу принять в гарантийный ремонт", deaf, model=_Unsure()).department == "triage"


@pytest.mark.parametrize("routing, complaint", [
    ({"triage_below": 1.5}, "routing.triage_below must be a number from 0 to 1"),
    ({"keyword_weight": "lots"}, "routing.keyword_weight must be a number"),
    ({"triage_bellow": 0.3}, "unknown setting triage_bellow"),
])
def test_a_mistyped_routing_section_is_refused_at_start_up(routing, complaint):
    from shared.policy import PolicyError, parse_policy
    with pytest.raises(PolicyError, match=complaint):
        parse_policy({**POLICY.document, "routing": routing}, "t")
