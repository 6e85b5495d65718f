"""The section a passage is in (sections.py): pure, over small texts."""

from qa.sections import outline, section_at

CHANGELOG = """# Tessera release notes

Dates are release dates in UTC.

## 2.4.0 — 2025-05-20

### Added

- Encrypted vaults.

```sh
# not a heading: a comment in a code block
tessera vault create
```

### Fixed

- Sync no longer stalls.

Older releases
--------------

- 1.0 was the first.
"""


def test_a_passage_is_in_the_headings_above_it_nested_by_level():
    at = CHANGELOG.index
    assert section_at(CHANGELOG, True, at("- Encrypted")) == "Tessera release notes › 2.4.0 — 2025-05-20 › Added"
    assert section_at(CHANGELOG, True, at("tessera vault")) == "Tessera release notes › 2.4.0 — 2025-05-20 › Added"
    assert section_at(CHANGELOG, True, at("- Sync")) == "Tessera release notes › 2.4.0 — 2025-05-20 › Fixed"
    assert section_at(CHANGELOG, True, at("- 1.0")) == "Tessera release notes › Older releases"  # setext, level 2
    # the heading that repeats the title is left out; before any heading there is none
    assert section_at(CHANGELOG, True, at("- Sync"), "Tessera release notes") == "2.4.0 — 2025-05-20 › Fixed"
    assert section_at(CHANGELOG, True, at("Dates are"), "Tessera release notes") is None
    # a title that adds a subtitle to the heading, or a heading that adds one to the title, repeats it
    assert section_at(CHANGELOG, True, at("- Sync"), "Tessera release notes — every version") == "2.4.0 — 2025-05-20 › Fixed"
    assert section_at("# Storm Orla live: updates\n\n## Monday\n\nText.\n", True, 30, "Storm Orla live") == "Monday"
    assert section_at(CHANGELOG, True, at("- Sync"), "Tessera release notesbook").startswith("Tessera release notes ›")
    assert section_at(CHANGELOG, True, at("- Sync"), "Tessera").startswith("Tessera release notes ›")  # one word
    assert section_at("Just text.\n", True, 0) is None
    assert len(outline(CHANGELOG, True)[0]) == 5  # the comment in the code block is no heading


def test_a_plain_texts_heading_is_a_short_line_over_a_sentence():
    text = ("Trams return\n\nBy Jane Roe, Herald\n\nThe line opened on Monday.\n\nBusinesses hope for a revival\n\n"
            "Shops on the route expect more trade.\n\n- a list item\n\nNot a heading either.\n\nPhoto: Jane Doe/Reuters\n\n"
            "The end.\n")
    assert outline(text, False)[1] == ("Businesses hope for a revival",)  # not the byline (no sentence under the title)
    assert section_at(text, False, text.index("Shops")) == "Businesses hope for a revival"
    assert section_at(text, False, text.index("The line")) is None
    assert outline("# Not markdown here\n\nA sentence.\n", False)[1] == ()  # starts with "#": not upper-case


def test_a_letters_or_a_transcripts_short_lines_are_no_headings():
    """A transcript's "DR. OKAFOR: A slimy one. [laughs]" was taken for a heading, the section of
    most of the interview (its similarity lent to every passage under it), and never returned;
    so were an email's "Hi all," and its sign-off over the signature."""
    text = ("DR. OKAFOR: A slimy one. [laughs]\n\nDR. OKAFOR: It was the intake.\n\nHi all,\n\n"
            "We are moving the stage.\n\nOkonkwo\n\n--\nOkonkwo Baptiste\n\"Light travels. So do we.\"\n\n"
            "Thomas Galbraith (engineer)\n\nHe built the light.\n")
    assert outline(text, False)[1] == ("Thomas Galbraith (engineer)",)  # an aside alone still names a section
    # a turn broken off, or any speaker's turn, is none either ("TAMSIN: So if nobody grafts it—" was the
    # section of the rest of the podcast's transcript)
    turns = ("TAMSIN: So if nobody grafts it—\n\nEDWIN: If nobody takes a cutting, it's gone.\n\n"
             "And then the results came back…\n\nThey proved it.\n\nQ: Where were you then\n\nAt home.\n")
    assert outline(turns, False)[1] == ()


def test_a_contracts_numbered_clause_heading_in_capitals_is_a_heading():
    """ "11. TERMINATION" read as a list item: every clause was cited under "BACKGROUND", and the
    heading alone was returned for "termination"."""
    text = ("BACKGROUND\n\n(A) The Customer runs warehouses.\n\n1. DEFINITIONS AND INTERPRETATION\n\n"
            "1.1 In this Agreement the words have these meanings:\n\n11. TERMINATION\n\n"
            "11.1 Either party may end it on notice.\n\n2. The fee is due monthly.\n\n3. Rates\n\nThey vary.\n")
    assert outline(text, False)[1] == ("BACKGROUND", "1. DEFINITIONS AND INTERPRETATION", "11. TERMINATION")
    assert section_at(text, False, text.index("11.1")) == "11. TERMINATION"

    # a report's numbered subsection, nested under its section, whatever follows it
    report = ("2 OUR PEOPLE\n\n2.1 Our volunteers\n\nAt the end of the year the Trust had 187 volunteers, up from\n"
              "146 in 2023, and our\n\n2.2 Our staff\n\nThe Trust employed 14 staff.\n")
    assert outline(report, False)[1] == ("2 OUR PEOPLE", "2 OUR PEOPLE › 2.1 Our volunteers",
                                         "2 OUR PEOPLE › 2.2 Our staff")
    assert section_at(report, False, report.index("At the end")) == "2 OUR PEOPLE › 2.1 Our volunteers"


def test_markdown_headings_as_commonmark_reads_them():
    text = ("## Setup ##\n\nA.\n\n## C# tips\n\nB.\n\nintro line one\nline two\n---\n\nC.\n\nPara.\n\n---\n\n"
            "#NoSpace\n\n## Known issues, read before upgrading:\n\nD.\n")
    assert outline(text, True)[1] == ("Setup", "C# tips", "intro line one line two",  # setext "---": level 2
                                      "Known issues, read before upgrading:")
    # a heading's own passage is in its section, not the one before it
    heading = text.index("## Known")
    assert section_at(text, True, heading) == "Known issues, read before upgrading:"
    assert section_at(text, True, text.index("Para.")) == "intro line one line two"  # "---" after a blank: a rule


def test_a_bold_line_standing_alone_is_a_heading_under_the_one_above():
    """A live blog's "**17:48**" entries had no section: a passage could not say when it was posted."""
    text = ("# Storm live\n\n**Key points**\n\n- Bridge closed\n\n**17:48**\n\nWe leave it there.\n\n"
            "**16:50** — *Correction*\n\nHe is in his 70s.\n\n## Background\n\nThe river rose.\n\n"
            "**Is there a Docker image?**\n\nYes.\n\n**Lines appear twice.** Restart it.\n\n"
            "**Manufacturer**\nKestrel Ltd\n\n**Very common** (more than 1 in 10):\n- dry mouth\n\n"
            "**Read all of this leaflet carefully.**\n\n```\n**not in code**\n```\n")
    assert outline(text, True)[1] == ("Storm live", "Storm live › Key points", "Storm live › 17:48",
                                      "Storm live › 16:50 — Correction", "Storm live › Background")
    assert section_at(text, True, text.index("He is")) == "Storm live › 16:50 — Correction"
    assert section_at(text, True, text.index("The river")) == "Storm live › Background"  # "##" closes it


def test_a_list_naming_the_documents_own_headings_is_its_contents():
    from qa.documents import Document
    from qa.sections import is_contents_list

    text = ("# Leaflet\n\n**What is in this leaflet**\n\n1. What Veltrazin is and what it is used for\n"
            "2. How to take Veltrazin\n3. Possible side effects\n\n## 1. What Veltrazin is and what it is used for\n\n"
            "It prevents migraine.\n\n## 2. How to take Veltrazin\n\nWith water.\n\n## 3. Possible side effects\n\n"
            "- dry mouth\n- drowsiness\n")
    leaflet = Document("leaflet", "leaflet.md", "Leaflet", text)
    contents = text[text.index("1. What"):text.index("\n\n## 1.")]
    assert is_contents_list(leaflet, contents)
    assert is_contents_list(leaflet, "On this page\n- [How to take Veltrazin](#take)\n- Possible side effects ..... 7")
    assert not is_contents_list(leaflet, "- dry mouth\n- drowsiness")  # a list of the text's own
    assert not is_contents_list(leaflet, "2. How to take Veltrazin")  # one line: a heading's echo, not a list
    assert not is_contents_list(leaflet, "2. How to take Veltrazin\n- dry mouth")


FAQ_PAGE = """<html><head><title>Help centre | Tessera</title></head><body><nav><a href="/">Home</a></nav>
<article><h1>Tessera help centre</h1>
<p>Answers to the questions our support team hears most often, updated every month.</p>
<h2>Accounts</h2>
<h3>How do I reset my password?</h3>
<p>Open the sign-in page and choose the reset link. A code arrives by email within a minute.</p>
<h3>Can two people share one vault?</h3>
<ul><li>Yes, on the Family plan, with up to six members.</li><li>Each member keeps a private vault as well.</li></ul>
<h2>Billing</h2>
<p>Invoices are sent on the first day of each month and can be downloaded from the billing page.</p>
</article></body></html>"""


def test_a_saved_pages_sections_are_its_own_headings():
    """A page marks its headings (<h2>, <h3>): a question as a heading, or a heading over a
    list, is one, which no rule over the bare text could tell (the plain rule misses these)."""
    from qa.documents import parse_document
    from qa.sections import document_section, recorded_headings

    page = parse_document(FAQ_PAGE.encode(), "help.html")
    text = page.text
    assert [label for _, _, label, _ in recorded_headings(page)] == [
        "Tessera help centre", "Accounts", "How do I reset my password?", "Can two people share one vault?", "Billing"]
    assert document_section(page, text.index("Open the sign-in")) == "Accounts › How do I reset my password?"
    assert document_section(page, text.index("- Yes, on the Family")) == "Accounts › Can two people share one vault?"
    assert document_section(page, text.index("Invoices")) == "Billing"
    assert document_section(page, text.index("Answers to")) is None  # under the heading that repeats the title
    plain = outline(text, False)[1]  # what the plain rule makes of the same text
    assert "Billing" in plain and not {"How do I reset my password?", "Can two people share one vault?"} & set(plain)
    # a text file's front matter may hold its own "headings"; only a page's recorded ones are read
    assert recorded_headings(parse_document(b"---\nheadings: [[0, 1, 'x']]\n---\nx\n", "notes.md")) is None


def test_recorded_headings_that_are_not_where_they_say_are_ignored():
    from qa.records import Document
    from qa.sections import recorded_headings

    text = "Intro\n\nBody text here."
    page = Document("p", "p.html", "P", text, {"headings": [[0, 2, "Intro"], [7, 2, "Elsewhere"], ["x", 2, "y"], 3]})
    assert recorded_headings(page) == [(0, 2, "Intro", 5)]
    assert recorded_headings(Document("q", "q.html", "Q", text, {})) is None  # indexed before headings were recorded


def test_a_passage_is_embedded_after_its_section_path_and_its_text_is_untouched():
    from qa.records import Chunk, Document
    from qa.sections import embedding_text

    changelog = Document("notes", "notes.md", "Tessera release notes", CHANGELOG)
    start = CHANGELOG.index("- Sync")
    bullet = Chunk(0, "notes", 9, start, start + 10, CHANGELOG[start:start + 10])
    assert embedding_text(changelog, bullet) == "2.4.0 — 2025-05-20 › Fixed\n" + CHANGELOG[start:start + 10]
    first = CHANGELOG.index("Dates are")
    before = Chunk(1, "notes", 2, first, first + 9, CHANGELOG[first:first + 9])
    assert embedding_text(changelog, before) == "Dates are"  # no section: the text alone


def test_a_passage_within_a_heading_is_one_whatever_its_shape():
    """A setext heading's passage holds its underline too, and an indented "   ## …" heading's
    passage starts at its "#": both were returned as answers."""
    from qa.records import Document
    from qa.sections import is_heading_passage

    text = ("   ## Where is the toaster made?\n\nIn Brno.\n\nThe app says an update failed. What now?\n"
            "----------------------------------------\n\nUnplug the base.\n")
    page = Document("t", "t.md", "Toaster", text)
    indented = text.index("##")
    assert is_heading_passage(page, indented, text.index("?") + 1)
    setext = text.index("The app")
    assert is_heading_passage(page, setext, text.index("\n\nUnplug"))  # lines and underline
    assert is_heading_passage(page, text.index("What now?"), text.index("What now?") + 9)  # its second sentence
    assert not is_heading_passage(page, text.index("In Brno"), text.index("In Brno") + 8)
    assert not is_heading_passage(page, text.index("Unplug"), len(text) - 1)


def test_a_long_heading_leaves_the_passage_room_in_its_vector():
    from qa.records import Chunk, Document
    from qa.sections import MAX_PATH_WORDS, embedding_text

    heading = "## " + " ".join(f"word{n}" for n in range(280)) + "\n\n"
    text = heading + "The passage itself.\n"
    page = Document("l", "l.md", "Long", text)
    passage = Chunk(0, "l", 2, len(heading), len(text) - 1, "The passage itself.")
    embedded = embedding_text(page, passage)
    assert embedded.endswith("\nThe passage itself.") and len(embedded.split()) == MAX_PATH_WORDS + 3
    assert embedded.startswith(f"word{280 - MAX_PATH_WORDS} ")  # the innermost words are kept


def test_a_pages_references_and_links_are_its_apparatus_not_its_content():
    """"- Brandqvist, A. (1937). …" under "References" answered "When did Brandqvist retire?"."""
    from qa.records import Document
    from qa.sections import in_apparatus

    text = ("# Aurelia Brandqvist\n\nShe retired in 1969.\n\n## Later life\n\nShe sailed.\n\n## 7. References\n\n"
            "- Brandqvist, A. (1937). Ice at low temperatures.\n\n### Further reading\n\n- Lidholm, G. (1950).\n\n"
            "## Notes on the camera\n\nIt was cooled with liquid air.\n")
    page = Document("b", "b.md", "Aurelia Brandqvist", text)
    assert [in_apparatus(page, text.index(s)) for s in ("She retired", "She sailed", "- Brandqvist", "- Lidholm",
                                                        "It was cooled")] == [False, False, True, True, False]
