"""A token holding a lone UTF-16 surrogate (``"\\ud83d"``: broken or hostile upstream JSON) is
answered with U+FFFD in its place on every endpoint, never a 500 or a cut stream, and recorded
(paddler_protocol/lone_surrogates.py)."""

from __future__ import annotations

import openai

from paddler_protocol.paddler_message import ContentToken
from tests.fake_paddler import FakePaddlerServer, RawLine
from tests.fake_paddler_scripts import finished
from tests.live_server import LiveServer

USER = [{"role": "user", "content": "Hi"}]
LONE_HALF = RawLine(
    b'{"Response":{"generated_by":"fake-agent","request_id":"r1",'
    b'"response":{"GeneratedToken":{"ContentToken":"\\ud83d!"}}}}'
)


def _script(fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(finished([ContentToken("Hi "), LONE_HALF]))


def test_chat_answers_with_a_replacement_character(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    _script(fake_paddler)
    completion = openai_client.chat.completions.create(model="default", messages=USER)
    assert completion.choices[0].message.content == "Hi \ufffd!"
    _script(fake_paddler)
    chunks = list(openai_client.chat.completions.create(model="default", messages=USER, stream=True))
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "Hi \ufffd!"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_stored_response_keeps_the_replacement_character(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, live_server: LiveServer
) -> None:
    _script(fake_paddler)
    with openai_client.responses.stream(model="default", input="Hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Hi \ufffd!"
    assert openai_client.responses.retrieve(final.id).output_text == "Hi \ufffd!"
