import pytest

from qa.chunking import ChunkingParams, chunk_corpus, chunk_document, paragraphs, sentence_spans
from qa.corpus import load_corpus
from qa.records import Document

from conftest import CORPUS


def _doc(text: str) -> Document:
    return Document(doc_id="d", path="d.txt", title="d", text=text)


@pytest.mark.parametrize(
    "sentence",
    [
        "The armistice was signed by U.S. Army Lt. Gen. William K. Harrison Jr. of the United Nations Command.",
        "In Dec. 1991, the two sides promised to work towards reconciliation.",
        "The U.S. announced it would suspend joint military exercises.",
    ],
)
def test_abbreviations_do_not_end_a_sentence(sentence):
    text = f"First sentence here. {sentence} Last one."
    spans = sentence_spans(text)
    assert [text[s.start:s.end] for s in spans] == ["First sentence here.", sentence, "Last one."]


@pytest.mark.parametrize("text, expected", [
    ("**Is there a Docker image?** Yes. It is published.", ["**Is there a Docker image?**", "Yes.", "It is published."]),
    ("**Is there a Docker image?**\nYes.", ["**Is there a Docker image?**", "Yes."]),
    ('**"too many open files".** Raise the limit.', ['**"too many open files".**', "Raise the limit."]),
    ("Use *care*. A snake_case_name is fine. Next.", ["Use *care*.", "A snake_case_name is fine.", "Next."]),
])
def test_emphasis_closing_a_sentence_stays_with_it(text, expected):
    """pysbd cut "**Is there a Docker image?** Yes." after the "?": the next passage began "** Yes."."""
    assert [text[s.start:s.end] for s in sentence_spans(text)] == expected


def test_a_list_items_window_opens_with_the_item_not_the_end_of_the_item_before():
    """"What is the default of --workers?" got a passage opening "Default: `1GiB`.", the
    --max-spool item's last sentence, and read that as the answer."""
    text = ("- `--max-spool SIZE` — the largest the spool may grow. Default: `1GiB`.\n"
            "- `--workers N` — the number of sender goroutines. Default: 4.\n"
            "1. Then run it. It starts.\n")
    chunks = chunk_document(_doc(text), ChunkingParams())
    openings = {c.text.split("\n")[0] for c in chunks}
    assert "- `--workers N` — the number of sender goroutines. Default: 4." in openings
    assert not any(c.text.startswith("Default: `1GiB`.\n- `--workers") for c in chunks)
    assert not any(c.text.startswith("Default: 4.\n1.") for c in chunks)
    assert any(c.text.startswith("- `--max-spool SIZE` — the largest the spool may grow. Default: `1GiB`.") for c in chunks)
    # a nested item belongs to the one above: the task comes with its owner
    nested = "- Chase the four unpaid plot fees.\n  - **Owner:** Priya — due 12 May\n- Order three compost bins.\n"
    owner = [c for c in chunk_document(_doc(nested), ChunkingParams()) if "Priya" in c.text]
    assert all(c.text.startswith("- Chase the four unpaid plot fees.") for c in owner), [c.text for c in owner]


def test_sentence_offsets_follow_repeats_in_order():
    text = "Same line.\nSame line.\nOther.\nSame line."
    spans = sentence_spans(text)
    assert [(s.start, s.end) for s in spans] == [(0, 10), (11, 21), (22, 28), (29, 39)]


def test_paragraphs_are_blocks_separated_by_blank_lines():
    text = "One. Two.\n\n\n  Three.\n \nFour."
    assert [(p.number, text[p.start:p.end]) for p in paragraphs(text)] == [(1, "One. Two."), (2, "Three."), (3, "Four.")]


def test_chunks_respect_character_and_token_limits(token_counter):
    corpus = load_corpus(CORPUS)
    params = ChunkingParams(max_chars=300, max_tokens=60)
    for chunk in chunk_corpus(corpus.documents, params, token_counter):
        assert len(chunk.text) <= 300
        assert token_counter(chunk.text) <= 60


def test_overlong_sentence_is_cut_at_word_boundaries_with_exact_offsets():
    text = "word " * 300 + "end."
    chunks = chunk_document(_doc(text), ChunkingParams(max_chars=100))
    assert len(chunks) > 1
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text and len(chunk.text) <= 100


def test_boilerplate_gallery_lines_do_not_become_passages_and_captions_stay():
    [document] = load_corpus(CORPUS).documents
    chunks = chunk_corpus([document], ChunkingParams())
    texts = [c.text for c in chunks]
    assert not any(t.strip() in {"The 1st Cavalry in Korea, July 1950.", "Caption from LIFE."} for t in texts)
    assert not any(t.startswith("The 1st Cavalry in Korea, July 1950.") for t in texts)
    assert len(texts) == len(set(texts)), "identical passages are indexed once"
    assert any("P'ohang-Dong's harbor" in t for t in texts)
    assert any("24th \"Victory\" Division" in t for t in texts)


def test_identical_passages_across_documents_are_indexed_once():
    a, b = _doc("Shared paragraph here.\n\nUnique A."), Document("e", "e.txt", "e", "Shared paragraph here.\n\nUnique B.")
    texts = [c.text for c in chunk_corpus([a, b], ChunkingParams())]
    assert texts.count("Shared paragraph here.") == 1 and "Unique B." in texts
    assert [c.chunk_id for c in chunk_corpus([a, b], ChunkingParams())] == [0, 1, 2]


def test_offset_invariant_on_the_seed_corpus(token_counter):
    corpus = load_corpus(CORPUS)
    by_id = {d.doc_id: d for d in corpus.documents}
    for chunk in chunk_corpus(corpus.documents, ChunkingParams(), token_counter):
        document = by_id[chunk.doc_id]
        assert document.text[chunk.start:chunk.end] == chunk.text
        for a, b in chunk.sentences:
            assert 0 <= a < b <= len(chunk.text)


def test_offset_invariant_on_the_squad_articles(squad, token_counter):
    for article in squad["data"]:
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        chunks = chunk_document(_doc(text), ChunkingParams(), token_counter)
        assert chunks
        covered = [False] * len(text)
        for chunk in chunks:
            assert text[chunk.start:chunk.end] == chunk.text
            covered[chunk.start:chunk.end] = [True] * len(chunk.text)
        visible = [i for i, ch in enumerate(text) if not ch.isspace()]
        missed = [i for i in visible if not covered[i]]
        # windows overlap, so summing their lengths would count text twice: count covered characters
        assert not missed, text[missed[0]:missed[0] + 80]


def test_paragraph_numbers_are_one_based_and_match_blocks():
    text = "Alpha one.\n\nBeta two. Beta three."
    chunks = chunk_document(_doc(text), ChunkingParams())
    assert [(c.paragraph, c.text) for c in chunks] == [(1, "Alpha one."), (2, "Beta two. Beta three.")]


def test_every_sentence_anchors_exactly_one_window_with_one_sentence_before_it(token_counter):
    [document] = load_corpus(CORPUS).documents
    chunks = chunk_corpus([document], ChunkingParams(), token_counter)
    anchored: list[tuple[int, int]] = []
    asked = set()  # the sentences of a short paragraph ending in a question: the next one's antecedent
    for chunk in chunks:
        spans = [(chunk.start + a, chunk.start + b) for a, b in chunk.sentences]
        assert chunk.anchors and all(0 <= a < len(spans) for a in chunk.anchors)
        before = [document.text[a:b] for a, b in spans[:min(chunk.anchors)]]
        if len(before) > 1 or before and "\n\n" in chunk.text[:chunk.sentences[min(chunk.anchors)][0]]:
            assert before[-1].endswith("?"), "a question's paragraph opens its answer's window"
            asked.update(spans[:min(chunk.anchors)])
        else:
            assert min(chunk.anchors) <= 1, "at most context_before=1 sentence before the first anchor"
        for a in chunk.anchors:
            anchored.append(spans[a])
        assert len(chunk.text) <= 800 and token_counter(chunk.text) <= 200
    assert len(anchored) == len(set(anchored)), "a sentence anchors one window only"
    every = {(c.start + a, c.start + b) for c in chunks for a, b in c.sentences}
    assert asked and set(anchored) == every - asked, "and every sentence but the questions' anchors one"
    # windows overlap: a sentence before a window's anchors is also in the window before it
    assert any(a.end > b.start for a, b in zip(chunks, chunks[1:]) if a.doc_id == b.doc_id)


def test_window_keeps_the_antecedent_sentence_before_its_anchor():
    text = "But the armistice was a ceasefire, not a treaty. That means the countries are still at war. More follows."
    chunks = chunk_document(_doc(text), ChunkingParams(max_chars=100))
    by_anchor = {c.text[slice(*c.sentences[a])]: c for c in chunks for a in c.anchors}
    window = by_anchor["That means the countries are still at war."]
    assert window.text.startswith("But the armistice was a ceasefire")
    assert text[window.start:window.end] == window.text


def test_anchors_with_the_same_window_share_one_chunk():
    chunks = chunk_document(_doc("One here. Two here. Three here."), ChunkingParams())
    # "One" and "Two" (one sentence of context before it) both get the whole paragraph;
    # "Three" starts one sentence before itself
    assert [(c.text, c.anchors) for c in chunks] == [
        ("One here. Two here. Three here.", (0, 1)), ("Two here. Three here.", (1,)),
    ]


@pytest.mark.slow  # chunks a megabyte
def test_a_megabyte_paragraph_without_a_full_stop_is_segmented_in_bounded_blocks(monkeypatch, token_counter):
    """pysbd's time grows with the square of its input: a 1 MB run-on paragraph must reach it
    in blocks of at most SEGMENT_BLOCK characters, and the windows still slice the text."""
    import random

    from qa import sentences

    random.seed(7)
    words = "the armistice was signed by both sides after long talks near the border, and delegates".split()
    text = " ".join(random.choice(words) for _ in range(1_000_000 // 5))
    segmenter, longest = sentences._segmenter(), []
    real_segment = segmenter.segment
    monkeypatch.setattr(segmenter, "segment", lambda block: longest.append(len(block)) or real_segment(block))
    chunks = chunk_document(_doc(text), ChunkingParams(), token_counter)
    assert len(text) > 999_000 and max(longest) <= sentences.SEGMENT_BLOCK and len(longest) >= 100
    assert all(text[c.start:c.end] == c.text and len(c.text) <= 800 for c in chunks)
    assert token_counter(max((c.text for c in chunks), key=token_counter)) <= 200
    covered = bytearray(len(text))  # windows overlap: count covered characters, not summed lengths
    for chunk in chunks:
        covered[chunk.start:chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missed = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert not missed, text[missed[0]:missed[0] + 80]


def test_a_fenced_code_block_is_one_sentence_of_the_paragraph_introducing_it():
    """pysbd made every line of a code block a sentence (the fence lines too), blank lines
    inside it cut it in paragraphs, and a command alone was a passage too short to return."""
    text = ("The app backs up every night. You can also make a local backup file:\n\n"
            "```bash\nkestrel-cli backup create --output k2-backup.json\n\nkestrel-cli backup list\n```\n\n"
            "Restoring takes a minute.\n\n~~~\nkestrel-cli restore\n~~~\n\n```\nunclosed\n\nstill code")
    paras = paragraphs(text)
    assert [len(p.sentences) for p in paras] == [3, 1, 1, 1]
    first = paras[0]
    code = text[first.sentences[2].start:first.sentences[2].end]
    assert code == "```bash\nkestrel-cli backup create --output k2-backup.json\n\nkestrel-cli backup list\n```"
    assert text[first.start:first.end].startswith("The app") and text[first.end - 3:first.end] == "```"
    assert text[paras[2].start:paras[2].end] == "~~~\nkestrel-cli restore\n~~~"  # no lead-in: its own paragraph
    assert text[paras[3].start:paras[3].end] == "```\nunclosed\n\nstill code"  # an unclosed fence runs to the end
    document = Document("faq", "faq.md", "FAQ", text)
    for chunk in chunk_document(document, ChunkingParams()):
        assert text[chunk.start:chunk.end] == chunk.text
    windows = [c.text for c in chunk_document(document, ChunkingParams()) if "backup create" in c.text]
    assert windows and all("local backup file:" in w for w in windows)



def test_code_fences_pair_as_commonmark_says():
    """Inline code (```x```) opens no block; a closing fence is the opening's character, at
    least as long, with nothing after it; so a ```` block may hold ``` lines."""
    inline = "Intro.\n\n```inline```\n\nThe ferry leaves.\n\nThe ferry was launched in 1999."
    assert len(paragraphs(inline)) == 4  # the prose after it is not swallowed into one block
    nested = "Lead:\n\n````\n```\nnested\n```\n````\n\nAfter."
    first, after = paragraphs(nested)
    assert [nested[a:b] for a, b in first.sentences] == ["Lead:", "````\n```\nnested\n```\n````"]
    not_closing = "```\ncode\n```not a closing fence\n\nstill code\n```\n\nout"  # a closing fence has nothing after it
    assert [len(p.sentences) for p in paragraphs(not_closing)] == [1, 1]
    mixed = "~~~\ncode\n```\nstill code\n~~~\n\nout"
    assert [mixed[a:b] for p in paragraphs(mixed) for a, b in p.sentences] == ["~~~\ncode\n```\nstill code\n~~~", "out"]


def test_a_markdown_tables_rule_line_is_no_sentence_and_opens_no_window():
    text = ("| Period | Light source |\n|---|:---:|\n| 1847–1872 | Colza oil lamp |\n| 1872–1925 | Paraffin burner |\n\n"
            "A --- dash is kept.")
    [table, prose] = paragraphs(text)
    assert [text[a:b] for a, b in table.sentences] == [
        "| Period | Light source |", "| 1847–1872 | Colza oil lamp |", "| 1872–1925 | Paraffin burner |"]
    assert [text[a:b] for a, b in prose.sentences] == ["A --- dash is kept."]
    for chunk in chunk_document(Document("t", "t.md", "T", text), ChunkingParams()):
        assert text[chunk.start:chunk.end] == chunk.text and not chunk.text.startswith("|---")


def test_a_table_rows_window_opens_with_its_header_when_they_fit():
    """A window opening at "| Adults over 65 years | 25 mg once a day | 50 mg |" did not say
    which 50 mg was the most a day: each row's window opens with the header row."""
    text = ("| Patient group | Starting dose | Maximum daily dose |\n|---|---|---|\n| Adults | 25 mg | 100 mg |\n"
            "| Adults over 65 years | 25 mg | 50 mg |\n\nModel | BA3\nWeight | 6.8 kg\nNoise | 22 dB\n")
    chunks = chunk_document(Document("t", "t.md", "T", text), ChunkingParams())
    assert [(c.text.split("\n")[0], len(c.anchors)) for c in chunks] == [
        ("| Patient group | Starting dose | Maximum daily dose |", 3), ("Model | BA3", 3)]
    # a table too long for one window: a row far from the header opens its own, as before
    rows = "".join(f"| Row {n} | {'x' * 60} |\n" for n in range(20))
    long = chunk_document(Document("t", "t.md", "T", "| Name | Value |\n|---|---|\n" + rows), ChunkingParams())
    assert long[0].text.startswith("| Name |") and any(c.text.startswith("| Row 1") for c in long)


QUOTED_MAIL = """On Thu, 6 Feb 2025 at 11:15, Devon Achterberg <d.a@example.org> wrote:
> The one line I'm unsure about is power. The depot has no three-phase supply, so
> we'd need to hire a generator for the lighting rig. I've pencilled in £780 for a
> 60 kVA unit from Harlow Plant Hire, but I haven't had a written quote.
>
> Devon
>
> --
> Devon Achterberg | Treasurer
> Quillbridge Arts Collective"""


def test_a_hard_wrapped_paragraph_and_quoted_mail_are_split_into_whole_sentences():
    """pysbd ended a sentence at every newline: "I've pencilled in £780 for a" was one."""
    sentences = [QUOTED_MAIL[s.start:s.end] for s in sentence_spans(QUOTED_MAIL)]
    assert sentences[:4] == [
        "On Thu, 6 Feb 2025 at 11:15, Devon Achterberg <d.a@example.org> wrote:",  # it introduces: not joined
        "The one line I'm unsure about is power.",  # the quote marker is no part of it
        "The depot has no three-phase supply, so\n> we'd need to hire a generator for the lighting rig.",
        "I've pencilled in £780 for a\n> 60 kVA unit from Harlow Plant Hire, but I haven't had a written quote."]
    # a signature's short lines, after a quoted blank line, stay lines
    assert sentences[-3:] == ["--", "Devon Achterberg | Treasurer", "Quillbridge Arts Collective"]


def test_only_a_wrapped_lines_newline_is_a_space_to_the_splitter():
    from qa.wrapping import for_sentence_splitting

    wrapped = ("The committee met on Tuesday and agreed that the depot would host the stage for\n"
               "all three days of the festival, subject to the insurer's written approval.\n"
               "- a list item stays a line of its own, however long the line before it was\n"
               "Date: 7 February 2025\n| a | table row |\n")
    masked = for_sentence_splitting(wrapped)
    assert len(masked) == len(wrapped)
    assert masked.count("\n") == wrapped.count("\n") - 1 and "stage for all three" in masked
    year = ("The Trust employed 14 staff (11.2 full-time equivalent) at 31 December\n2024. The Chief Executive, "
            "Tamsin Lowry-Okafor, is the highest-paid\nemployee.")
    assert "\n" not in for_sentence_splitting(year)  # a year ending a sentence opens no list item
    short = "Harriet Molloy\nFestival Director, Quillbridge Arts Collective\n07700 900418 | quillbridge.example"
    assert for_sentence_splitting(short) == short  # a signature: its longest line is no wrapped width
    assert for_sentence_splitting("```\n" + wrapped + "```") == "```\n" + wrapped + "```"  # code keeps its lines


def test_a_spec_sheets_dot_leaders_end_no_sentence():
    """ "Weight (empty) ........ 6.2 kg" was three sentences, and "Heat-up time ......" with no
    value was the highlight for how long the machine takes to warm up."""
    from qa.sentences import sentence_spans

    text = ("Technical data\n\n  Voltage ........................ 230 V ~ 50 Hz\n"
            "  Weight (empty) ................. 6.2 kg\n  Heat-up time ......... approx. 45 seconds\n"
            "  Contents . . . . . . 7\n\nI waited... Then it came. Take max. 100 mg a day. The max. Is it?")
    assert [text[s.start:s.end] for s in sentence_spans(text)] == [
        "Technical data", "Voltage ........................ 230 V ~ 50 Hz", "Weight (empty) ................. 6.2 kg",
        "Heat-up time ......... approx. 45 seconds", "Contents . . . . . . 7", "I waited...", "Then it came.",
        "Take max. 100 mg a day.", "The max.", "Is it?"]


def test_a_short_paragraph_ending_in_a_question_opens_its_answers_window():
    """An interview: the interviewer's turn alone ranked first for questions about the
    answer ("the drought of 2012") and hid the answer's window, which overlapped it."""
    text = ("[00:08:30]\nINTERVIEWER: Let's talk about the drought of 2012. What happened at the plant?\n\n"
            "DR. OKAFOR: The reservoirs were at 31 percent by the end of July. We ran at full capacity.\n\n"
            "## Why did it fail?\n\nThe pump was old.\n\n"
            + "A long paragraph that goes on and on about the weather and the plant. " * 8 + "Why?\n\nBecause.")
    chunks = chunk_document(Document(doc_id="d", path="d.md", title="d", text=text), ChunkingParams())
    first = chunks[0]
    assert first.text.startswith("[00:08:30]\nINTERVIEWER:") and first.text.endswith("We ran at full capacity.")
    assert first.paragraph == 2 and first.anchors == (3,)  # the answer's first sentence anchors it
    assert not any(c.paragraph == 1 for c in chunks)  # the question has no window of its own
    # a heading is its section's name, not an antecedent; a long paragraph is no question turn
    assert any(c.text == "## Why did it fail?" for c in chunks)
    assert any(c.text == "The pump was old." for c in chunks)
    assert any(c.text == "Because." for c in chunks)
    assert all(text[c.start:c.end] == c.text for c in chunks)


def test_an_interviews_prompt_in_bold_opens_its_answers_window_with_or_without_a_question_mark():
    """ "**Tell me about the *Morwenna*.**" ends in no "?": alone it was a passage of its own, and
    "She was built in 1908 at Porthleven" ranked fourth for where the Morwenna was built."""
    text = ("**Tell me about the *Morwenna*.**\n\nShe was built in 1908 at Porthleven as a pilot cutter.\n\n"
            "**Why wood? Fibreglass is cheaper.**\n\nBecause wood remembers everything.\n\n"
            "**Key points**\n\nThe bridge is closed.")
    chunks = chunk_document(Document(doc_id="d", path="d.md", title="d", text=text), ChunkingParams())
    assert [c.text.split("\n\n")[0] for c in chunks if "\n\n" in c.text] == [
        "**Tell me about the *Morwenna*.**", "**Why wood? Fibreglass is cheaper.**"]
    assert not any(c.text.startswith("**Tell") and "She was" not in c.text for c in chunks)
    assert any(c.text == "The bridge is closed." for c in chunks)  # a bold heading names its section instead


def test_a_lead_in_ending_in_a_colon_joins_the_list_after_it():
    """ "The principal tributaries of the Osmera, from source to mouth, are:" was a passage of
    its own, first for "Which is the largest tributary?", and no item said what it lists."""
    text = ("The principal tributaries of the Osmera, from source to mouth, are:\n\n- Velka, 88 km long\n"
            "- Dorava, 204 km long, the largest tributary\n\nHydrology\n\nThe Osmera floods in May.")
    paras = paragraphs(text)
    assert [text[p.start:p.end] for p in paras][0].endswith("the largest tributary")
    first = chunk_document(_doc(text), ChunkingParams())[0]
    assert first.text.startswith("The principal tributaries") and "Dorava" in first.text
    assert len(paras) == 3  # "Hydrology" (no colon) stays apart
