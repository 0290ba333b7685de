"""LiteLLM's proxy as the peer baseline: one worker, no database, pointed at the mock.

It talks to the mock's OpenAI-compatible mode (``/v1/chat/completions``), which returns the same
tokens Oarlock gets as NDJSON. A master key is set, so it authenticates every request as Oarlock
does (without a database, that is its only kind of key). Its cost-map download and telemetry are
switched off: the benchmark never leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Final

from bench.deployment import PROJECT_DIR
from bench.managed_process import ManagedProcess, free_port

MASTER_KEY: Final = "sk-bench-master-key"

CONFIG_TEMPLATE: Final = """\
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench
      api_base: {mock_url}/v1
      api_key: sk-mock
general_settings:
  master_key: {master_key}
litellm_settings:
  telemetry: false
  drop_params: true
"""


class LiteLLMProxy(ManagedProcess):
    master_key = MASTER_KEY


def litellm_process(python: Path, mock_url: str, *, log_dir: Path) -> LiteLLMProxy:
    port = free_port()
    config = Path(tempfile.mkdtemp(prefix="oarlock-bench-litellm-")) / "config.yaml"
    config.write_text(CONFIG_TEMPLATE.format(mock_url=mock_url, master_key=MASTER_KEY))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    litellm = python.parent / "litellm"
    return LiteLLMProxy(
        "litellm",
        [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
        env=env,
        cwd=PROJECT_DIR,
        log_path=log_dir / "litellm.log",
        ready_url=f"http://127.0.0.1:{port}/health/liveliness",
        port=port,
        ready_timeout=180.0,
    )
