
import pytest

from qa.corpus import load_corpus
from qa.documents import parse_document, slugify, split_front_matter
from qa.errors import CorpusError

from conftest import CORPUS, ROOT, SHARED


def test_seed_article_body_is_the_source_byte_for_byte():
    corpus = load_corpus(CORPUS)
    [document] = corpus.documents
    assert document.text == (SHARED / "seed" / "article.txt").read_text(encoding="utf-8")
    assert document.title == "Why North Korea and South Korea Are Technically Still at War"
    assert document.author == "Olivia B. Waxman"
    assert document.publisher == "TIME"
    assert document.published == "2018-04-26"
    assert document.source == "https://time.com/5253054/north-korea-south-korea-war-history/"
    assert document.doc_id == "korea-armistice-time-2018"


def test_front_matter_is_optional_and_title_defaults_to_file_name():
    document = parse_document(b"Plain text.\n", "notes/plain file.txt")
    assert document.title == "plain file"
    assert document.text == "Plain text.\n"
    assert document.doc_id == "notes-plain-file"


@pytest.mark.parametrize("raw, title", [
    (b"# Kestrel Hub: Frequently Asked Questions\n\n## How do I reset it?\n", "Kestrel Hub: Frequently Asked Questions"),
    (b"\n# Closed Title ##\nText.\n", "Closed Title"),
    (b"Setext Title\n============\n\nText.\n", "Setext Title"),
    (b"---\ntitle: From Front Matter\n---\n# Heading\n", "From Front Matter"),
    (b"## A section first\n\n# Later heading\n", "faq"),  # only a heading that opens the file
    (b"#hashtag is not a heading\n", "faq"),
    (b"#   \nSome text here.\n", "faq"),  # an empty heading
    (b"# #\n\nText.\n", "faq"),
    (b"Intro line.\n\n# Heading below\n", "faq"),
])
def test_a_markdown_file_without_a_title_is_titled_by_its_opening_heading(raw, title):
    document = parse_document(raw, "docs/faq.md")
    assert document.title == title
    assert document.text == raw.decode().split("---\n")[-1]  # the heading stays in the text


@pytest.mark.parametrize("raw, title", [
    (b"Trams return to Lindenport\n\nThe line opened.\n", "Trams return to Lindenport"),
    # a headline over a standfirst or a field; a thread's "Thread:" label is no part of its title
    (b"Oral History Project: The Brennmoor Plant\nInterview with Dr. Chidinma Okafor\n\nRecorded in 2023.\n",
     "Oral History Project: The Brennmoor Plant"),
    (b"Thread: Kombucha SCOBY sinking - help?\nBoard: Fermentation Corner\n\nPosted by tom_1\n",
     "Kombucha SCOBY sinking - help?"),
    (b"It was cold.\nThe trams stopped.\n\nMore.\n", "notes"),  # two sentences are no headline
    ("\u2022 History\n  \u2022 conflict\n\nWhy the Koreas are at war\n".encode(), "notes"),  # page labels
])
def test_a_text_file_is_titled_by_its_headline(raw, title):
    document = parse_document(raw, "a/notes.txt")
    assert document.title == title
    assert document.text == raw.decode()


@pytest.mark.parametrize("raw, expected", [
    (b"Council approves tram\n\nBy Tomas Vennegaard, Lindenport Herald, 3 March 2024\n\nThe council voted.\n",
     {"author": "Tomas Vennegaard", "publisher": "Lindenport Herald", "published": "2024-03-03"}),
    (b"Headline\n\nBy Ann Lee and Bo Kim | Reuters | Sept. 3, 2024\n\nText.\n",
     {"author": "Ann Lee and Bo Kim", "publisher": "Reuters", "published": "2024-09-03"}),
    (b"Headline\n\nBy Jane Roe\n\nText.\n", {"author": "Jane Roe"}),
    # a notice's issuer: its line is its byline, not a heading over the text
    (b"RECALL: Kettles\n\nIssued by Kestrel Home Appliances Ltd, 4 March 2025\n\nKestrel is recalling kettles.\n",
     {"author": "Kestrel Home Appliances Ltd", "published": "2025-03-04"}),
    (b"Headline\n\nIssued by the council in 1990, the permit lapsed.\n\nText.\n", {}),
    (b"By 1858 the river stank, and by June Parliament had had enough.\n\nText.\n", {}),  # no byline
    (b"Headline\n\nBy Christmas Eve the trams had stopped.\n\nText.\n", {}),  # a sentence, not a byline
    (b"Headline\n\nBy Late Summer, the Tram Company had laid 3 March 2024 tracks.\n\nText.\n", {}),
    (b"Headline\n\nBy Jane Doe, Staff Writer\n\nText.\n", {"author": "Jane Doe"}),  # a role, no publisher
    (b"Headline\n\nBy Ann Lee, Ph.D., Science Weekly\n\nText.\n", {"author": "Ann Lee, Ph.D.",
                                                                    "publisher": "Science Weekly"}),
    (b"Headline\n\nBy April Ross, Coast Weekly\n\nText.\n", {"author": "April Ross", "publisher": "Coast Weekly"}),
    (b"Headline\n\nBy the Associated Press\n\nText.\n", {"author": "Associated Press"}),
    # what it cannot read (a time, "Updated", a weekday, "5 min read", a bad date) is skipped, not the byline
    (b"Headline\n\nBy Ann Lee, The Herald, Monday, Mar. 3, 2024, 10:42 GMT\n\nText.\n",
     {"author": "Ann Lee", "publisher": "The Herald", "published": "2024-03-03"}),
    (b"Headline\n\nBy Ann Lee \xc2\xb7 The Herald \xc2\xb7 Updated 3 March 2024 \xc2\xb7 5 min read\n\nText.\n",
     {"author": "Ann Lee", "publisher": "The Herald", "published": "2024-03-03"}),
    (b"Headline\n\nBy Ann Lee, Bo Kim and Cy Tan, The Herald, 31 February 2024\n\nText.\n",
     {"author": "Ann Lee, Bo Kim and Cy Tan", "publisher": "The Herald"}),
    (b"One.\n\nTwo.\n\nThree.\n\nFour.\n\nBy Jane Roe\n", {}),  # not where a byline opens an article
    # Markdown's emphasis around it; a forum's user name, "on" before the date
    (b"# Headline\n\n*By Helena Duarte \xc2\xb7 Atlantic Wire Agency \xc2\xb7 4 May 2025*\n\nText.\n",
     {"author": "Helena Duarte", "publisher": "Atlantic Wire Agency", "published": "2025-05-04"}),
    (b"Thread: Kombucha help\n\nPosted by tealeaf_tomas on 12 March 2024, 21:14\n\nHi all.\n",
     {"author": "tealeaf_tomas", "published": "2024-03-12"}),
    # a podcast's line: its credit after its date and length
    (b"Deep Roots, Episode 47\n\nReleased 3 April 2024 \xc2\xb7 52 min \xc2\xb7 Hosted by Tamsin Okafor-Reid\n\nText.\n",
     {"author": "Tamsin Okafor-Reid", "published": "2024-04-03"}),
    (b"Headline\n\nReleased 3 April 2024 \xc2\xb7 Great show \xc2\xb7 Hosted by Tam Reid\n\nText.\n", {}),
    # a dated field among the first blocks: a judgment's, minutes'
    (b"IN THE HIGH COURT\nCase No: HT-2022-000184\n\nRolls Building, London\nDate: 17 November 2023\n\nText.\n",
     {"published": "2023-11-17"}),
    (b"Minutes\n\n**Date:** Tuesday 29 April 2025\n**Apologies:** Sandra Mbeki\n\nText.\n", {"published": "2025-04-29"}),
    (b"Headline\n\nText.\n\nMore.\n\nMore.\n\nMore.\n\nMore.\n\nMore.\n\nDate: 1 May 2020\n", {}),  # too far in
    # a magazine issue's month; a newsletter's dateline
    (b"# Wood remembers\n\n*By Callum Fairweather \xc2\xb7 Coast & Craft Magazine \xc2\xb7 Issue 88, July 2024*\n\nText.\n",
     {"author": "Callum Fairweather", "publisher": "Coast & Craft Magazine", "published": "2024-07"}),
    (b"# Newsletter\n\n**Issue 14 \xc2\xb7 Friday 21 March 2025**\n\nDear Parents,\n", {"published": "2025-03-21"}),
    (b"Headline\n\nBy Ann Lee, Mayor 2024\n\nText.\n", {"author": "Ann Lee"}),  # no month: no date
    # the front matter wins, key by key
    (b"---\nauthor: Front Matter\n---\nHeadline\n\nBy Jane Roe, Daily Bugle, 12 May 2025\n\nText.\n",
     {"author": "Front Matter", "publisher": "Daily Bugle", "published": "2025-05-12"}),
    (b"---\ndate: 2020-01-01\n---\nHeadline\n\nBy Jane Roe, Daily Bugle, 12 May 2025\n\nText.\n",  # date is published
     {"author": "Jane Roe", "publisher": "Daily Bugle"}),
])
def test_a_byline_opening_the_text_gives_author_publisher_and_date(raw, expected):
    document = parse_document(raw, "news/tram.txt")
    assert {k: document.metadata[k] for k in ("author", "publisher", "published") if k in document.metadata} == expected
    if b"date: 2020-01-01" in raw:
        assert document.published == "2020-01-01"
    assert document.text == raw.decode().split("---\n")[-1]  # the byline stays in the text


@pytest.mark.parametrize("raw, expected", [
    (b"From: Harriet Molloy <harriet@example.org>\nTo: Committee <c@example.org>\nDate: Thu, 6 Feb 2025 17:42:09 "
     b"+0000\nSubject: Re: Re: Lantern Festival 2025 - budget\n\nHi all,\n\nWe are moving.\n",
     {"author": "Harriet Molloy", "published": "2025-02-06", "title": "Lantern Festival 2025 - budget"}),
    (b"From: ops@example.org\nSubject: Fwd: Outage report\n\nThe link was down.\n",
     {"author": "ops@example.org", "title": "Outage report"}),
    (b"From: Ann Lee\nDate: someday\nSubject: Notes\n\nText.\n", {"author": "Ann Lee", "title": "Notes"}),
    (b"Note: read this first\nWarning: it is long\n\nText.\n", {}),  # fields, but no mail: no From header
    (b"---\ntitle: Budget thread\n---\nFrom: Ann Lee\nSubject: Notes\n\nText.\n",  # the front matter wins
     {"author": "Ann Lee", "title": "Budget thread"}),
])
def test_a_mails_header_block_gives_its_sender_date_and_subject(raw, expected):
    """A saved mail (a thread's first) opens with its headers: "Who sent the email?" had no
    author to answer from, and its title was the file's name."""
    document = parse_document(raw, "mail/thread.txt")
    assert {k: document.metadata[k] for k in ("author", "published", "title") if k in document.metadata} == expected
    assert document.title == expected.get("title", "thread")
    assert document.text == raw.decode().split("---\n")[-1]  # the headers stay in the text



@pytest.mark.parametrize("byline, author", [
    ("By Hélène Dubois-Ortega · 4 May 2025", "Hélène Dubois-Ortega"),  # trafilatura kept the separator
    ("By Hélène Dubois-Ortega — 4 May 2025", "Hélène Dubois-Ortega"),
    ("Jane Doe", "Jane Doe"),
])
def test_a_pages_author_comes_without_what_its_byline_glued_on(byline, author):
    page = ("<html><head><title>Notes from the allotment | Green Fingers</title></head><body><article>"
            "<h1>Notes from the allotment</h1>"
            f"<p class=\"byline\">{'' if byline.startswith('By ') else 'By '}{byline}</p>"
            "<p>This year I planted eleven varieties of tomato, including Black Krim and Sungold. The Sungold plants "
            "fruited first, on the 2nd of July, almost a fortnight before the others.</p><p>The slugs ate every "
            "lettuce seedling in April. Beer traps caught dozens but made no visible difference.</p>"
            "</article></body></html>")
    document = parse_document(page.encode(), "allotment.html")
    assert document.metadata["author"] == author


def test_a_pages_figure_caption_is_a_paragraph_where_the_figure_was():
    """trafilatura drops a <figure> whole, and a caption may be the only place a fact is written."""
    page = ("<html><head><title>The Corvina</title></head><body><article><h1>The Corvina</h1>"
            "<p>The paddle steamer Corvina sank in the Skarra Sound in 1891 with the loss of 41 lives. Her wreck lies "
            "in 38 metres of water and was found by divers from Eskerby in 1998.</p>"
            "<figure><img src=\"bell.jpg\" alt=\"A bell\"><figcaption>The ship's bell, recovered in 2001 and now in "
            "the <b>Eskerby Museum</b>.</figcaption></figure>"
            "<p>The wreck is a protected site, and diving on it requires a permit from the county council.</p>"
            "</article></body></html>")
    text = parse_document(page.encode(), "corvina.html").text
    caption = "The ship's bell, recovered in 2001 and now in the Eskerby Museum."
    assert caption in text
    assert text.index("41 lives") < text.index(caption) < text.index("protected site")


def test_a_pages_table_rows_end_with_their_last_cell_that_holds_text():
    page = ("<html><head><title>The Corvina</title></head><body><article><h1>The Corvina</h1>"
            "<p>The paddle steamer Corvina sank in the Skarra Sound in 1891 with the loss of 41 lives. Her wreck lies "
            "in 38 metres of water and was found by divers from Eskerby in 1998.</p>"
            "<table><caption>Principal particulars</caption><tr><th>Particular</th><th>Value</th></tr>"
            "<tr><td>Speed</td><td>14.5 knots</td></tr><tr><td>Built</td><td>Tolland &amp; Marsh, Eskerby<br>1874</td></tr>"
            "<tr><td>Note</td><td></td></tr></table>"
            "<p>The wreck is a protected site, and diving on it requires a permit from the county council.</p>"
            "</article></body></html>")
    text = parse_document(page.encode(), "corvina.html").text
    assert "Particular | Value\nSpeed | 14.5 knots\n" in text
    assert "Built | Tolland & Marsh, Eskerby 1874 |" not in text and "Built | Tolland & Marsh, Eskerby 1874" in text
    assert not any(line.endswith("|") or line.endswith("| ") for line in text.splitlines()), text


def test_a_pages_accordion_headings_are_headings_and_its_ordered_lists_keep_their_numbers():
    """A guide's "<h2><button>Fees</button></h2>" sections lost their headings (trafilatura drops
    buttons), and its numbered steps became "- " bullets."""
    page = ("<html><head><title>Street trading licence</title></head><body><article><h1>Street trading licence</h1>"
            "<p>You need a licence to sell goods from a stall, a van or a barrow on a public street in the borough. "
            "The licence is for one named person and one pitch.</p>"
            "<h2><button aria-expanded=\"false\">Fees</button></h2><p>The application fee is £95 for a year.</p>"
            "<h3><a href=\"#refunds\">Refunds</a></h3><p>The fee is not refunded if we refuse you.</p>"
            "<h2>How to apply</h2><ol><li>Check your pitch.</li><li>Fill in the form.</li></ol>"
            "<ul><li>Bring a photo.</li></ul></article></body></html>")
    document = parse_document(page.encode(), "licence.html")
    assert [label for _, _, label in document.metadata["headings"]] == [
        "Street trading licence", "Fees", "Refunds", "How to apply"]
    assert "1. Check your pitch.\n2. Fill in the form.\n\n- Bring a photo." in document.text


def test_crlf_becomes_lf_and_body_after_front_matter_is_exact():
    raw = b"---\r\ntitle: T\r\n---\r\n\r\n  Indented first line.\r\nSecond.\r\n"
    document = parse_document(raw, "a.md")
    assert document.title == "T"
    assert document.text == "\n  Indented first line.\nSecond.\n"


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"---\ntitle: [unclosed\n---\nbody", "malformed YAML"),
        (b"---\ntitle: x\nbody without end", "never closed"),
        (b"---\n- a list\n---\nbody", "mapping"),
        (b"ok \xc3\x28 bad", "not valid UTF-8"),
        (b"abc\x00def", "binary"),
        # Notepad's "Unicode": a byte order mark and a NUL after every ASCII letter; named, not called binary
        ("A note\n\nText.\n".encode("utf-16"), "UTF-16 text"),
        ("A note\n".encode("utf-16-be").join([b"\xfe\xff", b""]), "UTF-16 text"),
        (b"\xff\xfe\x00binary", "binary"),  # those bytes first, but no text after them
    ],
)
def test_bad_files_raise_an_error_naming_the_file(raw, problem):
    with pytest.raises(CorpusError) as error:
        parse_document(raw, "dir/bad.md")
    assert "dir/bad.md" in error.value.message and problem in error.value.message


def test_empty_file_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "a.md").write_text("Some text.")
    (tmp_path / "empty.txt").write_text("")
    corpus = load_corpus(tmp_path)
    assert [d.path for d in corpus.documents] == ["a.md"]
    assert corpus.warnings == ["empty.txt: empty file, skipped"]
    assert set(corpus.files) == {"a.md", "empty.txt"}


def test_duplicate_doc_ids_are_refused(tmp_path):
    (tmp_path / "a b.md").write_text("One.")
    (tmp_path / "a-b.txt").write_text("Two.")
    with pytest.raises(CorpusError, match="already used"):
        load_corpus(tmp_path)


def test_slug_is_stable_and_url_safe():
    assert slugify("News/Korea War (2018).md") == "news-korea-war-2018"
    assert slugify("Éire/café.txt") == "eire-cafe"
    assert slugify("日本.md").startswith("doc-")


def test_split_front_matter_without_front_matter_returns_text_unchanged():
    assert split_front_matter("no --- here\n", "x.md") == ({}, "no --- here\n")


def test_documents_by_type_hidden_files_ignored_and_other_types_warned(tmp_path):
    (tmp_path / "a.md").write_text("A.")
    (tmp_path / "b.odt").write_text("B.")
    (tmp_path / ".hidden.md").write_text("H.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("C.")
    (tmp_path / "sub" / "paper.pdf").write_bytes(b"%PDF-1.4")
    corpus = load_corpus(tmp_path)
    assert [d.path for d in corpus.documents] == ["a.md", "sub/c.txt"]
    assert [w.split(":")[0] for w in corpus.warnings] == ["b.odt", "sub/paper.pdf"]


def test_qa_toml_holds_the_page_settings_and_is_not_a_document(tmp_path):
    (tmp_path / "a.md").write_text("A.")
    (tmp_path / "qa.toml").write_text('title = "Ask the archive"\nexamples = ["Who?", "When?"]\n')
    corpus = load_corpus(tmp_path)
    assert corpus.page == {"title": "Ask the archive", "examples": ["Who?", "When?"]} and not corpus.warnings
    (tmp_path / "qa.toml").write_text('title = 3\n')
    with pytest.raises(CorpusError, match="qa.toml"):
        load_corpus(tmp_path)


def test_the_fixture_copy_of_shared_matches_the_original_when_both_exist():
    original, copy = ROOT.parent / "shared", ROOT / "tests" / "fixtures" / "shared"
    names = ["seed/article.txt", "bench/article_questions.jsonl", "bench/squad2_dev_sample.json"]
    for name in names:
        assert (copy / name).is_file(), name
        if (original / name).is_file():
            assert (copy / name).read_bytes() == (original / name).read_bytes(), name


@pytest.mark.parametrize("front_matter, author, published", [
    ("author: [Alice Smith, Bob Jones]", "Alice Smith, Bob Jones", None),
    ("authors:\n  - Alice Smith\n  - Bob Jones", "Alice Smith, Bob Jones", None),
    ("author: Jane Doe\npublished: 2021-06-14 10:30:00", "Jane Doe", "2021-06-14"),
    ("published: '2021-06-14T10:30:00Z'", None, "2021-06-14"),
    ("date: 2021-06-14", None, "2021-06-14"),
    ("published: 2021", None, "2021"),
    ("published: '2021-06'", None, "2021-06"),
])
def test_front_matter_authors_and_dates_take_one_form(front_matter, author, published):
    document = parse_document(f"---\n{front_matter}\n---\nBody.\n".encode(), "a.md")
    assert (document.author, document.published, document.text) == (author, published, "Body.\n")
    assert document.summary()["author"] == author  # what every citation shows


@pytest.mark.parametrize("front_matter, problem", [
    ("author: {a: 1}", "front matter 'author' must be text or a list of names, not a mapping"),
    ("title: [A, B]", "front matter 'title' must be text, not a list"),
    ("published: not a date", "front matter 'published' is not a date (YYYY-MM-DD): 'not a date'"),
    ("date: '2021-13-45'", "front matter 'date' is not a date (YYYY-MM-DD): '2021-13-45'"),
    ("date: 2021-13-45", "malformed YAML front matter (month must be in 1..12)"),  # YAML's own date
    ("source: true", "front matter 'source' must be text, not a true/false"),
])
def test_front_matter_of_another_shape_is_a_clear_error_naming_the_file(front_matter, problem):
    with pytest.raises(CorpusError) as error:
        parse_document(f"---\n{front_matter}\n---\nBody.\n".encode(), "notes/a.md")
    assert error.value.message == f"notes/a.md: {problem}"
