"""Render a model's Jinja chat template the way Paddler's agent does (protocol reference 1.2).

Paddler renders with minijinja and the context keys ``messages``, ``tools``,
``add_generation_prompt``, ``enable_thinking``, ``bos_token``, ``eos_token`` and ``nl_token``;
we render with jinja2 in a sandbox with the same keys and the helpers Hugging Face templates
expect (``raise_exception``, ``strftime_now``, a non-ASCII-escaping ``tojson``). A template that
does not compile or fails to render is a terminal ``ChatTemplateError``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from local_engine.errors import GenerationFailure
from paddler_protocol.conversation_params import ConversationMessage, FunctionTool, TextPart


@dataclass(frozen=True, slots=True)
class SpecialTokens:
    bos_token: str
    eos_token: str
    nl_token: str = "\n"


class ChatTemplate:
    def __init__(self, source: str) -> None:
        self.source = source
        self._template: jinja2.Template | None = None
        self._compile_error: str | None = None
        try:
            self._template = _environment().from_string(source)
        except jinja2.TemplateError as error:
            # Paddler reports a template that does not compile as an agent issue and every
            # request then fails; we keep serving and fail each request the same way.
            self._compile_error = f"chat template does not compile: {error}"

    def render(
        self,
        *,
        messages: Sequence[ConversationMessage],
        tools: Sequence[FunctionTool],
        add_generation_prompt: bool,
        enable_thinking: bool,
        special_tokens: SpecialTokens,
    ) -> str:
        if self._template is None:
            raise GenerationFailure("ChatTemplateError", self._compile_error or "no chat template")
        try:
            return self._template.render(
                messages=[_template_message(message) for message in messages],
                tools=[tool.to_json() for tool in tools],
                add_generation_prompt=add_generation_prompt,
                enable_thinking=enable_thinking,
                bos_token=special_tokens.bos_token,
                eos_token=special_tokens.eos_token,
                nl_token=special_tokens.nl_token,
            )
        except Exception as error:  # a template is untrusted code from the GGUF:
            # whatever it raises (TemplateError, TypeError on None + str, ...) fails this request.
            raise GenerationFailure("ChatTemplateError", _describe(error)) from error


def _template_message(message: ConversationMessage) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": message.role, "content": message.content}
    # The engine refuses images before rendering (text-only models), so parts are text here.
    return {
        "role": message.role,
        "content": [{"type": "text", "text": part.text} for part in message.content if isinstance(part, TextPart)],
    }


class _TemplateRaised(jinja2.TemplateError):
    """What ``raise_exception(...)`` inside a template raises."""


def _raise_exception(message: str) -> NoReturn:
    raise _TemplateRaised(message)


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _environment() -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    environment.filters["tojson"] = _tojson
    environment.globals["raise_exception"] = _raise_exception
    environment.globals["strftime_now"] = _strftime_now
    return environment


def _describe(error: Exception) -> str:
    if isinstance(error, _TemplateRaised):
        return str(error)
    return f"chat template rendering failed: {type(error).__name__}: {error}"
