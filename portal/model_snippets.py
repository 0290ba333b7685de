"""Copy-paste snippets that point a client at Oarlock, for one model and base URL."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Snippet:
    slug: str
    label: str
    code: str


def model_snippets(*, model: str, base_url: str) -> list[Snippet]:
    return [
        Snippet("curl", "curl", _curl(model, base_url)),
        Snippet("python", "Python", _python(model, base_url)),
        Snippet("js", "JavaScript", _js(model, base_url)),
        Snippet("codex", "Codex CLI", _codex(model, base_url)),
        Snippet("opencode", "opencode", _opencode(model, base_url)),
    ]


def _curl(model: str, base_url: str) -> str:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello!"}]})
    return (
        'export OARLOCK_API_KEY="oar_…"   # from the Keys page\n'
        f"curl {base_url}/chat/completions \\\n"
        '  -H "Authorization: Bearer $OARLOCK_API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )


def _python(model: str, base_url: str) -> str:
    return (
        "# pip install openai\n"
        "import os\n"
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{base_url}", api_key=os.environ["OARLOCK_API_KEY"])\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{model}",\n'
        '    messages=[{"role": "user", "content": "Hello!"}],\n'
        ")\n"
        "print(reply.choices[0].message.content)"
    )


def _js(model: str, base_url: str) -> str:
    return (
        "// npm install openai\n"
        'import OpenAI from "openai";\n\n'
        f'const client = new OpenAI({{ baseURL: "{base_url}", apiKey: process.env.OARLOCK_API_KEY }});\n'
        "const reply = await client.chat.completions.create({\n"
        f'  model: "{model}",\n'
        '  messages: [{ role: "user", content: "Hello!" }],\n'
        "});\n"
        "console.log(reply.choices[0].message.content);"
    )


def _codex(model: str, base_url: str) -> str:
    return (
        "# ~/.codex/config.toml  (then: export OARLOCK_API_KEY=oar_…)\n"
        f'model = "{model}"\n'
        'model_provider = "oarlock"\n\n'
        "[model_providers.oarlock]\n"
        'name = "Oarlock"\n'
        f'base_url = "{base_url}"\n'
        'env_key = "OARLOCK_API_KEY"\n'
        'wire_api = "responses"'
    )


def _opencode(model: str, base_url: str) -> str:
    config = {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "oarlock": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Oarlock",
                "options": {"baseURL": base_url, "apiKey": "{env:OARLOCK_API_KEY}"},
                "models": {model: {"name": model}},
            }
        },
        "model": f"oarlock/{model}",
    }
    return "// opencode.json (project) or ~/.config/opencode/opencode.json\n" + json.dumps(config, indent=2)
