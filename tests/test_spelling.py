"""Spelling correction against the corpus vocabulary (spelling.py): pure, over small vocabularies."""

from qa.spelling import Speller, vocabulary

CORPUS = vocabulary([
    "The armistice was signed at Panmunjom when the war stopped. Yeonpyeong was shelled. "
    "A turban, a severe winter and the wars of the game; the submit button; free trade; During the talks."
])


def test_typos_become_the_corpus_words_they_were_meant_to_be():
    speller = Speller(CORPUS)
    assert speller.correct("wen was the armistise sined") == "when was the armistice signed"
    assert speller.correct("Yeonpyong") == "Yeonpyeong"  # a name one edit from a corpus word
    assert Speller(vocabulary(["Charles Armstrong"])).correct("Armstrog") == "Armstrong"  # a name, if English too
    assert speller.correct("when was the armistice signed") is None
    # the question's first word is capitalised but no name: its typo still becomes a question word
    assert speller.correct("Whn was the armistice signed?") == "When was the armistice signed?"
    assert speller.correct("Wheer was it signed?") == "Where was it signed?"


def test_of_equally_close_words_the_one_english_puts_after_the_word_before_wins():
    """"mny" is one edit from "may" and from "many"; "may" is the more common word, but
    after "how" English says "many": the question is then read as asking for a number."""
    speller = Speller(vocabulary(["Glaciers were surveyed; twenty may melt, and the design of a lighthouse."]))
    assert speller.correct("how mny glaciers") == "how many glaciers"
    assert speller.correct("how mch ice") == "how much ice"
    assert speller.correct("who designd the lighthouse") == "who design the lighthouse"  # "designed": not in corpus
    assert speller.correct("they mny melt") == "they may melt"  # "they may" is the likelier pair


def test_a_mistyped_question_word_is_the_one_the_typed_letters_and_the_next_word_point_to():
    """"wher" is one edit from "where" and from the commoner "when"; "hwo" from "who" and "how".
    The frequency alone made "wher is the kettle assembled" ask when, and "hwo wrote the
    ferry story" ask how (which lost the question about the document)."""
    speller = Speller(vocabulary(["The kettle is assembled in Brno; Kulik died in 1942 near a lake. "
                                  "She wrote the ferry story."]))
    assert speller.correct("wher is the kettle assembled") == "where is the kettle assembled"  # a dropped letter
    assert speller.correct("wher did kulik die") == "where did kulik die"
    assert speller.correct("whn did kulik die") == "when did kulik die"  # not the commoner "who did"
    assert speller.correct("wich lake") == "which lake"  # not "with"
    assert speller.correct("hwo wrote the ferry story") == "who wrote the ferry story"  # never "how wrote"
    assert speller.correct("hwo wrot the ferry story") == "who wrote the ferry story"  # the next word corrected first
    assert speller.correct("Hwo is Kulik") == "Who is Kulik"  # English puts both there, "who is" far more often


def test_real_words_and_unknown_names_are_left_as_asked():
    speller = Speller(CORPUS)
    for question in ("summit", "flee", "Turing", "guage"):  # English words, or closest to one the corpus lacks
        assert speller.correct(question) is None, question
    # a name the corpus lacks is not turned into a corpus word two edits away, nor into a common word
    for question in ("How did Turabi build a base?", "Did Savery patent a pump?", "Who was Warsz?"):
        assert speller.correct(question) is None, question


def test_acronyms_contractions_and_words_with_digits_stay():
    speller = Speller(CORPUS)
    for question in ("NATO", "wasn't", "1oth", "2armistise3", "10armistise", "McArmistise"):
        assert speller.correct(question) is None, question


def test_a_name_typed_without_its_letters_is_no_typo():
    """"Soren Odegard" of a text that writes "Søren Ødegård" was "corrected" into "Søren
    Ødegard", a spelling neither the question's nor the text's: "Ø" did not fold to "O"."""
    speller = Speller(vocabulary(["Søren and Zoë Ødegård moved from Aarhus."]))
    assert speller.correct("Where did Soren Odegard move from?") is None
