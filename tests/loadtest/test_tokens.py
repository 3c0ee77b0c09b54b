import json

import pytest

from rollguard_loadtest.tokens import load_tokens, parse_tokens

SEED = {"tenants": [{"name": "north", "token": "aaa"}, {"name": "south", "token": "bbb"}]}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("aaa,bbb", ["aaa", "bbb"]),
        (" aaa , bbb ,", ["aaa", "bbb"]),
        ("aaa\nbbb\n", ["aaa", "bbb"]),
        ("", []),
        (json.dumps(SEED), ["aaa", "bbb"]),
        (json.dumps(SEED, indent=2), ["aaa", "bbb"]),
        ("Seeding 3 tenants...\n" + json.dumps(SEED) + "\n", ["aaa", "bbb"]),
    ],
)
def test_tokens_are_read_from_lists_and_seed_demo_output(text, tokens):
    assert parse_tokens(text) == tokens


def test_environment_tokens_win_over_the_file(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    assert load_tokens(str(seed), {"ROLLGUARD_API_TOKENS": "zzz"}) == ["zzz"]
    assert load_tokens(str(seed), {}) == ["aaa", "bbb"]


def test_missing_tokens_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="seed_demo"):
        load_tokens(str(tmp_path / "absent.json"), {})
    with pytest.raises(ValueError, match="ROLLGUARD_API_TOKENS"):
        load_tokens("", {})
