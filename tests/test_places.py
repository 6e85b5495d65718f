"""A capital standing for its country's government (places.py): pure, over small vocabularies."""

from qa.places import as_countries, capitals, initials
from qa.spelling import Speller, vocabulary

KOREA = vocabulary(["North Korea and South Korea are technically still at war, the U.S. says."])


def test_a_capital_the_corpus_lacks_becomes_the_country_it_names():
    assert as_countries("Has Seoul talked about a peace treaty with Pyongyang?", KOREA) == (
        "Has South Korea talked about a peace treaty with North Korea?")
    assert as_countries("What did Syngman Rhee want from Washington?", KOREA) == (
        "What did Syngman Rhee want from U.S.?")  # the corpus writes "U.S.": its initials are in the vocabulary
    assert as_countries("Is Seoul’s view shared?", KOREA) == "Is South Korea’s view shared?"


def test_a_capital_as_a_place_in_a_longer_name_or_known_to_the_corpus_stays():
    for question in ("How many people live in Seoul?", "Who is the mayor of Seoul?", "What is the Seoul Tower?",
                     "When did Greater Seoul grow?", "Has the Seoul-based firm grown?", "what did seoul say?"):
        assert as_countries(question, KOREA) is None, question
    assert as_countries("What did Seoul say?", vocabulary(["Seoul and South Korea."])) is None  # the corpus says Seoul
    assert as_countries("What did Moscow say?", KOREA) is None  # nor Russia: nothing to search for instead
    assert "Jerusalem" not in capitals()  # the capital of two: it names neither


def test_initials_are_a_country_name_of_two_words_or_more():
    assert (initials("United States"), initials("United Kingdom"), initials("China")) == ("U.S.", "U.K.", None)
    assert "u.s." in KOREA and "u.s." not in Speller(KOREA)._symspell.words  # no typo is corrected into initials


def test_the_question_is_searched_with_the_country_and_says_so():
    from qa.query import analyse

    query = analyse("Has Seoul talked about a peace treaty with Pyongyang?", Speller(KOREA))
    assert query.corrected == "Has South Korea talked about a peace treaty with North Korea?"
    assert "seoul" not in query.names and "korea" in query.names
