"""What the bot's messages look like in Matrix: plain text and escaped HTML, numbered choices."""

from __future__ import annotations

from redirection_bot.program.render import ShownChoice, ShownEnd, ShownHandoff, ShownMessage
from redirection_bot_connectors.matrix.content import file_content, notice_content, turn_content


def test_a_turn_is_one_message_with_numbered_choices_in_text_and_html() -> None:
    content = turn_content(
        [
            ShownMessage("a.hello", "Hello."),
            ShownMessage(
                "a.ask", "Which one?", (ShownChoice("x", "First"), ShownChoice("y", "Second"))
            ),
            ShownHandoff("asked", "normal", "support"),
        ]
    )
    assert content == {
        "msgtype": "m.text",
        "body": "Hello.\n\nWhich one?\n1. First\n2. Second",
        "format": "org.matrix.custom.html",
        "formatted_body": "<p>Hello.</p><p>Which one?</p><ol><li>First</li><li>Second</li></ol>",
    }


def test_the_persons_words_are_escaped_in_html_and_kept_in_the_body() -> None:
    content = turn_content([ShownMessage("a.echo", 'You said <img src=x> & "more"\nthen this')])
    assert content is not None
    assert content["body"] == 'You said <img src=x> & "more"\nthen this'
    assert content["formatted_body"] == (
        "<p>You said &lt;img src=x&gt; &amp; &quot;more&quot;<br>then this</p>"
    )


def test_a_scale_is_shown_on_one_line_for_the_person_to_type_the_value() -> None:
    scale = tuple(ShownChoice(str(n), str(n)) for n in range(4))
    content = turn_content([ShownMessage("a.scale", "How much?", scale)])
    assert content is not None
    assert content["body"] == "How much?\n0 · 1 · 2 · 3"
    assert content["formatted_body"] == "<p>How much?</p><p>0 · 1 · 2 · 3</p>"


def test_channel_texts_follow_the_turn_and_nothing_to_say_is_no_message() -> None:
    content = turn_content([ShownMessage("a.bye", "Bye.")], ["Erased <here>."])
    assert content is not None
    assert content["body"] == "Bye.\n\nErased <here>."
    assert content["formatted_body"] == "<p>Bye.</p><p>Erased &lt;here&gt;.</p>"
    assert turn_content([ShownEnd(erase=True)]) is None
    assert notice_content("On its own.")["body"] == "On its own."


def test_a_file_is_sent_by_url_or_with_its_decryption_keys() -> None:
    plain = file_content("my-plan.txt", 12, "mxc://example.org/abc", None)
    assert plain["url"] == "mxc://example.org/abc" and "file" not in plain
    assert plain["info"] == {"mimetype": "text/plain", "size": 12}
    keys = {"url": "mxc://example.org/def", "key": {"k": "secret"}, "iv": "iv", "hashes": {}}
    encrypted = file_content("my-plan.txt", 12, None, keys)
    assert encrypted["file"] == keys and "url" not in encrypted


def test_a_checklist_item_already_picked_is_ticked() -> None:
    asked = ShownMessage(
        "a.ask",
        "Which ones?",
        (ShownChoice("x", "Stress", picked=True), ShownChoice("done", "That's all")),
    )
    content = turn_content([asked])
    assert content["body"] == "Which ones?\n1. ✓ Stress\n2. That's all"
    assert "<li>✓ Stress</li><li>That&#x27;s all</li>" in content["formatted_body"]
