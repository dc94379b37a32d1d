"""Routing on words nobody fitted it to. tests/data/routing/blind.jsonl holds 1,750 claims written by
helpers shown only the policy's category and department descriptions (not its keywords, the
sample or the code), four writers, both languages, all four channels. Nothing — keywords, features,
hyper-parameters — was chosen by looking at it; tests/data/routing/tuning.jsonl, by another writer,
is the set choices were made on. These tests hold the shipped model to issue 11's bar."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from routing_worker.evaluation import evaluate
from routing_worker.model import DEFAULT_MODEL_PATH, CategoryModel
from routing_worker.training import read_rows, text_of
from shared.policy import load_policy

DATA = Path(__file__).resolve().parents[1] / "data" / "routing"
BLIND = DATA / "blind.jsonl"
FROZEN_SHA256 = "9dc0befd204628b14bd6de9bce432098f60048107bd5c50fd6c7fa1b32597cec"
POLICY = load_policy()


@pytest.fixture(scope="module")
def blind():
    return evaluate(read_rows(BLIND), POLICY, CategoryModel.for_policy(POLICY))


def test_the_blind_set_is_frozen():
    assert hashlib.sha256(BLIND.read_bytes()).hexdigest() == FROZEN_SHA256


def test_no_blind_or_tuning_text_is_in_the_training_data():
    trained = {text_of(r).strip().lower() for f in (DEFAULT_MODEL_PATH.parent / "training").glob("*.jsonl")
               for r in read_rows(f)}
    for name in ("blind.jsonl", "tuning.jsonl"):
        held = {text_of(r).strip().lower() for r in read_rows(DATA / name)}
        assert not held & trained, name


def test_the_blind_set_covers_every_category_channel_and_both_languages():
    rows = read_rows(BLIND)
    assert len(rows) >= 1200
    assert {r["category"] for r in rows} == set(POLICY.categories)
    assert {r["channel"] for r in rows} == {"web", "email", "call", "marketplace"}
    assert {r["lang"] for r in rows} == {"ru", "en"}


def test_departments_are_right_for_at_least_95_percent_of_unseen_claims(blind):
    assert blind.department_accuracy >= 0.95, blind.summary()


def test_categories_are_right_for_at_least_90_percent_of_unseen_claims(blind):
    assert blind.category_accuracy >= 0.90, blind.summary()


def test_at_most_5_percent_of_unseen_claims_wait_in_triage(blind):
    assert blind.triage_share <= 0.05, blind.summary()


def test_every_channel_is_routed_well_not_only_the_average(blind):
    for channel, counts in blind.by_group.items():
        assert counts["right"] / counts["rows"] >= 0.90, (channel, blind.summary())
