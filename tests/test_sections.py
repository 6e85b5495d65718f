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


def test_markdown_headings_as_commonmark_reads_them():
    text = ("## Setup ##\n\nA.\n\n## C# tips\n\nB.\n\nintro line one\nline two\n---\n\nC.\n\nPara.\n\n---\n\n"
            "#NoSpace\n\n## Known issues, read before upgrading:\n\nD.\n")
    assert outline(text, True)[1] == ("Setup", "C# tips", "intro line one line two",  # setext "---": level 2
                                      "Known issues, read before upgrading:")
    # a heading's own passage is in its section, not the one before it
    heading = text.index("## Known")
    assert section_at(text, True, heading) == "Known issues, read before upgrading:"
    assert section_at(text, True, text.index("Para.")) == "intro line one line two"  # "---" after a blank: a rule
