"""A capital standing for its country's government (places.py): pure, over small vocabularies."""

from qa.places import as_countries, capitals
from qa.spelling import Speller, vocabulary

KOREA = vocabulary(["North Korea and South Korea are technically still at war, the U.S. says."])


def test_a_capital_the_corpus_lacks_becomes_the_country_it_names():
    assert as_countries("Has Seoul talked about a peace treaty with Pyongyang?", KOREA) == (
        "Has South Korea talked about a peace treaty with North Korea?")
    assert as_countries("What did Syngman Rhee want from Washington?", KOREA) is None  # "U.S." is not read: initials
    assert as_countries("What did Washington want?", vocabulary(["The United States said no."])) == (
        "What did United States want?")
    assert as_countries("Is Seoul’s view shared?", KOREA) == "Is South Korea’s view shared?"


def test_a_capital_as_a_place_in_a_longer_name_or_known_to_the_corpus_stays():
    for question in ("How many people live in Seoul?", "Who is the mayor of Seoul?", "What is the Seoul Tower?",
                     "When did Greater Seoul grow?", "Has the Seoul-based firm grown?", "what did seoul say?",
                     "Where is Seoul?", "Is Seoul the capital of South Korea?"):
        assert as_countries(question, KOREA) is None, question
    assert as_countries("What did Seoul say?", vocabulary(["Seoul and South Korea."])) is None  # the corpus says Seoul
    assert as_countries("What did Moscow say?", KOREA) is None  # nor Russia: nothing to search for instead
    assert "Jerusalem" not in capitals()  # the capital of two: it names neither


def test_initials_name_no_country():
    """ "S.A." is Saudi Arabia's and a company's, "P.R." Puerto Rico's and public relations'."""
    assert as_countries("What did Riyadh say about oil prices?", vocabulary(["Banco Santander S.A. fell."])) is None
    assert "S.A." not in capitals()["Riyadh"] and "U.S." not in capitals()["Washington"]


def test_the_question_is_searched_with_the_country_and_says_so():
    from qa.query import analyse

    query = analyse("Has Seoul talked about a peace treaty with Pyongyang?", Speller(KOREA))
    assert query.corrected == "Has South Korea talked about a peace treaty with North Korea?"
    assert "seoul" not in query.names and "korea" in query.names
