"""Real corpora: a saved news page beside a Markdown article and a text file; asking one
document or a few over the API, the CLI and the page; what the page says of the corpus."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MOLASSES, ask
from servers import QA

FURNITURE = ("Accept all", "cookies", "Share on", "Facebook", "Related stories", "Advertisement", "Sign up",
             "newsletter", "©", "Most read", "Home", "Photograph:")


def test_the_news_page_becomes_an_article_with_its_metadata_and_no_furniture(mixed):
    document = mixed["service"].document("tram-line-2019")
    assert document["title"] == "Riverside tram line opens after six years of delays"  # not "… | The Metro Times"
    assert (document["author"], document["published"], document["publisher"]) == ("Jane Doe", "2019-09-14",
                                                                                 "The Metro Times")
    assert document["source"].startswith("https://www.metrotimes.example/news/local/2019/sep/14/")
    text = document["text"]
    assert text.startswith("Millbridge’s long-awaited Riverside tram line finally opened")
    assert "Margaret Okonkwo" in text and "René Dubois" in text and "\n\nBusinesses hope for a revival\n\n" in text
    assert not [f for f in FURNITURE if f in text], [f for f in FURNITURE if f in text]
    assert all(block.strip() for block in text.split("\n\n")), "one paragraph per block"


def test_citations_slice_every_documents_text_and_answers_come_from_the_right_one(mixed):
    service = mixed["service"]
    for question, doc_id, evidence in [("How much did the Riverside tram line cost?", "tram-line-2019", "£412m"),
                                       ("How many people died in the molasses flood?", "molasses", "killed 21 people"),
                                       ("Why didn't South Korea sign?", "korea-armistice-time-2018", "Syngman Rhee")]:
        answer = ask(service, question, 5)
        assert answer.passages[0].citation.doc_id == doc_id, question
        assert any(evidence in p.text for p in answer.passages[:3]), question
        for passage in answer.passages:
            text = service.document(passage.citation.doc_id)["text"]
            assert text[passage.citation.start:passage.citation.end] == passage.text


def test_who_wrote_the_article_about_a_topic_is_answered_by_that_articles_byline_or_not_at_all(mixed):
    """Of three documents only the Korea article has a byline in its text: asked about Korea,
    it answers; asked about the molasses flood, another article's byline must not come first
    and be "answered", and the flood's own passage does not say who wrote it."""
    service = mixed["service"]
    korea = ask(service, "Who wrote the article about the Korean War armistice?", 3)
    assert korea.passages[0].text.startswith("Write to Olivia B. Waxman") and korea.verdict == "answered"
    flood = ask(service, "Who wrote the article about the Boston molasses flood?", 3)
    assert flood.passages[0].citation.doc_id == "molasses" and flood.verdict != "answered"
    for unnamed in ("Who wrote the article?", "Who wrote the essay?", "Who wrote this document?"):
        anyone = ask(service, unnamed, 3)  # which one, of three? the byline first, but a guess
        assert anyone.passages[0].text.startswith("Write to Olivia B. Waxman") and anyone.verdict != "answered", unnamed


def test_when_a_document_was_published_comes_from_that_documents_metadata_or_not_at_all(mixed):
    """The tram page's date is only in its meta tags, the Korea article's only in its front
    matter; the flood's text file has none. "When was it published?" asked of all three names
    no document, so nothing is made up; asked of one, it is that one's."""
    from qa.records import AskRequest, DocumentFact
    from qa.verdict import NO_BYLINE

    service = mixed["service"]
    tram = ask(service, "When was the article about the Riverside tram line published?", 3)
    assert tram.document_fact == DocumentFact("tram-line-2019", "Riverside tram line opens after six years of delays",
                                              "published", "2019-09-14")
    assert tram.verdict == "answered"
    korea = ask(service, "Who published the story about the Korean War armistice?", 3).document_fact
    assert (korea.doc_id, korea.field, korea.value) == ("korea-armistice-time-2018", "publisher", "TIME")
    flood = ask(service, "When was the article about the molasses flood published?", 3)
    assert flood.document_fact is None and flood.verdict != "answered"
    publisher = ask(service, "Who published the article about the molasses flood?", 3)  # no metadata, no byline
    assert publisher.document_fact is None and publisher.verdict != "answered"
    assert publisher.features[NO_BYLINE] == 1.0  # capped, however close its passage: only metadata would say
    unnamed = ask(service, "When was it published?", 3)
    assert unnamed.document_fact is None and unnamed.verdict != "answered"
    one = service.ask(AskRequest("When was it published?", 3, "hybrid", ("tram-line-2019",)))
    assert one.document_fact is not None and one.document_fact.value == "2019-09-14"


def test_a_dated_byline_in_the_text_answers_when_it_was_published_and_is_cited(tmp_path, embedder, token_counter):
    """A text file has no front matter: its byline line says who, where and when, cited as a
    passage and read into its metadata. An undated byline says who, not when."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tram.txt").write_text(
        "Council approves tram extension\n\nBy Tomas Vennegaard, Lindenport Herald, 3 March 2024\n\n"
        "The city council voted 31 to 14 on Tuesday night to approve the tram extension to the airport. "
        "Work is due to start in 2026.\n\nThe Civic Party opposed it.\n")
    (corpus / "flood.txt").write_text("The molasses flood\n\nBy Jane Roe\n\n" + MOLASSES.split("\n\n", 1)[1])
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    tram = ask(service, "When was the tram story published?", 3)
    assert tram.passages[0].text == "By Tomas Vennegaard, Lindenport Herald, 3 March 2024"
    assert tram.verdict == "answered" and tram.document_fact.value == "2024-03-03"
    publisher = ask(service, "Who published the article about the tram?", 3)
    assert (publisher.document_fact.value, publisher.verdict) == ("Lindenport Herald", "answered")
    flood = ask(service, "When was the article about the molasses flood published?", 3)
    assert flood.passages[0].text != "By Jane Roe" and flood.verdict != "answered"  # a byline, but no date
    assert ask(service, "Who wrote the article about the molasses flood?", 3).passages[0].text == "By Jane Roe"


def test_a_question_about_a_document_means_the_one_its_topic_names_not_the_first_passages(
        tmp_path, embedder, token_counter):
    """A blog page whose byline is only in its meta tags, beside two council stories, one with
    a dated byline in its text (tests/fixtures/overlap). "Who wrote the blog post about CI
    build times?" ranked a council story's sentence first and answered with its author; "When
    was the Quarry post published?" with the council story's dated byline."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "fixtures" / "overlap", corpus)
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    for question, field, value in [("Who wrote the blog post about CI build times?", "author", "Priya Raghunathan"),
                                   ("When was the Quarry post published?", "published", "2025-03-18"),
                                   ("Who published the CI post?", "publisher", "Quarry Engineering Blog"),
                                   ("Who wrote the Kenmore article?", "author", "Owen Ferreira"),
                                   ("When was the Ashford story published?", "published", "2024-10-09")]:
        answer = ask(service, question, 3)
        fact = answer.document_fact
        assert (fact.field, fact.value) == (field, value), question
        assert answer.verdict == "answered", question
    quarry = ask(service, "When was the Quarry post published?", 3)
    assert quarry.passages[0].text != "By Dana Whitcombe, Ashford Courier, 9 October 2024"  # not that article's
    both = ask(service, "Who wrote the article about bike lanes?", 3)  # two articles about bike lanes: which?
    assert both.document_fact is None and both.verdict != "answered"
    # the passages are of the document the question names, not a council story's "construction would start
    # in April 2025"
    cited = {p.citation.doc_id for p in ask(service, "When was the CI build times post published?", 3).passages}
    assert cited == {"ci-build-times"}


def test_the_holder_of_a_role_of_a_place_comes_from_the_document_about_that_place(tmp_path, embedder, token_counter):
    """Two council stories, each with "Mayor <Name>": "Who is the mayor of Kenmore?" ranked the
    Ashford story's mayor first (tests/fixtures/overlap)."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "fixtures" / "overlap", corpus)
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    assert "Mayor Gordon Ashby" in ask(service, "Who is the mayor of Kenmore?", 3).passages[0].text
    assert "Mayor Elaine Brody" in ask(service, "Who is the mayor of Ashford?", 3).passages[0].text
    assert "Mayor" in ask(service, "Who is the mayor?", 3).passages[0].text  # of no place: either


def test_a_saved_pages_passage_cites_the_page_headings_above_it(tmp_path, embedder, token_counter):
    """The page's <h2>/<h3> are kept in the index with the document and survive loading it:
    an FAQ's question heading, which no rule over the bare text takes for a heading."""
    from test_sections import FAQ_PAGE

    from qa.service import QAService

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "help.html").write_text(FAQ_PAGE, encoding="utf-8")
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    first = ask(service, "How do I reset my password?", 3).passages[0]
    assert first.text.startswith("Open the sign-in page")
    assert first.citation.section == "Accounts › How do I reset my password?"


def test_a_version_number_finds_the_notes_that_name_it_and_the_section_it_heads(tmp_path, embedder, token_counter):
    """ "2.3.0" had no term to look up (single digits are not words) and found nothing. "What was
    fixed in 2.4.1?" is answered from the section the version heads: its bullets name no version,
    their vectors carry the section path (before, 2.3.2's "to fix CVE-2025-2783" came first)."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "fixtures" / "changelog", corpus)
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    naming = ask(service, "2.3.0", 3).passages[:2]  # the hotfix and the deprecation note
    assert {p.text.split()[1] for p in naming} == {"Hotfix:", "The"} and all("2.3.0" in p.text for p in naming)
    assert all(p.scores["bm25"] > 0 for p in naming)
    # a version its heading names, its bullets not
    fixed = ask(service, "What was fixed in 2.4.1?", 3).passages[0]
    assert fixed.citation.section == "2.4.1 — 2025-06-11 › Fixed", (fixed.text, fixed.citation.section)


FAQ_QUESTIONS = [("Where is the kettle manufactured?", "The A3 is designed in Gothenburg"),  # no word but "kettle"
                 ("My firmware update keeps failing", "Unplug the base for ten seconds"),
                 ("What is the capacity?", "The A3 holds 1.6 litres"),
                 ("Why is the base blinking red?", "The kettle was lifted while it was heating")]  # a setext heading


def test_an_faqs_answer_is_found_by_its_heading_and_the_heading_alone_is_never_an_answer(
        tmp_path, embedder, token_counter):
    """An FAQ's question is its heading, and the answer under it may share no word with the
    question asked: "Where is the kettle manufactured?" never showed "designed in Gothenburg,
    assembled in Brno" in the top 5 (tests/fixtures/faq). And the heading "### The app says a
    firmware update failed. What now?" was the first "answer", its markers and all."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "fixtures" / "faq", corpus)
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    for question, answer in FAQ_QUESTIONS:
        found = ask(service, question, 5)
        assert found.passages[0].text.startswith(answer), (question, found.passages[0].text)
        assert found.verdict != "not_found", question  # the passage is read with its heading
        assert not any(p.text.startswith("#") or "---" in p.text for p in found.passages), question


def test_a_bold_faq_question_is_neither_cut_from_its_markers_nor_highlighted_as_the_answer(
        tmp_path, embedder, token_counter):
    """A README's FAQ writes its questions in bold: the passage began "** Yes." and the
    highlight was the question itself, the sentence closest to the question asked."""
    service = _service_over(tmp_path, embedder, token_counter, "readme.md",
        "# Tidewalk\n\nTidewalk tails log files and ships their lines to an HTTP collector.\n\n## FAQ\n\n"
        "**Does Tidewalk parse JSON logs?** No. Tidewalk ships lines as opaque strings; parsing is the "
        "collector's job.\n\n**Is there a Docker image?** The official image is ghcr.io/fernhill/tidewalk, "
        "based on distroless and about 11 MB compressed.\n\n**Lines appear twice.** This happens after an "
        "unclean shutdown, because positions are saved every 2 seconds.\n")
    for question, answer in (("Is there a docker image?", "The official image is"),
                             ("Does Tidewalk parse JSON logs?", "Tidewalk ships lines"),
                             ("Why do lines appear twice?", "This happens after an unclean shutdown")):
        first = ask(service, question, 3).passages[0]
        assert not first.text.startswith(("** ", "**\n")), first.text  # never the markers closing the sentence before
        assert first.text[first.highlight.start:].startswith(answer), (question, first.highlight)


WHO_DID_IT = [
    # the passage was right and its first sentence, closer by meaning, was marked: the yard that built the ship
    ("corvina.md", "# PS Corvina\n\nCorvina was built by the Tolland & Marsh yard at Eskerby and launched on 22 April "
     "1874. She was designed by the naval architect Ambrose Fenwick-Hale, who had previously drawn several Clyde "
     "steamers. Her hull was of iron, 58.4 metres long.\n\nShe sank in a storm on the night of 3 November 1887 off "
     "Grellin Point with the loss of 41 lives.\n", "Who designed the Corvina?", "She was designed by"),
    # a modal's verb asks for its agent too: the sentence commissioning the review was marked
    ("strike.md", "# Ferry strike ends\n\nUnder the deal, the ferry authority will also hire twelve more crew members "
     "by March and commission an independent review of fatigue on all of its routes. The review will be led by Dr. "
     "Saoirse Ní Bhriain, a sleep researcher at the University of Glenmoray, and is due to report within six months."
     "\n\nThe union's members will vote on the deal on Wednesday.\n", "Who will lead the fatigue review?",
     "The review will be led by"),
]


@pytest.mark.parametrize("name, text, question, answer", WHO_DID_IT)
def test_who_did_it_highlights_the_sentence_naming_who_did_it(tmp_path, embedder, token_counter, name, text,
                                                               question, answer):
    """ "Who designed …?", "Who will lead …?": the sentence of the answer's shape ("designed by",
    "led by") is marked, not a sentence closer by meaning that names no one."""
    service = _service_over(tmp_path, embedder, token_counter, name, text)
    first = ask(service, question, 2).passages[0]
    assert first.text[first.highlight.start:first.highlight.end].startswith(answer), first.highlight


def test_the_verdict_reads_a_passage_with_its_documents_title(tmp_path, embedder, token_counter):
    """"Her master … was Captain Elias Thornbury" answers "Who was the captain of the
    Corvina?" in a page about the Corvina: it says "her", and the question's "Corvina" counted
    as missing ("may not answer", 0.08)."""
    body = ("In 1882 she was fitted with electric lighting, one of the first vessels in the region to have it. "
            "Her master from 1879 until her loss was Captain Elias Thornbury, a native of Halvik.\n\n"
            "The steamer carried passengers and mail between Halvik and Eskerby three times a week.\n")
    confidence = {}
    for title in ("PS Corvina (1874)", "Lake steamers of the north"):
        folder = tmp_path / title.split()[0]
        folder.mkdir()
        service = _service_over(folder, embedder, token_counter, "ship.md", f"---\ntitle: {title}\n---\n{body}")
        answer = ask(service, "Who was the captain of the Corvina?", 2)
        assert "Captain Elias Thornbury" in answer.passages[0].text
        confidence[title] = answer.confidence
    assert confidence["PS Corvina (1874)"] > confidence["Lake steamers of the north"] + 0.02, confidence


def test_a_references_list_and_a_field_line_are_told_apart(tmp_path, embedder, token_counter):
    """A page's references answered "When did Brandqvist retire?" ("Brandqvist, A. (1937)"), and
    the minutes' "**Date:** Tuesday 29 April 2025" was never returned: a label, by its shape."""
    service = _service_over(tmp_path, embedder, token_counter, "brandqvist.md",
        "# Aurelia Brandqvist\n\n**Date:** Tuesday 29 April 2025\n\nShe worked at Uppsala until her retirement "
        "in 1969, then moved to the coast.\n\n## References\n\n- Brandqvist, A. (1937). Ice crystals at low "
        "temperatures. Uppsala.\n- Brandqvist, A. (1969). Retirement lecture on ice. Uppsala.\n")
    retired = ask(service, "When did Brandqvist retire?", 5).passages
    assert retired[0].text.startswith("She worked at Uppsala"), retired[0].text
    assert not any("(1937)" in p.text or "(1969)" in p.text for p in retired)
    assert ask(service, "Tuesday 29 April 2025", 3).passages[0].text.startswith("**Date:**")


def test_a_tables_header_row_is_never_the_highlighted_answer(tmp_path, embedder, token_counter):
    service = _service_over(tmp_path, embedder, token_counter, "match.md",
        "# Harbour City 2–1 Vale Rovers\n\nThe teams met at the Quay Ground on Saturday.\n\n"
        "| | Harbour City | Vale Rovers |\n|---|---|---|\n| Shots | 14 | 9 |\n| Red cards | 0 | 1 |\n\n"
        "Rovers defender Tiago Araújo was sent off in the 71st minute.\n")
    for question in ("How many shots did Harbour City and Vale Rovers have?", "Who manages Vale Rovers?",
                     "Harbour City against Vale Rovers"):
        table = next(p for p in ask(service, question, 5).passages if "|---|" in p.text)
        assert not table.text[table.highlight.start:].startswith("| | Harbour City"), question


def test_a_command_in_a_code_block_is_an_answer_and_a_see_also_list_is_not(tmp_path, embedder, token_counter):
    """A one-line command has no full stop, like a heading: it was never returned, and the
    answer was its lead-in alone ("You can also make a local backup file:")."""
    service = _service_over(tmp_path, embedder, token_counter, "faq.md",
        "# Hub FAQ\n\n## How do I back up the hub?\n\nThe app backs up your hub configuration every night. "
        "You can also make a local backup file:\n\n```\nhubctl backup create --output hub.json\n```\n\n"
        "To restore it onto a new hub, run the restore command with the file name.\n\n"
        "## How do I pair a device?\n\nPut the hub into pairing mode from the app and press the device's button.\n\n"
        "## See also\n\n- List of smart home hubs in Europe and North America\n- Zigbee Alliance\n"
        "- Thread (network protocol)\n")
    backup = ask(service, "What command creates a local backup file?", 3)
    assert "hubctl backup create --output hub.json" in backup.passages[0].text
    assert "local backup file:" in backup.passages[0].text  # with what says what it does
    for question in ("Zigbee Alliance", "Which smart home hubs are listed?"):
        assert not any("Zigbee Alliance" in p.text for p in ask(service, question, 5).passages), question


def test_a_text_files_headline_is_its_title_and_stays_in_the_text(mixed):
    document = mixed["service"].document("molasses")
    assert document["title"] == "The Great Molasses Flood" and document["text"] == MOLASSES


def test_an_unsupported_file_is_skipped_with_one_warning_naming_it(mixed):
    assert [w for w in mixed["warnings"] if "notes.odt" in w] == [
        "notes.odt: unsupported file type, skipped (documents are .md, .markdown, .txt, .html, .htm)"]


def test_asking_one_document_or_a_few_over_the_api(mixed):
    from qa.app import create_app

    client = create_app({"TESTING": True}, service=mixed["service"]).test_client()
    one = client.post("/api/ask", json={"question": "When was the armistice signed and when did the tank burst?",
                                        "doc_id": "molasses"}).get_json()
    assert one["doc_id"] == ["molasses"] and {p["citation"]["doc_id"] for p in one["passages"]} == {"molasses"}
    both = client.post("/api/ask", json={"question": "the Boston molasses tank and the Riverside tram line", "k": 10,
                                         "doc_id": ["molasses", "tram-line-2019"]}).get_json()
    assert {p["citation"]["doc_id"] for p in both["passages"]} == {"molasses", "tram-line-2019"}
    get = client.get("/api/ask?question=cost&doc_id=tram-line-2019&doc_id=molasses").get_json()
    assert get["doc_id"] == ["tram-line-2019", "molasses"]
    assert get["passages"] and {p["citation"]["doc_id"] for p in get["passages"]} <= {"tram-line-2019", "molasses"}
    unknown = client.post("/api/ask", json={"question": "x", "doc_id": "foo"})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "bad_doc_id"
    everything = client.post("/api/ask", json={"question": "the Boston molasses tank and the Riverside tram line",
                                                "k": 10}).get_json()
    assert len({p["citation"]["doc_id"] for p in everything["passages"]}) >= 2, "ranking stays global by default"
    spec = client.get("/api/openapi.json").get_json()
    properties = spec["components"]["schemas"]["AskBody"]["properties"]
    assert "doc_id" in properties and properties["doc_id"]["oneOf"][1]["type"] == "array"
    assert any(p["name"] == "doc_id" for p in spec["paths"]["/api/ask"]["get"]["parameters"])


def test_asking_one_document_from_the_cli(mixed):
    result = subprocess.run([QA, "ask", "What happened in 1919?", "--index", str(mixed["index"]), "--doc", "molasses",
                             "--json"], capture_output=True, text=True, timeout=120)
    answer = json.loads(result.stdout)
    assert answer["doc_id"] == ["molasses"] and {p["citation"]["doc_id"] for p in answer["passages"]} == {"molasses"}
    bad = subprocess.run([QA, "ask", "x", "--index", str(mixed["index"]), "--doc", "nope"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "qa: error: unknown doc_id 'nope'; the ids are listed by /api/documents and `qa index info`")


def test_the_page_lists_the_documents_offers_a_selector_and_never_claims_one_article(mixed):
    from qa.app import create_app

    client = create_app({"TESTING": True}, service=mixed["service"]).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "the article" not in page and "Ask these 3 documents" in page and "Korea" not in _examples(page)
    assert re.findall(r'<option value="([^"]*)"', page) == ["", "korea-armistice-time-2018", "molasses",
                                                             "tram-line-2019"]
    assert re.search(r"<title>(.*?)</title>", page, re.S).group(1) == "Ask these 3 documents · qa"
    assert page.count('<ul class="document-list">') == 1
    listed = re.search(r'<ul class="document-list">(.*?)</ul>', page, re.S).group(1)
    assert "Jane Doe" in listed and "2019-09-14" in listed and 'href="/documents/molasses"' in listed
    filtered = client.get("/?q=What+happened+in+1919%3F&doc=molasses").get_data(as_text=True)
    assert '<option value="molasses" selected>' in filtered
    assert set(re.findall(r'href="/documents/([a-z0-9-]+)\?', filtered)) == {"molasses"}
    assert len(re.findall(r'<li class="result', filtered)) >= 1 and "killed 21 people" in filtered


def _examples(page: str) -> str:
    found = re.search(r'<nav class="examples".*?</nav>', page, re.S)
    return found.group(0) if found else ""


def test_one_document_is_named_and_its_examples_come_from_the_deployment(service):
    from qa.app import create_app

    page = create_app({"TESTING": True}, service=service).test_client().get("/").get_data(as_text=True)
    assert "Why North Korea and South Korea Are Technically Still at War" in re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert "Why didn&#39;t South Korea sign the armistice?" in _examples(page)  # from corpus/qa.toml, in the index
    custom = create_app({"TESTING": True, "QA_PAGE_TITLE": "Ask our archive",
                         "QA_EXAMPLES": ("Who signed?",)}, service=service).test_client().get("/")
    text = custom.get_data(as_text=True)
    assert "<h1>Ask our archive</h1>" in text and "Who signed?" in _examples(text) and "Geneva" not in _examples(text)


def _service_over(tmp_path: Path, embedder, token_counter, name: str, text: str):
    """A real index of one document, loaded."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_text(text, encoding="utf-8")
    _build(corpus, embedder, token_counter)
    return QAService(str(tmp_path / "index"), embedder=embedder).load()


def _build(corpus: Path, embedder, token_counter) -> None:
    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.index.build import build_index

    build_index(load_corpus(corpus), corpus, corpus.parent / "index", embedder, ChunkingParams(),
                count_tokens=token_counter)


def _molasses_service(tmp_path: Path, embedder, token_counter):
    """A corpus of the molasses text alone, built into ``tmp_path/index`` and loaded."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "molasses.txt").write_text(MOLASSES)
    _build(corpus, embedder, token_counter)
    return QAService(str(tmp_path / "index"), embedder=embedder).load()


def test_without_settings_no_korea_text_appears_for_another_corpus(tmp_path, embedder, token_counter):
    from qa.app import create_app

    service = _molasses_service(tmp_path, embedder, token_counter)
    page = create_app({"TESTING": True}, service=service).test_client().get("/").get_data(as_text=True)
    assert "<h1>Ask: The Great Molasses Flood</h1>" in page
    assert not re.search(r"Korea|armistice|Geneva", page) and not _examples(page)


def test_a_page_without_article_text_stops_the_build_in_one_line(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.md").write_text("Fine text.")
    (corpus / "nav-only.html").write_text("<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
                                          "<script>track()</script></body></html>")
    result = subprocess.run([QA, "index", "build", "--corpus", str(corpus), "--index", str(tmp_path / "index")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and not (tmp_path / "index" / "current").exists()
    assert result.stderr.strip().splitlines() == [
        "qa: error: nav-only.html: no article text could be extracted from this web page"]


def test_a_changed_page_makes_the_index_stale(mixed, tmp_path):
    from qa.chunking import ChunkingParams
    from qa.index.build import is_stale
    from qa.index.layout import read_manifest

    manifest = read_manifest(mixed["index"])
    corpus = tmp_path / "corpus"
    shutil.copytree(mixed["corpus"], corpus)
    assert not is_stale(manifest, corpus, ChunkingParams(), manifest["model"]["id"])
    page = corpus / "tram-line-2019.html"
    page.write_text(page.read_text().replace("38,417 journeys", "38,418 journeys"))
    assert is_stale(manifest, corpus, ChunkingParams(), manifest["model"]["id"])
    assert Path(manifest["corpus"]["path"]) == mixed["corpus"] and "tram-line-2019.html" in manifest["corpus"]["files"]


def test_the_api_document_offers_the_doc_ids_of_the_version_served_after_a_reload(tmp_path, embedder, token_counter,
                                                                                   service):
    """The document is kept between requests (app.py); a reload that brings other ids makes it
    again, and another app of the same process (the seed one here) never changes it."""
    from qa.app import create_app

    molasses = _molasses_service(tmp_path, embedder, token_counter)
    client = create_app({"TESTING": True}, service=molasses).test_client()

    def offered() -> list[str]:
        spec = client.get("/api/openapi.json").get_json()
        return spec["components"]["schemas"]["AskBody"]["properties"]["doc_id"]["oneOf"][0]["enum"]

    assert offered() == ["molasses"] == offered()
    seed = create_app({"TESTING": True}, service=service).test_client().get("/api/openapi.json").get_json()
    assert seed["components"]["schemas"]["AskBody"]["properties"]["doc_id"]["oneOf"][0]["enum"] == [
        "korea-armistice-time-2018"]
    assert offered() == ["molasses"]
    (tmp_path / "corpus" / "tram.md").write_text("---\ntitle: Tram\n---\nThe Riverside tram line opened in 2019.\n")
    _build(tmp_path / "corpus", embedder, token_counter)
    molasses.holder.refresh(force=True)
    assert offered() == ["molasses", "tram"]
    post = client.post("/api/ask", json={"question": "When did the tram line open?", "doc_id": "tram"})
    assert post.status_code == 200 and {p["citation"]["doc_id"] for p in post.get_json()["passages"]} == {"tram"}


def test_the_reader_of_a_document_with_no_metadata_does_not_repeat_its_title(mixed):
    """The molasses text has a title and nothing else: its reader showed "The Great Molasses
    Flood" as the heading and again as the line under it."""
    from qa.app import create_app

    client = create_app(service=mixed["service"]).test_client()
    page = client.get("/documents/molasses").get_data(as_text=True)
    assert page.count("The Great Molasses Flood") == 3  # <title>, the heading, the text's first line
    assert 'class="citation"' not in page
    korea = client.get("/documents/korea-armistice-time-2018").get_data(as_text=True)
    assert '<p class="citation"><span class="author">Olivia B. Waxman</span>' in korea


def test_a_passage_cites_the_section_it_is_in(tmp_path, embedder, token_counter):
    """A changelog's bullet says what changed; only its heading says in which version and when
    (passages stay within a paragraph): the citation carries the headings above it, the
    page and the command line show them."""
    from qa.app import create_app
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "fixtures" / "changelog", corpus)
    _build(corpus, embedder, token_counter)
    service = QAService(str(tmp_path / "index"), embedder=embedder).load()
    question = "When was encrypted vault support added?"
    first = ask(service, question, 3).passages[0]
    assert first.text.startswith("- Encrypted vaults") and first.citation.section == "2.4.0 — 2025-05-20 › Added"
    assert ask(service, "Dates are release dates in UTC", 1).passages[0].citation.section is None  # before any
    client = create_app(service=service).test_client()
    assert client.get("/api/ask", query_string={"question": question}).get_json()["passages"][0]["citation"][
        "section"] == "2.4.0 — 2025-05-20 › Added"
    page = client.get("/", query_string={"q": question}).get_data(as_text=True)
    assert '<span class="sep"> › </span><span class="section">2.4.0 — 2025-05-20 › Added</span>' in page
    printed = subprocess.run([str(Path(QA)), "ask", question, "--index", str(tmp_path / "index"), "-k", "1"],
                             capture_output=True, text=True, check=True).stdout
    assert "1. Tessera release notes › 2.4.0 — 2025-05-20 › Added — ¶" in printed
    # the bullet's vector was made from its section path and its text; its text stays the bullet alone
    import numpy as np

    index = service.index
    bullet = next(i for i, c in enumerate(index.chunks) if c.text.startswith("- Encrypted vaults"))
    stored = index.chunk_vectors(np.array([bullet]))[0]
    with_path, alone = embedder.encode(["2.4.0 — 2025-05-20 › Added\n" + index.chunks[bullet].text,
                                        index.chunks[bullet].text])
    assert float(stored @ with_path) > 0.999 > float(stored @ alone)


INTERVIEW = """Oral history: the Brennmoor plant
Interview with Dr. Chidinma Okafor

[00:02:40]
INTERVIEWER: And what did you find?

DR. OKAFOR: Biofouling. The intake sat too close to the outfall of the fish farm, so the feed water was full of
organic matter every summer. The chlorination was dosed for winter conditions all year round.

INTERVIEWER: [laughs] A lawn.

DR. OKAFOR: A slimy one. [laughs]

[00:08:30]
INTERVIEWER: Let's talk about the drought of 2012. What happened at the plant that summer?

DR. OKAFOR: The reservoirs in the valley were at 31 percent by the end of July, so the water company asked us to
run at full capacity for eleven straight weeks. We had three operators per shift instead of four.

[00:12:05]
INTERVIEWER: Did anything break during those weeks?

DR. OKAFOR: The number two high-pressure pump. Its bearing failed in week seven, and we ran on two pumps for
nine days while a replacement came from Glasgow.
"""


@pytest.mark.parametrize("question, answer", [
    ("How low were the reservoirs in the summer of 2012?", "The reservoirs in the valley were at 31 percent"),
    ("Which pump broke down during the drought?", "Its bearing failed in week seven"),
])
def test_an_interviews_answer_turn_comes_first_with_its_question(tmp_path, embedder, token_counter, question,
                                                                 answer):
    """The interviewer's turn alone ranked first (it holds the question's words: "drought",
    "2012"), and the answer's window, overlapping nothing, came second; a hard-wrapped answer was
    cut into lines; "A slimy one. [laughs]" was a heading over the rest of the interview."""
    service = _service_over(tmp_path, embedder, token_counter, "interview.txt", INTERVIEW)
    first = ask(service, question, 3).passages[0]
    assert first.text.startswith("[") and "INTERVIEWER:" in first.text, first.text  # read with its question
    assert answer in first.text[first.highlight.start:first.highlight.end], (first.text, first.highlight)
    assert first.citation.section is None  # no line of the interview is a heading


MAIL = """From: Harriet Molloy <harriet.molloy@quillbridge.example>
To: Festival Committee <committee@quillbridge.example>
Date: Thu, 6 Feb 2025 17:42:09 +0000
Subject: Re: Lantern Festival 2025 - budget and venue change

Hi all,

Short version: we're moving the main stage from Fenwick Park to the old tram depot on Calder Street, and I need
a yes/no from everyone by Monday 10 February so I can sign the hire agreement.

Thanks,
Harriet

This email and any attachments are confidential and intended solely for the addressee. If you have received it
in error, please notify the sender and delete it.
"""


def test_a_saved_mail_is_titled_by_its_subject_and_answers_who_sent_it(tmp_path, embedder, token_counter):
    """ "Who sent the email?" came back with the confidentiality footer (it says "email") and no
    author; the thread's title was its file name."""
    service = _service_over(tmp_path, embedder, token_counter, "budget-thread.txt", MAIL)
    answer = ask(service, "Who sent the email?", 3)
    assert answer.document_fact is not None and answer.document_fact.value == "Harriet Molloy"
    assert answer.passages[0].text.startswith("From: Harriet Molloy"), answer.passages[0].text
    assert answer.passages[0].citation.title == "Lantern Festival 2025 - budget and venue change"
    sent = ask(service, "When was the email sent?", 3).document_fact
    assert sent is not None and "2025-02-06" in sent.value



def test_of_a_threads_senders_the_first_ones_from_line_comes_first(tmp_path, embedder, token_counter):
    """A thread (tests/fixtures/mail, written for a walkthrough) has four "From:" lines, all
    bylines; "Who sent the email?" ranked the second sender's first, under metadata naming the
    first: the byline naming the document's author now comes first."""
    text = (Path(__file__).parent / "fixtures" / "mail" / "festival-budget-thread.txt").read_text(encoding="utf-8")
    service = _service_over(tmp_path, embedder, token_counter, "festival-budget-thread.txt", text)
    answer = ask(service, "Who sent the email?", 3)
    assert answer.document_fact is not None and answer.document_fact.value == "Harriet Molloy"
    assert answer.passages[0].text.startswith("From: Harriet Molloy"), answer.passages[0].text


THERMOSTAT = """# Halo help

## What does the snowflake on the display mean?

The snowflake means frost protection is active. Whatever mode the Halo is in, it will switch the heating on if the
room falls below 7 °C, to protect your pipes. You can change this threshold in Settings › Safety.

## How does Away mode work?

Away mode uses the location of the phones linked to your home. When every linked phone has been more than 800
metres from home for at least 15 minutes, the Halo lowers the temperature to your Away setpoint. It warms the home
again when the first phone comes back.
"""


@pytest.mark.parametrize("question, answer", [
    ("At what temperature does frost protection turn the heating on?", "below 7 °C"),
    ("How far from home do I have to be before Away mode starts?", "800\nmetres"),
])
def test_the_sentence_holding_the_expected_measure_is_marked(tmp_path, embedder, token_counter, question, answer):
    """The sentence naming the topic ("The snowflake means frost protection is active.") was
    marked over the one holding the temperature asked for: the answer type's bonus in the
    highlight was 0.1, less than their similarity's difference (measured: 0.3 marks the right
    sentence for 1,022 of 1,151 typed questions over SQuAD-16, Korea and walks 4-8, 0.1 for 1,009)."""
    service = _service_over(tmp_path, embedder, token_counter, "halo.md", THERMOSTAT)
    first = ask(service, question, 2).passages[0]
    assert answer in first.text[first.highlight.start:first.highlight.end], (first.text, first.highlight)


RIVER = """# Osmera (river)

Osmera
Country | Valdoria
Source | Lake Temmik, Kaskar Highlands
Source elevation | 2,140 m (7,020 ft)
Mouth | Gulf of Serran at Porto Lenza
Length | 612 km (380 mi)
Basin size | 48,300 km2
Average discharge | 410 m3/s

The Osmera rises in Lake Temmik and flows south through the Kaskar Highlands to the Gulf of Serran.

Irrigation from the river waters some 310,000 hectares on the Tarn Plain. Porto Lenza handles about 14 million
tonnes of cargo annually, making it the second busiest port in Valdoria.
"""

TIDE = """# Portugal approves first tidal power array in the Tagus estuary

LISBON, 4 May — Portugal's government on Sunday approved the construction of a 48-megawatt tidal power array at
the mouth of the Tagus river, the first commercial project of its kind in the country.

"We cannot fight climate change by sacrificing the species that are just coming back," said Dr. Inês Valadares, a
marine biologist at the University of Lisbon who has tracked the dolphins for six years. "The turbines turn
slowly, at about 12 revolutions per minute, and the risk of collision is probably low."

Fishermen in Trafaria said they feared the exclusion zone would close their best grounds.
"""


@pytest.mark.parametrize("lookup", ["Inês Valadares", "Valadares", "ines valadares"])
def test_a_name_asked_alone_has_the_passage_holding_it_first(tmp_path, embedder, token_counter, lookup):
    """Another page's infobox (its vector like the name's: "Valdoria") ranked above the one
    passage naming Inês Valadares, and the verdict said "not found"."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "osmera.md").write_text(RIVER, encoding="utf-8")
    (corpus / "tide.md").write_text(TIDE, encoding="utf-8")
    _build(corpus, embedder, token_counter)
    answer = ask(QAService(str(tmp_path / "index"), embedder=embedder).load(), lookup, 3)
    assert "Inês Valadares" in answer.passages[0].text, answer.passages[0].text
    assert answer.answered


PUMP = """# Brennmoor in the drought

DR. OKAFOR: One of the high-pressure pumps, pump 3, lost a bearing in week six. We had no spare, because the spare had
been sent for refurbishment to a workshop in Leeds. A technician named Aroha Tane drove down overnight, picked it up
half-finished, and they finished the work in our own workshop. We lost about thirty hours of one train, which was
nothing, really, considering.
"""


def test_the_sentence_holding_the_questions_words_is_marked(tmp_path, embedder, token_counter):
    """ "Who drove overnight to fetch the pump part?" marked "One of the high-pressure pumps,
    pump 3, lost a bearing", closer by meaning, over the sentence holding "drove … overnight"
    and the name: the share of the question's terms a sentence holds weighed 0.3; 0.8 marks the
    right sentence for 2,950 of 3,361 questions over SQuAD-16, Korea and walks 4-8 (0.3: 2,912)."""
    service = _service_over(tmp_path, embedder, token_counter, "drought.md", PUMP)
    first = ask(service, "Who drove overnight to fetch the pump part?", 2).passages[0]
    assert "Aroha Tane" in first.text[first.highlight.start:first.highlight.end], first.highlight
