"""The demo generators are deterministic and write well-formed identifiers into the files."""

from __future__ import annotations

import random

from evalplat.anonymise.gazetteer import GUANGDONG
from evalplat.anonymise.structured import luhn_ok, valid_id18
from evalplat.demo import people
from evalplat.demo.textgen import CASE_TYPES, generate_case, generate_cases, random_facts


def test_same_seed_same_files():
    a = [c.documents for c in generate_cases(5, seed=3)]
    b = [c.documents for c in generate_cases(5, seed=3)]
    assert a == b
    assert a != [c.documents for c in generate_cases(5, seed=4)]


def test_guangdong_has_21_cities_and_jiangmen_its_seven_counties():
    assert len(GUANGDONG) == 21
    jiangmen = next(c for c in GUANGDONG if c.name == "江门市")
    assert [k.name for k in jiangmen.counties] == ["蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市"]


def test_identifiers_are_valid():
    rng = random.Random(1)
    city = GUANGDONG[6]
    for _ in range(200):
        person = people.person(rng, city, city.counties[0])
        assert valid_id18(person.id_number.upper())
        assert luhn_ok(people.bank_card(rng))
        assert len(people.licence_number(rng, city)) == 17


def test_every_case_type_has_six_documents_holding_the_planted_strings():
    rng = random.Random(2)
    for case_type in CASE_TYPES:
        case = generate_case(rng, random_facts(rng, case_type))
        assert [d.kind for d in case.documents] == ["application", "assignment", "meeting", "opinion", "judgment",
                                                    "closing"]
        corpus = "\n".join(d.text for d in case.documents)
        for planted in case.planted:
            assert planted.text in corpus, planted
        for names in case.known.values():
            for name in names:
                assert name in corpus
