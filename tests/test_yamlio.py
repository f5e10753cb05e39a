"""sim.yamlio: safe YAML with positions. Every refusal is one located ScenarioError."""

from __future__ import annotations

import re

import pytest
from conftest import MINIMAL_YAML, col_of, line_of, located

from sim.errors import ScenarioError
from sim.io.yamlio import MAX_BYTES, MAX_DEPTH, dotted, parse_yaml, read_yaml
from sim.scenario import load_scenario


def test_plain_yaml_is_read_as_plain_data():
    data, _ = parse_yaml(MINIMAL_YAML, "s.yaml")
    assert data["theaters"] == {"alpha": {"initial": 1000}}
    assert data["calendar"] == {"start": "2024-01", "end": "2024-12"}


def test_every_value_and_key_keeps_its_line_and_column():
    _, pos = parse_yaml(MINIMAL_YAML, "s.yaml")
    assert pos.file == "s.yaml"
    where = (line_of(MINIMAL_YAML, "initial: 1000"), col_of(MINIMAL_YAML, "1000"))
    assert pos.values[("theaters", "alpha", "initial")] == where
    assert pos.keys[("theaters", "alpha", "initial")] == (where[0], col_of(MINIMAL_YAML, "initial"))


def test_position_of_an_absent_key_falls_back_to_its_nearest_parent():
    _, pos = parse_yaml(MINIMAL_YAML, "s.yaml")
    assert pos.find(("theaters", "alpha", "sites", "x")) == pos.values[("theaters", "alpha")]


def test_key_paths_read_with_dots_and_list_indices():
    assert dotted(("sources", 0, "id")) == "sources[0].id"
    assert dotted(("theaters", "iraq", "initial")) == "theaters.iraq.initial"
    assert dotted(()) == "(document)"


def test_dates_and_months_stay_text_as_yaml_1_2_reads_them():
    data, _ = parse_yaml("as_of: 2024-09-06\nstart: 2024-09\n")
    assert data == {"as_of": "2024-09-06", "start": "2024-09"}


def test_a_utf8_byte_order_mark_is_accepted():
    data, _ = parse_yaml("\ufeffid: x\n".encode())
    assert data == {"id": "x"}


def test_object_building_python_tag_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    text = MINIMAL_YAML + f"evil: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(
        ScenarioError,
        match=located(
            "s.yaml",
            line_of(text, "evil"),
            col_of(text, "!!python"),
            "evil",
            "plain YAML values without tags",
            "python/object/apply:os.system",
        ),
    ):
        parse_yaml(text, "s.yaml")
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [
        "!!python/name:os.system",
        "!!python/object:collections.OrderedDict {}",
        "!!binary aGk=",
        "!!set {a}",
        "!!omap [{a: 1}]",
        "!custom thing",
    ],
)
def test_any_tag_beyond_plain_yaml_types_is_refused(value):
    with pytest.raises(ScenarioError, match=located("s.yaml", 2, 8, "title", "without tags")):
        parse_yaml(f"id: x\ntitle: {value}\n", "s.yaml")


BILLION_LAUGHS = """\
id: bomb
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_alias_bomb_is_refused_at_its_first_alias_without_expanding(write):
    path = write(BILLION_LAUGHS)
    with pytest.raises(
        ScenarioError,
        match=located(
            path, 3, col_of(BILLION_LAUGHS, "*a"), "b[0]", "anchors and aliases", "an alias"
        ),
    ):
        load_scenario(path)


def test_a_single_alias_is_refused_too():
    with pytest.raises(ScenarioError, match=located("s.yaml", 2, 8, "b[1]", found="an alias")):
        parse_yaml("a: &x 5\nb: [1, *x]\n", "s.yaml")


def test_an_anchor_no_alias_uses_is_refused_as_the_format_says():
    with pytest.raises(
        ScenarioError, match=located("s.yaml", 2, 6, "a.b", found="the anchor '&x'")
    ):
        parse_yaml("a:\n  b: &x {c: 1}\n", "s.yaml")
    assert parse_yaml("a: 'b&c'\nd: b & c # &x\n", "s.yaml")[0] == {"a": "b&c", "d": "b & c"}


def test_merge_key_is_refused():
    with pytest.raises(ScenarioError, match=located("s.yaml", 3, 3, "b", "merge keys", "'<<'")):
        parse_yaml("a: 1\nb:\n  <<: {c: 1}\n", "s.yaml")


def test_complex_key_is_refused():
    with pytest.raises(ScenarioError, match=located("s.yaml", 1, 3, "(document)", "a plain key")):
        parse_yaml("? [a, b]\n: c\n", "s.yaml")


def test_duplicate_key_is_rejected_with_its_line(write):
    text = MINIMAL_YAML + "id: again\n"
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path, line_of(text, "id: again"), 1, "id", "each key once", "duplicate key 'id'"
        ),
    ):
        load_scenario(path)


def test_duplicate_nested_key_is_rejected_with_its_line_and_path():
    text = MINIMAL_YAML.replace("    initial: 1000\n", "    initial: 1000\n    initial: 900\n")
    with pytest.raises(
        ScenarioError,
        match=located(
            "s.yaml",
            line_of(text, "initial: 900"),
            5,
            "theaters.alpha.initial",
            found="duplicate key 'initial'",
        ),
    ):
        parse_yaml(text, "s.yaml")


def test_non_utf8_bytes_are_rejected_with_their_position(write):
    raw = MINIMAL_YAML.replace("Minimal scenario", "Minimal \udcff").encode(
        "utf-8", "surrogateescape"
    )
    path = write(raw)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(MINIMAL_YAML, "title"),
            len("title: Minimal ") + 1,
            "(file)",
            "UTF-8 text",
            "the byte 0xff",
        ),
    ):
        load_scenario(path)


def test_latin1_file_is_rejected_as_not_utf8(write):
    path = write("id: x\ntitle: Bagdad caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match=located(path, 2, 18, "(file)", "UTF-8", "0xe9")):
        load_scenario(path)


def test_nul_byte_is_rejected_with_its_position(write):
    path = write(MINIMAL_YAML.encode() + b"note: a\x00b\n")
    nul_line = MINIMAL_YAML.count("\n") + 1
    with pytest.raises(
        ScenarioError, match=located(path, nul_line, 8, "(file)", "a text file", "a NUL byte")
    ):
        load_scenario(path)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_without_a_mark_is_named_so_even_with_a_letter_outside_ascii(write, codec):
    # "Café" made the refusal "expected UTF-8 text, found the byte 0xe9" at the é, a
    # line below where the NUL bytes began, and it never said UTF-16
    path = write(MINIMAL_YAML.replace("Minimal scenario", "Café scenario").encode(codec))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).endswith(
        "(file): expected a text file, found a NUL byte (UTF-16 or UTF-32 text without a "
        "byte-order mark? save it as UTF-8)"
    )


def test_tab_indentation_is_rejected_with_its_line(write):
    text = MINIMAL_YAML.replace("  alpha:\n", "\talpha:\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path, line_of(text, "\talpha"), 1, "(syntax)", "valid YAML", r"character '\\t'"
        ),
    ) as exc:
        load_scenario(path)
    assert "found found" not in str(exc.value)


def test_broken_yaml_names_the_line_where_parsing_failed(write):
    text = MINIMAL_YAML.replace("  end: 2024-12", "  end: [2024-12")
    path = write(text)
    with pytest.raises(
        ScenarioError, match=located(path, None, None, "(syntax)", "valid YAML")
    ) as exc:
        load_scenario(path)
    assert exc.value.line is not None and exc.value.line >= line_of(text, "end: [")


def test_nesting_just_past_the_limit_is_rejected_with_its_line_and_path():
    text = "id: x\nz: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(
        ScenarioError,
        match=located(
            "s.yaml",
            2,
            None,
            "z" + "[0]" * MAX_DEPTH,
            f"at most {MAX_DEPTH} levels",
            "deeper nesting",
        ),
    ):
        parse_yaml(text, "s.yaml")


def _block(depth: int) -> str:
    return (
        "id: x\nnest:\n"
        + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth))
        + "  " * (depth + 1)
        + "leaf\n"
    )


def _flow(depth: int) -> str:
    return "id: x\nnest: " + "{k: " * depth + "1" + "}" * depth + "\n"


@pytest.mark.parametrize(
    "text",
    [_block(MAX_DEPTH + 1), _block(900), _flow(MAX_DEPTH + 1), _flow(2_000), _flow(20_000)],
    ids=["block-33", "block-900", "flow-33", "flow-2000", "flow-20000"],
)
def test_deep_nesting_is_a_scenario_error_at_any_depth_never_a_recursion_error(text):
    with pytest.raises(ScenarioError, match=f"expected at most {MAX_DEPTH} levels of nesting"):
        parse_yaml(text, "s.yaml")


def test_deep_nesting_reports_the_same_place_whether_or_not_the_parser_would_recurse():
    def message(text: str) -> str:
        with pytest.raises(ScenarioError) as exc:
            parse_yaml(text, "s.yaml")
        return str(exc.value)

    assert message(_block(MAX_DEPTH + 3)) == message(_block(900))
    assert message(_flow(MAX_DEPTH + 3)) == message(_flow(3_000))

    def mixed(flow_depth: int) -> str:  # 20 block levels, then flow levels
        return _block(20).replace("leaf", "{k: " * flow_depth + "1" + "}" * flow_depth)

    assert message(mixed(MAX_DEPTH - 18)) == message(mixed(3_000))


@pytest.mark.parametrize(
    "opener, closer", [("[", "]"), ("{", "}"), ("{k: ", "}"), ("[a, {b: ", "}]")]
)
def test_a_file_of_brackets_is_refused_at_the_depth_limit(opener, closer):
    # PyYAML's scanner is quadratic in bracket depth; this must not be
    # handed to it whole (benchmarks/ has the timing, not this test)
    text = "id: x\nz: " + opener * 50_000 + closer * 50_000 + "\n"
    with pytest.raises(ScenarioError, match="expected (at most 32 levels of nesting|a plain key)"):
        parse_yaml(text, "s.yaml")


def test_many_brackets_inside_strings_are_only_text():
    text = 'id: x\nquoted: "' + "[" * 100 + '"\nblock: |\n  ' + "{" * 100 + "\nafter: 1\n"
    data, _ = parse_yaml(text, "s.yaml")
    assert data == {"id": "x", "quoted": "[" * 100, "block": "{" * 100 + "\n", "after": 1}


@pytest.mark.parametrize("raw", [b"", b"   \n\n", b"# only a comment\n"])
def test_empty_file_is_rejected(write, raw):
    path = write(raw)
    with pytest.raises(
        ScenarioError, match=located(path, 1, 1, "(document)", "a YAML mapping", "empty")
    ):
        load_scenario(path)


def test_a_document_marker_with_nothing_after_it_is_rejected(write):
    path = write(b"---\n")
    with pytest.raises(
        ScenarioError,
        match=located(path, None, None, "(document)", "a YAML mapping", "an empty document"),
    ):
        load_scenario(path)


@pytest.mark.parametrize(
    "text, found",
    [("- a\n- b\n", "a list"), ("just words\n", "text without any key"), ("42\n", "a number")],
)
def test_a_document_that_is_not_a_mapping_is_rejected_without_quoting_it(write, text, found):
    path = write(text)
    with pytest.raises(
        ScenarioError, match=located(path, 1, 1, "(document)", "a YAML mapping", found)
    ) as exc:
        load_scenario(path)
    assert text.strip().split()[-1] not in exc.value.found


def test_file_larger_than_the_limit_is_rejected_before_parsing(write):
    path = write("id: x\n" + "#" * MAX_BYTES + "\n")
    with pytest.raises(ScenarioError, match=located(path, 1, 1, "(file)", "at most", "bytes")):
        read_yaml(path)


def test_read_yaml_refuses_a_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as caught:
        read_yaml(path)
    assert str(caught.value) == f"{path}: expected an existing scenario file, found no such file"


def test_text_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(ScenarioError, match="expected a document of at most 1,000,000 characters"):
        parse_yaml("#" * 1_000_001, "big.yaml")


@pytest.mark.parametrize("escape", ["\\e]0;title\\a", "\\x1b[2J", "\\r", "\\0", "\\x7f", "\\x9b"])
def test_a_control_character_written_as_an_escape_is_refused_quoted_as_written(escape):
    # a terminal escape in a title would reach the printed table, the charts and the page
    text = f'id: x\ntitle: "a{escape}b"\n'
    with pytest.raises(
        ScenarioError,
        match=located(
            "s.yaml", 2, 8, "title", "text without control characters", re.escape(f'"a{escape}b"')
        ),
    ):
        parse_yaml(text, "s.yaml")


def test_a_control_character_in_a_key_is_refused():
    with pytest.raises(
        ScenarioError, match=located("s.yaml", 2, 3, "theaters", "text without control")
    ):
        parse_yaml('theaters:\n  "ir\\raq": {initial: 1}\n', "s.yaml")


def test_tabs_and_line_breaks_inside_text_are_kept():
    data, _ = parse_yaml('a: "x\\ty"\nb: |\n  one\n  two\n', "s.yaml")
    assert data == {"a": "x\ty", "b": "one\ntwo\n"}


@pytest.mark.parametrize(("raw", "code"), [("\x01", "0001"), ("\x7f", "007F")])
def test_a_raw_control_byte_is_refused_at_its_line_and_column(raw: str, code: str) -> None:
    text = f"id: x\ntitle: ab{raw}c\n"
    with pytest.raises(
        ScenarioError,
        match=re.escape("f.yaml:2:10: (syntax): expected valid YAML (no control characters")
        + f".*found the character U\\+{code}$",
    ):
        parse_yaml(text, "f.yaml")


@pytest.mark.parametrize(
    ("char", "name"),
    [("\u2028", "LINE SEPARATOR"), ("\u2029", "PARAGRAPH SEPARATOR"), ("\x85", "NEXT LINE")],
)
@pytest.mark.parametrize("where", ["title: Iraq{c}Syria\n", "# a note{c}more\ntitle: x\n"])
def test_a_line_break_only_yaml_1_1_sees_is_refused_at_its_own_line_and_column(
    char: str, name: str, where: str
) -> None:
    # PyYAML broke the line there: a false syntax error two lines further down, or none
    text = "id: x\n" + where.format(c=char)
    col = where.index("{c}") + 1
    with pytest.raises(ScenarioError) as err:
        parse_yaml(text, "f.yaml")
    assert err.value.one_line() == (
        f"f.yaml:2:{col}: (syntax): expected no U+0085, U+2028 or U+2029 (the YAML reader "
        "takes each for a line break, which no editor shows: write a space or a new line "
        f"instead), found the character U+{ord(char):04X} ({name})"
    )


def test_a_file_that_is_not_there_is_named_alone_without_a_line_or_key(tmp_path) -> None:
    # ScenarioError.absent: the one way to say a file or folder is missing, or is not
    # what was expected; read_limited says so of a missing file and of a folder
    err = ScenarioError.absent("an existing scenario file", "no such file", file="s.yaml")
    assert (str(err), err.position, err.path) == (
        "s.yaml: expected an existing scenario file, found no such file",
        False,
        "(file)",
    )
    for path, found in ((tmp_path / "gone.yaml", "no such file"), (tmp_path, "a directory")):
        with pytest.raises(ScenarioError) as info:
            read_yaml(path)
        assert not info.value.position
        assert str(info.value).startswith(f"{path}: expected ")
        assert str(info.value).endswith(f", found {found}")


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "id: a\n---\nid: b\n",
            "f.yaml:2:1: (syntax): expected valid YAML (a single document in the stream), "
            "found another document",
        ),
        ("a: [1, 2\nb: 3\n", "f.yaml:2:2: (syntax): expected valid YAML (',' or ']'), found ':'"),
        (
            "a: {b: 1\n",
            "f.yaml:2:1: (syntax): expected valid YAML (',' or '}'), found the end of the file",
        ),
    ],
)
def test_a_yaml_syntax_error_says_what_was_expected_and_what_was_found_apart(text, message):
    # "expected valid YAML, found but found another document", and "found expected
    # ',' or ']', but got ':'", read as nonsense
    with pytest.raises(ScenarioError, match=re.escape(message) + "$"):
        parse_yaml(text, "f.yaml")


@pytest.mark.parametrize("written", ["''", "'  '"])
def test_a_blank_extends_is_not_a_path_not_a_directory(write, written):
    path = write(MINIMAL_YAML + f"extends: {written}\n")
    with pytest.raises(
        ScenarioError,
        match=r"extends: expected a path to another scenario file, found "
        + re.escape(written)
        + "$",
    ):
        load_scenario(path)


def test_a_yaml_block_broken_by_a_stray_item_says_expected_and_found_apart():
    # it read "found expected <block end>, but found '<block sequence start>'"
    with pytest.raises(
        ScenarioError,
        match=re.escape(
            "f.yaml:3:2: (syntax): expected valid YAML (<block end>), "
            "found '<block sequence start>'"
        )
        + "$",
    ):
        parse_yaml("a:\n  b: 1\n - c\n", "f.yaml")


@pytest.mark.parametrize(
    ("char", "name"),
    [("\u202e", "RIGHT-TO-LEFT OVERRIDE"), ("\u2067", "RIGHT-TO-LEFT ISOLATE")],
)
@pytest.mark.parametrize("where", ["title: Syria {c}1,500\n", "# a note{c}\ntitle: x\n"])
def test_a_direction_control_that_would_show_text_in_another_order_is_refused_where_it_is(
    char: str, name: str, where: str
) -> None:
    # U+202E before "1,500" shows it as "005,1" on the page and in a terminal
    text = "id: x\n" + where.format(c=char)
    col = where.index("{c}") + 1
    with pytest.raises(ScenarioError) as err:
        parse_yaml(text, "f.yaml")
    assert err.value.one_line() == (
        f"f.yaml:2:{col}: (syntax): expected text without direction controls (U+202A to "
        "U+202E, U+2066 to U+2069: each shows the text after it in another order than it "
        f"is written), found the character U+{ord(char):04X} ({name})"
    )


@pytest.mark.parametrize(
    ("escape", "expected", "char"),
    [
        ("\\u202e", "text without direction controls", "U+202E, RIGHT-TO-LEFT OVERRIDE"),
        ("\\u2066", "text without direction controls", "U+2066, LEFT-TO-RIGHT ISOLATE"),
        ("\\u2028", "text without U+2028 or U+2029", "U+2028, LINE SEPARATOR"),
        ("\\P", "text without U+2028 or U+2029", "U+2029, PARAGRAPH SEPARATOR"),
    ],
)
def test_a_direction_control_or_unseen_line_break_written_as_an_escape_is_refused(
    escape: str, expected: str, char: str
) -> None:
    # written as themselves they were refused; as double-quoted escapes they reached the
    # terminal, run.json and the page
    with pytest.raises(ScenarioError) as err:
        parse_yaml(f'id: x\ntitle: "Syria {escape}1,500"\n', "f.yaml")
    line = err.value.one_line()
    assert line.startswith(f"f.yaml:2:8: title: expected {expected}")
    assert line.endswith(f'found "Syria {escape}1,500" ({char})')


@pytest.mark.parametrize("text", ["Ku\x1b[31mwait", "Ku\u202ewait", "a\u2029b"])
@pytest.mark.parametrize("where", ["value", "key"])
def test_text_set_in_code_is_checked_as_a_files_text_is(text: str, where: str) -> None:
    from conftest import DEFAULT_SCENARIO

    import sim

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    kuwait = {"initial": 5, "name": text} if where == "value" else {"initial": 5}
    theaters = {"kuwait": kuwait} if where == "value" else {text: kuwait}
    with pytest.raises(ScenarioError) as err:
        sc.with_overrides({"theaters": theaters})
    assert repr(text) in err.value.one_line()


def test_a_right_to_left_name_without_direction_controls_is_read_as_written() -> None:
    data, _ = parse_yaml("id: x\ntitle: سوريا 1,500\n", "f.yaml")
    assert data["title"] == "سوريا 1,500"


@pytest.mark.parametrize(
    ("text", "at", "found", "hint"),
    [
        (
            "a: [1,500, 1,600]\n",
            "1:5: a[0]",
            "'1,500'",
            "for several numbers, a space after each comma: 1, 500; for one thousand five "
            "hundred, write 1500",
        ),
        (
            "a: [900, 1,500,000]\n",
            "1:10: a[1]",
            "'1,500,000'",
            "for several numbers, a space after each comma: 1, 500, 000; for one million "
            "five hundred thousand, write 1500000",
        ),
        (  # (both readings: it may be a range written tight, as well as one number)
            "a: {uniform: [150,600]}\n",
            "1:15: a.uniform[0]",
            "'150,600'",
            "for several numbers, a space after each comma: 150, 600; for one hundred "
            "fifty thousand six hundred, write 150600",
        ),
        (
            "a: {value: 2,500, source: x}\n",
            "1:12: a.value",
            "'2,500'",
            "for two thousand five hundred, write 2500",
        ),
        (  # (every group: '2,500' and "write 2500" would be a thousand times too few)
            "a: {value: 2,500,000}\n",
            "1:12: a.value",
            "'2,500,000'",
            "for two million five hundred thousand, write 2500000",
        ),
        ("a: {value: 2,500.5}\n", "1:12: a.value", "'2,500.5'", "for one number, write 2500.5"),
    ],
)
def test_a_thousands_separator_in_a_flow_list_or_mapping_is_refused_not_read_as_items(
    text: str, at: str, found: str, hint: str
) -> None:
    # [1,500, 1,600] was read as 1, 500, 1, 600; {value: 2,500} as value 2 and a key 500
    with pytest.raises(ScenarioError) as err:
        parse_yaml(text, "f.yaml")
    assert err.value.one_line() == (
        f"f.yaml:{at}: expected numbers without a thousands separator in [ ] or {{ }}, "
        f"where a comma separates items ({hint}), found {found}"
    )


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("a: [1, 500]\n", [1, 500]),
        ("a: [10,20]\n", [10, 20]),  # (a second item of other than three digits)
        ("a: [0,300]\n", [0, 300]),  # (no number starts with 0: bounds, as in uniform)
        ('a: ["1",500]\n', ["1", 500]),
        ("a: {b: 1,c: 2}\n", {"b": 1, "c": 2}),
    ],
)
def test_flow_items_that_cannot_be_one_number_split_are_read_as_written(text: str, read) -> None:
    assert parse_yaml(text, "f.yaml")[0] == {"a": read}
