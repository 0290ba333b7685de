"""A local engine that speaks Paddler's inference protocol on top of llama.cpp.

``python -m local_engine`` serves Paddler's inference routes (``/health``,
``/api/v1/continue_from_conversation_history``, ``/api/v1/continue_from_raw_prompt``) with
llama-cpp-python, so Oarlock runs end to end without a Paddler cluster. See
``docs/local-engine.md``. Importing this package loads nothing heavy; only ``llama_runtime``,
``model_file`` and ``engine_loading`` need the ``local`` extra.
"""
