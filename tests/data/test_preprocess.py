"""Tests for xlt.data.preprocess on small hand-built records (no data/ is read)."""
from collections import Counter
from dataclasses import replace

import pytest

from xlt.data.preprocess import CleanConfig, clean_ner, clean_sentiment, clean_text

# Everything off except what a test switches on, so each test sees one step only.
NOTHING = CleanConfig(remove_urls=False, remove_emails=False, remove_handles=False,
                      remove_html=False, lowercase=False, min_tokens=1)
ALL = CleanConfig(lowercase=False, min_tokens=1)


def clean(text, cfg=ALL):
    counts = Counter()
    return clean_text(text, cfg, counts), counts


# --------------------------------------------------------------------------- URLs

@pytest.mark.parametrize("url", ["https://example.com/a?b=1&c=2", "http://t.co/xYz", "www.shop.in/p/123",
                                 "HTTPS://EXAMPLE.ORG", "ftp://files.example.net/x.zip"])
def test_url_removed(url):
    text, counts = clean(f"see {url} now")
    assert text == "see now"
    assert counts["urls_removed"] == 1


def test_url_counts_every_occurrence():
    text, counts = clean("a http://x.io b www.y.com c")
    assert text == "a b c"
    assert counts["urls_removed"] == 2


def test_url_kept_when_switched_off():
    cfg = replace(ALL, remove_urls=False)
    text, counts = clean("see http://example.com now", cfg)
    assert text == "see http://example.com now"
    assert counts["urls_removed"] == 0


def test_plain_dotted_words_are_not_urls():
    text, counts = clean("good.value for money, e.g. this")
    assert text == "good.value for money, e.g. this"
    assert not counts


# --------------------------------------------------------------------------- e-mail

def test_email_removed_whole():
    text, counts = clean("write to john.doe+spam@mail.example.co.in today")
    assert text == "write to today"
    assert counts["emails_removed"] == 1
    # An e-mail is not a handle: nothing of it is left over for the handle step.
    assert counts["handles_removed"] == 0


def test_email_kept_when_switched_off_and_not_mangled_by_handle_step():
    cfg = replace(ALL, remove_emails=False)
    text, counts = clean("write to john@mail.com today", cfg)
    assert text == "write to john@mail.com today"
    assert counts["emails_removed"] == 0 and counts["handles_removed"] == 0


# --------------------------------------------------------------------------- @handles

def test_handles_removed():
    text, counts = clean("@john_doe thanks, cc @Ann99!")
    assert text == "thanks, cc !"
    assert counts["handles_removed"] == 2


def test_lone_at_sign_is_not_a_handle():
    text, counts = clean("meet @ 5 pm")
    assert text == "meet @ 5 pm"
    assert counts["handles_removed"] == 0


def test_handles_kept_when_switched_off():
    cfg = replace(ALL, remove_handles=False)
    text, counts = clean("@john thanks", cfg)
    assert text == "@john thanks"
    assert counts["handles_removed"] == 0


# --------------------------------------------------------------------------- HTML

def test_html_tags_removed():
    text, counts = clean("<b>great</b> phone<br/>battery <a href='x'>link</a>")
    assert text == "great phone battery link"
    assert counts["html_tags_removed"] == 5


def test_escaped_tag_is_removed_as_a_tag():
    text, counts = clean("nice&lt;br&gt;phone")
    assert text == "nice phone"
    assert counts["html_tags_removed"] == 1


def test_html_entities_unescaped_or_removed():
    # Known entities become their character; whitespace entities become spaces.
    text, _ = clean("AT&amp;T it&#39;s&nbsp;fine")
    assert text == "AT&T it's fine"
    # A double-escaped entity leaves an entity after unescaping: removed and counted.
    text, counts = clean("price &amp;euro; 5")
    assert text == "price 5"
    assert counts["html_entities_removed"] == 1


def test_html_kept_when_switched_off():
    cfg = replace(ALL, remove_html=False)
    text, counts = clean("<b>great</b> AT&amp;T", cfg)
    assert text == "<b>great</b> AT&amp;T"
    assert not counts


def test_comparison_signs_are_not_tags():
    text, counts = clean("3 < 5 and 7 > 2")
    assert text == "3 < 5 and 7 > 2"
    assert counts["html_tags_removed"] == 0


# --------------------------------------------------------------------------- case, whitespace

def test_lowercase_on_and_off():
    assert clean("Great PHONE", replace(NOTHING, lowercase=True))[0] == "great phone"
    assert clean("Great PHONE", NOTHING)[0] == "Great PHONE"


def test_whitespace_collapsed_and_stripped():
    assert clean("  a \t b\n\n c\u00a0 d  ", NOTHING)[0] == "a b c d"
    # Removal leaves no double spaces either.
    assert clean("good http://x.io  <i>movie</i>")[0] == "good movie"


def test_default_config_matches_params_yaml_sentiment_section():
    cfg = CleanConfig.from_params({"remove_urls": True, "remove_emails": True, "remove_handles": True,
                                   "remove_html": True, "lowercase": True, "min_tokens": 3,
                                   "filter_test": False})
    assert cfg == CleanConfig()


def test_from_params_rejects_unknown_key():
    with pytest.raises(ValueError, match="lowercse"):
        CleanConfig.from_params({"lowercse": True})


# --------------------------------------------------------------------------- sentiment records

def _recs(*texts):
    return [{"text": t, "label": "positive", "source": f"f.txt:{i}"} for i, t in enumerate(texts, 1)]


def test_min_tokens_drops_and_counts():
    cfg = replace(ALL, min_tokens=3)
    kept, counts = clean_sentiment(_recs("one", "one two", "one two three", "one two three four"), cfg)
    assert [r["text"] for r in kept] == ["one two three", "one two three four"]
    assert counts["dropped_under_min_tokens"] == 2


def test_min_tokens_counted_after_cleaning():
    cfg = replace(ALL, min_tokens=3)
    kept, counts = clean_sentiment(_recs("@a @b nice", "http://x.io really nice phone"), cfg)
    assert [r["text"] for r in kept] == ["really nice phone"]
    assert counts["dropped_under_min_tokens"] == 1
    assert counts["handles_removed"] == 2 and counts["urls_removed"] == 1


def test_records_keep_their_other_fields():
    kept, _ = clean_sentiment(_recs("Very <b>GOOD</b> phone"), CleanConfig())
    assert kept == [{"text": "very good phone", "label": "positive", "source": "f.txt:1"}]


def test_input_records_not_mutated():
    recs = _recs("Very GOOD phone")
    clean_sentiment(recs, CleanConfig())
    assert recs[0]["text"] == "Very GOOD phone"


@pytest.mark.parametrize("split", ["train", "dev", "all"])
def test_non_test_splits_are_filtered(split):
    kept, counts = clean_sentiment(_recs("short", "long enough text"), CleanConfig(min_tokens=3), split)
    assert [r["text"] for r in kept] == ["long enough text"]
    assert counts["dropped_under_min_tokens"] == 1


def test_official_test_split_not_filtered_by_default():
    kept, counts = clean_sentiment(_recs("short", "long enough text"), CleanConfig(min_tokens=3), "test")
    assert [r["text"] for r in kept] == ["short", "long enough text"]
    assert counts["dropped_under_min_tokens"] == 0


def test_test_split_filtered_with_filter_test():
    cfg = CleanConfig(min_tokens=3, filter_test=True)
    kept, counts = clean_sentiment(_recs("short", "long enough text"), cfg, "test")
    assert [r["text"] for r in kept] == ["long enough text"]
    assert counts["dropped_under_min_tokens"] == 1


def test_empty_text_dropped_even_in_test():
    kept, counts = clean_sentiment(_recs("http://only.a/url", "fine"), CleanConfig(min_tokens=3), "test")
    assert [r["text"] for r in kept] == ["fine"]
    assert counts["dropped_under_min_tokens"] == 1


# --------------------------------------------------------------------------- Hindi / Telugu

HI = "यह फ़ोन बहुत अच्छा है, बैटरी भी ठीक है।"
TE = "ఈ సినిమా చాలా బాగుంది! నటన అద్భుతం."


@pytest.mark.parametrize("sentence", [HI, TE])
def test_indic_text_untouched(sentence):
    # Lowercasing and every removal step on: nothing to remove, nothing changes
    # (no normalisation, no stripped vowel signs or viramas).
    kept, counts = clean_sentiment([{"text": sentence, "label": "positive"}], CleanConfig(), "train")
    assert kept[0]["text"] == sentence
    assert not counts


@pytest.mark.parametrize("sentence", [HI, TE])
def test_indic_text_cleaned_only_of_noise(sentence):
    noisy = f"<p>{sentence}</p> https://t.co/abc  मेल: a.b@x.com"
    text, counts = clean(noisy, CleanConfig())
    assert text == f"{sentence} मेल:"
    assert counts == Counter(html_tags_removed=2, urls_removed=1, emails_removed=1)


@pytest.mark.parametrize("handle, rest", [("@राहुल", "धन्यवाद"), ("@కిరణ్", "ధన్యవాదాలు")])
def test_indic_handle_removed_whole(handle, rest):
    text, counts = clean(f"{handle} {rest}")
    assert text == rest
    assert counts["handles_removed"] == 1


# --------------------------------------------------------------------------- NER token-level cleaning

NER_CFG = CleanConfig(lowercase=False, min_tokens=1)


def _ner(tokens, tags, **extra):
    assert len(tokens) == len(tags)
    return {"tokens": tokens, "tags": tags, **extra}


def test_ner_noise_tokens_removed_with_their_tags():
    rec = _ner(["@user", "John", "visited", "http://x.io", "Paris", "<br>", "today"],
               ["O", "B-PER", "O", "O", "B-LOC", "O", "O"], source="f:1")
    kept, counts = clean_ner([rec], NER_CFG)
    assert kept == [_ner(["John", "visited", "Paris", "today"], ["B-PER", "O", "B-LOC", "O"], source="f:1")]
    assert counts["tokens_removed"] == 3
    assert counts["entity_tokens_removed"] == 0


def test_ner_counts_removed_entity_tokens_and_repairs_iob2():
    # The B- token of an entity is a URL: removing it leaves I-ORG at the entity start.
    rec = _ner(["www.acme.com", "Acme", "Corp", "hired", "@ravi", "Ravi"],
               ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER", "I-PER"])
    kept, counts = clean_ner([rec], NER_CFG)
    assert kept[0]["tokens"] == ["Acme", "Corp", "hired", "Ravi"]
    assert kept[0]["tags"] == ["B-ORG", "I-ORG", "O", "B-PER"]
    assert counts["entity_tokens_removed"] == 2
    assert counts["tokens_removed"] == 0


def test_ner_repair_starts_new_entity_when_type_changes():
    # I-LOC right after a PER entity (after removal) is a new entity: B-LOC.
    rec = _ner(["John", "<b>", "Delhi"], ["B-PER", "B-LOC", "I-LOC"])
    kept, _ = clean_ner([rec], NER_CFG)
    assert kept[0]["tags"] == ["B-PER", "B-LOC"]


def test_ner_valid_iob2_left_alone():
    rec = _ner(["New", "York", "and", "LA"], ["B-LOC", "I-LOC", "O", "B-LOC"])
    kept, counts = clean_ner([rec], NER_CFG)
    assert kept == [rec]
    assert not counts


def test_ner_tokens_never_split_and_tags_stay_aligned():
    rec = _ner(["a<br>b", "Ram", "&amp;", "Shyam"], ["O", "B-PER", "O", "B-PER"])
    kept, _ = clean_ner([rec], NER_CFG)
    assert kept[0]["tokens"] == ["ab", "Ram", "&", "Shyam"]
    assert kept[0]["tags"] == ["O", "B-PER", "O", "B-PER"]


def test_ner_case_kept_by_default_setting_and_lowered_on_request():
    rec = _ner(["John", "LIVES"], ["B-PER", "O"])
    assert clean_ner([rec], NER_CFG)[0][0]["tokens"] == ["John", "LIVES"]
    assert clean_ner([rec], replace(NER_CFG, lowercase=True))[0][0]["tokens"] == ["john", "lives"]


def test_ner_sentence_left_empty_is_dropped_even_in_test():
    recs = [_ner(["@a", "http://b.c"], ["O", "O"]), _ner(["Ok"], ["O"])]
    kept, counts = clean_ner(recs, NER_CFG, "test")
    assert [r["tokens"] for r in kept] == [["Ok"]]
    assert counts["dropped_under_min_tokens"] == 1


def test_ner_min_tokens_and_filter_test():
    recs = [_ner(["Hi"], ["O"]), _ner(["Ram", "came"], ["B-PER", "O"])]
    cfg = replace(NER_CFG, min_tokens=2)
    kept, counts = clean_ner(recs, cfg, "train")
    assert len(kept) == 1 and counts["dropped_under_min_tokens"] == 1
    kept, counts = clean_ner(recs, cfg, "test")
    assert len(kept) == 2 and counts["dropped_under_min_tokens"] == 0
    kept, counts = clean_ner(recs, replace(cfg, filter_test=True), "test")
    assert len(kept) == 1 and counts["dropped_under_min_tokens"] == 1


@pytest.mark.parametrize("tokens, tags", [
    (["राम", "ने", "दिल्ली", "में", "किताब", "ख़रीदी", "।"], ["B-PER", "O", "B-LOC", "O", "O", "O", "O"]),
    (["రాముడు", "హైదరాబాద్", "లో", "ఉంటాడు", "."], ["B-PER", "B-LOC", "O", "O", "O"]),
])
def test_ner_indic_tokens_untouched(tokens, tags):
    noisy = _ner(["@x"] + tokens + ["https://t.co/a"], ["O"] + tags + ["O"])
    kept, counts = clean_ner([noisy], CleanConfig(lowercase=True, min_tokens=1))
    assert kept == [_ner(tokens, tags)]
    assert counts["tokens_removed"] == 2
