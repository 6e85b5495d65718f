"""query.analyse: the question analysed once, as a pure function."""

import dataclasses

import pytest

from qa.answer_types import names_in
from qa.query import analyse, normalize, quoted_phrases


def test_analyse_reads_terms_names_phrases_and_answer_type_once():
    query = analyse('  When did "Syngman Rhee" refuse to sign the armistice in 1953?  ')
    assert query.text == 'When did "Syngman Rhee" refuse to sign the armistice in 1953?'
    assert query.terms == ("when", "did", "syngman", "rhee", "refus", "sign", "armistic", "1953")  # bm25s stopwords
    assert query.salient == ("syngman", "rhee", "refus", "sign", "armistic", "1953")
    assert query.names == ("syngman", "rhee", "1953")
    assert query.phrases == ("syngman rhee",)
    assert query.answer_type == "date"


def test_the_cache_key_ignores_width_and_spacing_but_keeps_case():
    assert normalize("Why  didn't\tSOUTH Korea sign?") == normalize("Why didn't SOUTH Korea sign?")
    assert normalize("who is Turabi") != normalize("who is turabi")  # case changes the analysis
    assert normalize("ＷＨＹ?") == "WHY?"


def test_answer_types_and_question_words():
    assert analyse("Why did the talks fail?").answer_type == "cause"
    assert analyse("How many sailors died?").answer_type == "number"
    assert analyse("How often does the ferry run?").answer_type is None  # "every hour", "daily": no digits
    assert analyse("What share of the ice is left?").answer_type == "number"
    # a measure asks for its unit: "How fast was the steamer?" is "14.5 knots", not her launch year
    for question, measure in (("How tall is the tower?", "length"), ("How deep was the pit?", "length"),
                              ("How fast does it turn?", "speed"), ("How long should the haddock poach?", "duration"),
                              ("How long did the war last?", "duration"), ("How long is the ship?", "extent"),
                              ("At what temperature do I bake the bread?", "temperature"),
                              ("What oven temperature for the buns?", "temperature"),
                              ("How heavy is the bell?", "mass")):
        assert analyse(question).answer_type == measure, question


@pytest.mark.parametrize("measure, text, expected", [
    ("speed", "On her trials she reached 14.5 knots.", True),
    ("speed", "She was launched in 1874.", False),
    ("duration", "Poach for six minutes.", True),
    ("duration", "Poach for 6–8 minutes.", True),
    ("duration", "Cut it into 3 cm pieces.", False),
    ("extent", "Cut it into 3 cm pieces.", True),
    ("temperature", "Bake at 200°C until golden.", True),
    ("temperature", "Heat to 180 degrees.", True),
    ("mass", "Sift 200 g of flour.", True),
    ("length", "I am here.", False),  # "a" and "m" are no measure
    ("duration", "in a decades-long conflict", False),
])
def test_a_measure_is_a_number_with_its_unit(measure, text, expected):
    from qa.answer_types import ANSWER_PATTERNS

    assert bool(ANSWER_PATTERNS[measure].search(text)) is expected
    assert analyse("Who is Armstrong?").answer_type is None
    assert analyse("Who is Armstrong?").salient == ("armstrong",)


def test_who_questions_get_the_shape_of_their_answer():
    signed, described = analyse("Who signed the armistice?").shape, analyse("who is armstrong").shape
    assert signed.kind == "agent" and described.kind == "description"
    assert signed.search("an armistice was signed — by U.S. Army Lt. Gen. William K. Harrison Jr.")
    assert not signed.search("the parties who signed the armistice")
    # an irregular verb's forms: "Who wrote it?" is answered by "written by"
    wrote = analyse("who wrote tidewalk").shape
    assert wrote.search("It was written by Marisol Okonkwo-Brandt at Fernhill Systems.")
    assert not wrote.search("It was rewritten in Rust by the team.")
    assert analyse("Who led the expedition?").shape.search("The expedition was led by Adolf Hoel.")
    assert described.search("says historian Charles K. Armstrong, a Korean Studies specialist.")
    assert described.search("Armstrong, a historian, says so.")
    assert not described.search("“That agreement also hasn’t been abandoned either,” Armstrong adds.")
    assert not described.search("He met with Armstrong in Seoul.")  # a mention, not a description
    # only the apposition decides the verdict: a word before the name ranks, but may be a verb
    assert described.decides("says historian Charles K. Armstrong, a Korean Studies specialist.")
    fined = "The court later fined Armstrong."
    assert described.search(fined) and not described.decides(fined)
    # after an article the word is a role, not a verb
    assert described.decides("The study was led by the biologist Charles Armstrong in Graz.")
    assert described.decides("talks with an envoy Armstrong")
    assert not described.decides("Armstrong and the others fined Armstrong.")
    assert not described.decides("the historian says Armstrong")  # a reporting verb is not a role
    assert not signed.decides("an armistice was signed — by U.S. Army Lt. Gen. William K. Harrison Jr.")
    assert analyse("Who has signed the armistice?").shape.kind == "agent"  # only is/was/are/were ask for a description
    # a modal's verb asks for its agent: "Who will lead the review?" is answered by "led by <Name>"
    review = "The review will be led by Dr. Saoirse Ní Bhriain, a sleep researcher."
    assert analyse("Who will lead the fatigue review?").shape.search(review)
    assert not analyse("Who will lead the fatigue review?").shape.search("It will review how long crews are led.")
    assert analyse("Who did Rollo sign the treaty with?").shape is None  # the object is asked, not the agent
    assert analyse("Who will Kim meet?").shape is None
    assert not analyse("Who led the army?").shape.search("The troops, sent later by General Lee, waited.")
    assert analyse("What did Armstrong say?").shape is None


def test_who_holds_a_role_is_answered_by_the_name_with_the_role():
    """ "Who is the mayor of Lindenport?" ranked the council's vote and the newspaper's byline
    above "Mayor Annelie Strandberg, of the Green Alliance, called the vote…"."""
    mayor = analyse("Who is the mayor of Lindenport?").shape
    assert mayor.kind == "holder" and analyse("who was the Chief Engineer").shape.kind == "holder"
    for sentence in ("Mayor Annelie Strandberg, of the Green Alliance, called the vote historic.",
                     "The mayor, Paulo Fernandes, said the town would need a reservoir.",
                     "Annelie Strandberg, the city's mayor, said so."):
        assert mayor.search(sentence), sentence
    for sentence in ("The mayor said nothing.", "The council voted 31 to 14.", "Mayors of Lindenport met.",
                     "On Tuesday, the mayor vetoed the plan.", "In April, the mayor said no.",
                     "Lindenport, whose mayor resigned, voted.", "Last Tuesday, the mayor spoke."):
        assert not mayor.search(sentence), sentence  # no name holds the role here
    assert analyse("Who is Armstrong?").shape.kind == "description"  # a name, not a role
    # what the role is of: which document may hold its holder (search.py)
    assert mayor.place == ("lindenport",) and analyse("who was the Chief Engineer").shape.place == ()
    assert analyse("Who is the president of the United States?").shape.place == ("state", "unit")
    for question in ("Who is the mayor of Lindenport now?", "Who is the mayor of the city of Lindenport?",
                     "Who was the mayor of Lindenport in 2024?"):
        assert analyse(question).shape.place == ("lindenport",), question
    assert analyse("Who is the mayor of the city?").shape.place == ()  # no name: any document


def test_a_shape_reads_names_folded_as_the_question_is():
    """ "Who is Zoe Odegard?" typed without its letters: the apposition "Zoë Ødegård, a …" answers it."""
    described = analyse("Who is Zoe Odegard?").shape
    assert described.decides("Zoë Ødegård, a former engineer, moved from Aarhus.")
    assert analyse("Who is the mayor of Fundão?").shape.search("The mayor, Paulo Fernandes, said")


def test_quoted_phrases_need_two_words():
    assert quoted_phrases('the "one" and “two words”') == ("two words",)


def test_names_in_a_sentence_are_folded_as_the_question_words_are():
    assert names_in("Talks with Müller began.") == {"muller"}
    assert analyse("Who met Müller?").words >= {"muller"}


def test_a_question_typed_without_its_mark_is_searched_with_one():
    from qa.query import as_question

    assert as_question("when was the armistice signed") == "when was the armistice signed?"
    assert as_question("who is armstrong") == "who is armstrong?"
    assert as_question("When was it signed?") == "When was it signed?"
    assert as_question("At what time did the craft wait") == "At what time did the craft wait?"
    assert as_question("Has Seoul talked to the North") == "Has Seoul talked to the North?"
    assert as_question("Dwight Martin") == "Dwight Martin"  # a lookup, not a question
    assert as_question("tell me about Rhee") == "tell me about Rhee"
    assert as_question('where is "Panmunjom"') == 'where is "Panmunjom"'  # ends in a quote: left as typed
    query = analyse("what did trump say")
    assert query.search_text == "what did trump say?" and query.text == "what did trump say"


def test_spacing_width_repeated_marks_and_capitals_do_not_change_the_analysis():
    """The answer cache keys a question by normalize(); the analysis must not tell apart what
    the key does not, and a question in capitals holds no names."""
    plain = analyse("How long did the fighting of the Korean War last?")
    for variant in ("  How  long  did the\tfighting of the Korean War last?  ",
                    "Ｈｏｗ long did the fighting of the Korean War last?"):
        assert analyse(variant) == plain
    doubled = analyse("How long did the fighting of the Korean War last??")
    assert dataclasses.replace(doubled, text=plain.text) == plain  # all but the text as asked
    shouted = analyse("WHICH WARSHIP SANK IN 2010?")
    assert shouted.names == ("2010",) and shouted.answer_type is None and shouted.text == "WHICH WARSHIP SANK IN 2010?"
    assert shouted.terms == analyse("which warship sank in 2010?").terms
    assert analyse("NATO").names == ("nato",)  # one word in capitals is a name (an acronym)


def test_a_lookup_of_two_words_or_more_is_also_a_phrase():
    from qa.query import lookup_phrase

    assert analyse("conflict without hostilities").phrases == ("conflict without hostilities",)
    assert analyse("Hobart R. Gay").phrases == ("hobart r. gay",)
    assert analyse("Rhee").phrases == ()  # one word: BM25 alone
    assert analyse("Who signed the armistice?").phrases == ()  # a question, not a lookup
    assert analyse('"grand bargain" Armstrong').phrases == ("grand bargain",)  # the quotes say which words
    assert lookup_phrase("  Zhou Enlai? ") == ("zhou enlai",)


def test_words_that_only_point_at_the_document_are_left_out_of_the_question():
    from qa.query import unframed

    for asked, read in [
        ("What does the article say about Syngman Rhee?", "Syngman Rhee"),
        ("what does the story say about 1992", "1992"),
        ("What did the author write about the Geneva conference?", "the Geneva conference"),
        ("Please tell me more about Dwight Martin.", "Dwight Martin"),
        ("What do we learn about the 1992 agreement?", "the 1992 agreement"),
        ("What is said about the Cheonan in the article?", "the Cheonan"),
        ("According to the article, why didn't South Korea sign?", "Why didn't South Korea sign?"),
        ("In the article, who is Armstrong?", "Who is Armstrong?"),
        ("When was the armistice signed, according to the article?", "When was the armistice signed?"),
        ("Tell me about Syngman Rhee in the article", "Syngman Rhee"),
    ]:
        assert unframed(asked) == read, asked
    for kept in ("What does Armstrong say about the summit?",  # a person of the article, not the article
                 "In the story of Korea, what happened?", "Who wrote the article?", "What is the article about?",
                 "Who is the author of this piece?", "Tell me about it",  # nothing left to ask
                 "Tell me about the U.S.",  # nor here, for BM25: single letters are no terms
                 "According to the report, how many died?",  # "the report" may be one the article cites
                 "What does the report say about Syngman Rhee?", "What does the Post say about Kim?",
                 "What was said on July 27, 1953?",  # "on" a date, not a topic
                 "According to the text of the armistice, who signed?",  # the armistice's text
                 "According to the article by Waxman, when was it signed?"):
        assert unframed(kept) == kept
    framed, plain = analyse("What does the article say about Syngman Rhee?"), analyse("Syngman Rhee")
    assert framed.text == "What does the article say about Syngman Rhee?"  # shown and cached as asked
    assert (framed.terms, framed.names, framed.phrases, framed.keyword) == (plain.terms, plain.names, plain.phrases, True)
    assert analyse("Who wrote the article?").about == "author"


def test_a_lookup_needs_a_word_to_look_up():
    assert analyse("Dwight Martin").keyword and analyse("Yeonpyeong").keyword
    assert not analyse("Tell me about it").keyword and not analyse("What is it").keyword


@pytest.mark.parametrize("question, about, topic", [
    ("Who wrote the article?", "author", ()),
    ("Who wrote the tram article?", "author", ("tram",)),
    ("When was it published?", "published", ()),
    ("When was the article about London's sewers published?", "published", ("london", "sewer")),
    ("When was the tram story first published?", "published", ("tram",)),
    ("What date is the article from?", "published", ()),
    ("What is the publication date?", "published", ()),
    ("When did the story run?", "published", ()),
    ("How old is this article?", "published", ()),
    ("Who published the article?", "publisher", ()),
    ("Which newspaper published this story?", "publisher", ()),
    ("Where was the article about the tram published?", "publisher", ("tram",)),
    # about what the document tells, not the document itself
    ("When was the armistice signed?", None, ()),
    ("When was it signed?", None, ()),
    ("When was the report published?", None, ()),  # a report the article cites
    ("When was the treaty written?", None, ()),
    ("Who published the Communist Manifesto?", None, ()),
    ("What is the publication date of the Communist Manifesto?", None, ()),
    ("Who wrote the armistice?", None, ()),
    # a work the article is about, not the article
    ("Who is the author of Hamlet?", None, ()),
    ("Who is the publisher of the Communist Manifesto?", None, ()),
    ("Who is the writer of this song?", None, ()),
    ("Who wrote this song?", None, ()),
    ("Who wrote the story of Cinderella?", None, ()),
    ("When was it written?", None, ()),  # "it" may be what the article is about
    ("How old is it?", None, ()),
    # the words asking for the author name no topic
    ("Which reporter wrote the story?", "author", ()),
    ("Who authored this piece?", "author", ()),
    ("What is the byline of the article?", "author", ()),
    ("Who published it?", "publisher", ()),
    ("Who wrote the essay?", "author", ()),  # which document, of several? none named
    ("Who wrote this blog post?", "author", ()),
    ("Who wrote this document?", "author", ()),
    ("Who is the author of the text?", "author", ()),
    ("Who's the author?", "author", ()),
    # what the "about" clause names is the topic, whatever its words
    ("Who wrote the article about the journalist?", "author", ("journalist",)),
    # kinds of document a text is seldom about; unlike "article", they name which one, of several
    ("Who wrote the Tessera release notes?", "author", ("tessera",)),
    ("When was the changelog published?", "published", ("changelog",)),
    ("Who wrote the FAQ?", "author", ("faq",)),
    ("When was the article about the tram first published?", "published", ("tram",)),
    # a life's account names its subject with "of"
    ("Who wrote the biography of Astrid Ødegård-Lunde?", "author", ("biographi", "astrid", "odegard", "lund")),
    ("When was the obituary of Leonid Kulik published?", "published", ("obituari", "leonid", "kulik")),
    ("Who wrote this profile?", "author", ("profil",)),
    ("Who wrote a biography of Lincoln?", None, ()),  # one the article may mention
    ("Who wrote the AppArmor profile?", None, ()),  # a file the article is about
    # a recipe collection and a privacy policy are documents too; "these" names them as "this" does
    ("Who wrote these recipes?", "author", ("recip",)),
    ("When was the privacy policy published?", "published", ("privaci", "polici")),
    ("Who wrote the terms of service?", "author", ("term", "servic")),
    ("Who wrote the Sunshine Policy?", None, ()),  # a policy an article is about
    ("Who wrote the minutes?", "author", ("minut",)),
    ("When was the recall notice published?", "published", ("recal", "notic")),
    ("Who wrote the match report?", "author", ("match",)),
    # a saved mail: its sender wrote it, its Date header is when it was sent; a page is updated
    ("Who sent the email?", "author", ("email",)),
    ("When was the e-mail sent?", "published", ("mail",)),
    ("When was the FAQ page last updated?", "published", ("faq",)),
    ("Who sent the letter to Kim?", None, ()),  # a letter an article is about
    ("Who wrote the saltmarsh paper?", "author", ("saltmarsh",)),  # a newspaper's or a journal's
    # a review, a live blog, a leaflet, a judgment, a podcast's episode are documents too, and name which
    ("Who wrote the review?", "author", ("review",)),
    ("When was the live blog published?", "published", ("live",)),
    ("Who wrote the storm liveblog?", "author", ("storm", "liveblog")),
    ("When was the blog post published?", "published", ()),
    ("Who published the leaflet?", "publisher", ("leaflet",)),
    ("When was the judgment published?", "published", ("judgment",)),
    ("When was the episode released?", "published", ("episod",)),
    ("Who wrote the show notes?", "author", ()),
    ("Who wrote the interview?", "author", ("interview",)),
    ("When was this newsletter issued?", "published", ("newslett",)),
])
def test_a_question_about_the_document_itself_is_told_from_one_about_what_it_says(question, about, topic):
    query = analyse(question)
    assert (query.about, query.topic) == (about, topic)



def test_how_much_a_thing_costs_asks_for_a_sum_of_money_not_any_number():
    """ "How much will the Mill Street bike lanes cost?" got the vote ("6–3") and the length
    ("2.4-kilometre") first: both numbers; "$3.8 million" was not in the top five."""
    from qa.answer_types import ANSWER_PATTERNS

    for question in ("How much will the Mill Street bike lanes cost?", "How much money was raised?",
                     "What was the cost of the war?", "How much did they pay for it?"):
        assert analyse(question).answer_type == "money", question
    assert analyse("How much rain fell?").answer_type == "number"
    assert analyse("How much of the budget went to roads?").answer_type == "number"  # a share, as often
    for question in ("How much time did the build spend on tests?", "How much land did they sell?",
                     "How much did they raise the speed limit?"):
        assert analyse(question).answer_type == "number", question  # an amount of something else
    money = ANSWER_PATTERNS["money"]
    for text in ("an estimated $3.8 million", "£412m over budget", "40 million dollars", "US$5bn", "20 EUR", "€20"):
        assert money.search(text), text
    for text in ("voted 6–3", "a 2.4-kilometre stretch", "the 1.2 GB image", "the $ sign", "in 2024",
                 "scored 5 marks out of 10"):
        assert not money.search(text), text


def test_a_question_of_function_words_alone_looks_up_nothing():
    for question in ("?", "   ?  ", "What is it?", "Who are they?", "Why not?"):
        assert analyse(question).looks_up_nothing, question
    # a letter the tokenizer drops is still a word to look up (by meaning); so are a phrase and the document
    for question in ("What is C?", '"there is"', "Who wrote it?", "What is this article about?", "What did he say?"):
        assert not analyse(question).looks_up_nothing, question
