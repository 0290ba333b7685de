// The playground: streams through the real /v1 path with a short-lived, session-bound token.
(function () {
  "use strict";
  const root = document.getElementById("playground");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const apiBase = root.dataset.apiBase;
  let token = null;
  let tokenExpires = 0;
  let columns = [];
  let lastRequest = null;
  let running = 0;

  async function sessionToken() {
    if (token && Date.now() < tokenExpires - 60000) return token;
    const response = await fetch(root.dataset.tokenUrl, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf },
      body: new URLSearchParams({ tenant: root.dataset.tenant }),
    });
    if (!response.ok) throw new Error(`The playground could not get a session token (HTTP ${response.status}).`);
    const data = await response.json();
    token = data.token;
    tokenExpires = Date.now() + data.expires_in * 1000;
    return token;
  }

  async function loadModels() {
    try {
      const response = await fetch(`${apiBase}/models`, { headers: { Authorization: `Bearer ${await sessionToken()}` } });
      const ids = (await response.json()).data.map((m) => m.id);
      for (const select of [$("pg-model"), $("pg-model-b")]) {
        select.replaceChildren(...ids.map((id) => new Option(id, id)));
      }
      if (ids.length > 1) $("pg-model-b").value = ids[1];
      if (!ids.length) setStatus("No model is available to you.");
    } catch (error) {
      setStatus(error.message);
    }
    newChat();
  }

  function setStatus(text) { $("pg-status").textContent = text; }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    node.append(...children);
    return node;
  }

  function newChat() {
    for (const column of columns) column.controller?.abort();
    const models = [$("pg-model").value];
    if ($("pg-compare").checked) models.push($("pg-model-b").value);
    const container = $("pg-columns");
    container.style.setProperty("--columns", models.length);
    container.replaceChildren();
    columns = models.map((model, index) => {
      const log = el("div", { className: "log" });
      const section = el("section", { className: "column" }, el("h2", { textContent: model || "(no model)" }), log);
      section.dataset.column = String(index);
      section.dataset.model = model;
      section.setAttribute("aria-label", `Conversation with ${model}`);
      container.append(section);
      return { model, history: [], previousResponseId: null, pendingTools: [], log, controller: null };
    });
    lastRequest = null;
    showCode();
  }

  function settings() {
    const maxTokens = parseInt($("pg-max-tokens").value, 10);
    let tools = null;
    const toolsText = $("pg-tools").value.trim();
    if (toolsText) {
      tools = JSON.parse(toolsText);  // a SyntaxError is shown to the person
      if (!Array.isArray(tools)) throw new Error("Tools must be a JSON array.");
    }
    return {
      mode: $("pg-mode").value, system: $("pg-system").value.trim(), reasoning: $("pg-reasoning").value,
      maxTokens: Number.isFinite(maxTokens) && maxTokens > 0 ? maxTokens : null, tools,
    };
  }

  function chatBody(column, s) {
    const messages = s.system ? [{ role: "system", content: s.system }] : [];
    const body = { model: column.model, messages: messages.concat(column.history), stream: true,
      stream_options: { include_usage: true } };
    if (s.maxTokens) body.max_tokens = s.maxTokens;
    if (s.reasoning) body.reasoning_effort = s.reasoning;
    if (s.tools) body.tools = s.tools;
    return body;
  }

  function responsesBody(column, s, input) {
    const body = { model: column.model, input, stream: true };
    if (s.system) body.instructions = s.system;
    if (column.previousResponseId) body.previous_response_id = column.previousResponseId;
    if (s.maxTokens) body.max_output_tokens = s.maxTokens;
    if (s.reasoning) body.reasoning = { effort: s.reasoning };
    if (s.tools) {
      body.tools = s.tools.map((t) => (t.function ? { type: "function", name: t.function.name,
        description: t.function.description, parameters: t.function.parameters } : t));
    }
    return body;
  }

  function request(column, s, input) {
    if (s.mode === "responses") return { path: "/responses", body: responsesBody(column, s, input) };
    return { path: "/chat/completions", body: chatBody(column, s) };
  }

  function send() {
    const text = $("pg-message").value.trim();
    if (!text || running) return;
    let s;
    try { s = settings(); } catch (error) { setStatus(`Tools: ${error.message}`); return; }
    $("pg-message").value = "";
    setStatus("");
    for (const column of columns) {
      column.log.append(el("div", { className: "turn user" }, el("div", { className: "who-label", textContent: "You" }),
        el("div", { className: "bubble", textContent: text })));
      column.history.push({ role: "user", content: text });
      runTurn(column, s, [{ role: "user", content: text }]);
    }
  }

  function sendToolResults(column, box) {
    let s;
    try { s = settings(); } catch (error) { setStatus(`Tools: ${error.message}`); return; }
    const input = [];
    for (const call of column.pendingTools) {
      const output = box.querySelector(`[data-call-id="${CSS.escape(call.id)}"]`).value;
      column.history.push({ role: "tool", tool_call_id: call.id, content: output });
      input.push({ type: "function_call_output", call_id: call.id, output });
    }
    column.pendingTools = [];
    box.querySelectorAll("textarea, button").forEach((node) => { node.disabled = true; });
    runTurn(column, s, input);
  }

  async function runTurn(column, s, input) {
    const { path, body } = request(column, s, input);
    lastRequest = { path, body };
    showCode();
    const turn = newTurn(column);
    const controller = new AbortController();
    column.controller = controller;
    running += 1;
    updateButtons();
    const started = performance.now();
    const state = { content: "", reasoningDeltas: 0, toolCalls: [], usage: null, ttft: null, outcome: "" };
    const first = () => { if (state.ttft === null) state.ttft = Math.round(performance.now() - started); };
    try {
      const response = await fetch(apiBase + path, {
        method: "POST", signal: controller.signal,
        headers: { Authorization: `Bearer ${await sessionToken()}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const error = await response.json().catch(() => ({}));
        throw new Error(error.error?.message || `HTTP ${response.status}`);
      }
      const handle = s.mode === "responses" ? onResponsesEvent : onChatChunk;
      for await (const event of serverSentEvents(response)) {
        if (event.data === "[DONE]") break;
        handle(JSON.parse(event.data), event.event, state, turn, column, first);
      }
    } catch (error) {
      state.outcome = error.name === "AbortError" ? "stopped" : "failed";
      if (error.name !== "AbortError") turn.error.textContent = error.message;
    } finally {
      running -= 1;
      column.controller = null;
      updateButtons();
    }
    if (s.mode !== "responses" && state.outcome !== "stopped") {
      const message = { role: "assistant", content: state.content || null };
      if (state.toolCalls.length) message.tool_calls = state.toolCalls;
      column.history.push(message);
    }
    finishTurn(column, turn, state);
  }

  function onChatChunk(chunk, _name, state, turn, _column, first) {
    if (chunk.error) throw new Error(chunk.error.message);
    const choice = (chunk.choices || [])[0];
    const delta = (choice && choice.delta) || {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (reasoning) { first(); addReasoning(turn, state, reasoning); }
    if (delta.content) { first(); state.content += delta.content; turn.answer.textContent = state.content; }
    for (const call of delta.tool_calls || []) {
      first();
      const slot = state.toolCalls[call.index] ||= { id: "", type: "function", function: { name: "", arguments: "" } };
      if (call.id) slot.id = call.id;
      if (call.function?.name) slot.function.name += call.function.name;
      if (call.function?.arguments) slot.function.arguments += call.function.arguments;
    }
    if (choice?.finish_reason) state.outcome = choice.finish_reason;
    if (chunk.usage) {
      state.usage = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens,
        reasoning: chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0 };
    }
  }

  function onResponsesEvent(data, name, state, turn, column, first) {
    const type = data.type || name;
    if (type === "response.reasoning_text.delta") { first(); addReasoning(turn, state, data.delta); }
    else if (type === "response.output_text.delta") { first(); state.content += data.delta; turn.answer.textContent = state.content; }
    else if (type === "response.output_item.done" && data.item?.type === "function_call") {
      first();
      state.toolCalls.push({ id: data.item.call_id, type: "function",
        function: { name: data.item.name, arguments: data.item.arguments } });
    } else if (["response.completed", "response.incomplete", "response.failed"].includes(type)) {
      const r = data.response || {};
      column.previousResponseId = r.id || column.previousResponseId;
      state.outcome = r.status || type.split(".")[1];
      if (r.error) turn.error.textContent = r.error.message;
      if (r.usage) {
        state.usage = { prompt: r.usage.input_tokens, completion: r.usage.output_tokens,
          reasoning: r.usage.output_tokens_details?.reasoning_tokens ?? 0 };
      }
    } else if (type === "error") {
      throw new Error(data.message || data.error?.message || "The stream failed.");
    }
  }

  async function* serverSentEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = null;
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: data.join("\n") };
      }
    }
  }

  function newTurn(column) {
    const count = el("span", { textContent: "0" });
    const reasoning = el("div");
    reasoning.dataset.role = "reasoning";
    const details = el("details", { className: "reasoning", hidden: true },
      el("summary", {}, "Reasoning · ", count, " tokens"), reasoning);
    const answer = el("div");
    answer.dataset.role = "assistant";
    const tools = el("div");
    const error = el("div", { className: "error", role: "alert" });
    const meta = el("div", { className: "turn-meta", textContent: "waiting…" });
    column.log.append(el("div", { className: "turn assistant" },
      el("div", { className: "who-label", textContent: column.model }), details, answer, tools, error, meta));
    return { details, count, reasoning, answer, tools, error, meta };
  }

  function addReasoning(turn, state, text) {
    state.reasoningDeltas += 1;
    turn.details.hidden = false;
    turn.reasoning.textContent += text;
    turn.count.textContent = String(state.reasoningDeltas);
  }

  function finishTurn(column, turn, state) {
    const parts = [];
    if (state.ttft !== null) parts.push(`TTFT ${state.ttft} ms`);
    if (state.usage) {
      parts.push(`prompt ${state.usage.prompt}`, `completion ${state.usage.completion}`, `reasoning ${state.usage.reasoning}`);
      turn.count.textContent = String(state.usage.reasoning || state.reasoningDeltas);
    }
    if (state.outcome) parts.push(state.outcome === "stopped" ? "stopped" : `finish: ${state.outcome}`);
    turn.meta.textContent = parts.join(" · ");
    turn.meta.dataset.outcome = state.outcome;
    if (state.toolCalls.length && state.outcome !== "stopped") showToolCalls(column, turn, state.toolCalls);
  }

  function showToolCalls(column, turn, calls) {
    column.pendingTools = calls;
    const box = el("div", { className: "tool-call" });
    calls.forEach((call, index) => {
      const id = `tool-${column.log.childElementCount}-${index}-${columns.indexOf(column)}`;
      const result = el("textarea", { id, rows: 2, className: "mono" });
      result.dataset.callId = call.id;
      const label = el("label", { htmlFor: id, textContent: `Result of ${call.function.name}` });
      box.append(el("div", { className: "who-label", textContent: "Tool call" }),
        el("pre", { textContent: `${call.function.name}(${call.function.arguments})` }), label, result);
    });
    const button = el("button", { type: "button", className: "button button-secondary", textContent: "Send result" });
    button.addEventListener("click", () => sendToolResults(column, box));
    box.append(el("div", { className: "actions" }, button));
    turn.tools.append(box);
  }

  function updateButtons() {
    $("pg-send").disabled = running > 0;
    $("pg-stop").disabled = running === 0;
    setStatus(running ? "Generating…" : $("pg-status").textContent.replace("Generating…", ""));
  }

  // --- View code ----------------------------------------------------------------------------

  function codeRequest() {
    if (lastRequest) return lastRequest;
    const column = columns[0];
    if (!column) return null;
    let s;
    try { s = settings(); } catch { return null; }
    const text = $("pg-message").value.trim() || "Hello!";
    const preview = { ...column, history: column.history.concat([{ role: "user", content: text }]) };
    return request(preview, s, [{ role: "user", content: text }]);
  }

  function python(value, indent) {
    const pad = "    ".repeat(indent + 1);
    const end = "    ".repeat(indent);
    if (value === null) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (Array.isArray(value)) {
      return value.length ? `[\n${value.map((v) => pad + python(v, indent + 1)).join(",\n")},\n${end}]` : "[]";
    }
    if (typeof value === "object") {
      const entries = Object.entries(value);
      return entries.length
        ? `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${python(v, indent + 1)}`).join(",\n")},\n${end}}` : "{}";
    }
    return JSON.stringify(value);
  }

  function codeFor(lang, req) {
    const json = JSON.stringify(req.body, null, 2);
    if (lang === "curl") {
      return `curl ${apiBase}${req.path} \\\n  -H "Authorization: Bearer $OARLOCK_API_KEY" \\\n` +
        `  -H "Content-Type: application/json" \\\n  -d '${json.replace(/'/g, "'\\''")}'`;
    }
    const method = req.path === "/responses" ? "responses.create" : "chat.completions.create";
    if (lang === "python") {
      const args = Object.entries(req.body).map(([k, v]) => `    ${k}=${python(v, 1)},`).join("\n");
      return `import os\n\nfrom openai import OpenAI\n\nclient = OpenAI(base_url="${apiBase}", api_key=os.environ["OARLOCK_API_KEY"])\n` +
        `stream = client.${method}(\n${args}\n)\nfor event in stream:\n    print(event)\n`;
    }
    return `import OpenAI from "openai";\n\nconst client = new OpenAI({ baseURL: "${apiBase}", apiKey: process.env.OARLOCK_API_KEY });\n` +
      `const stream = await client.${method}(${json});\nfor await (const event of stream) console.log(event);\n`;
  }

  function showCode() {
    const code = $("pg-code-text");
    const req = codeRequest();
    code.textContent = req ? codeFor(code.dataset.lang, req) : "";
  }

  document.querySelectorAll("#pg-code [role=tab]").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll("#pg-code [role=tab]").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    $("pg-code-text").dataset.lang = tab.dataset.lang;
    showCode();
  }));

  $("pg-send").addEventListener("click", send);
  $("pg-message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send();
  });
  $("pg-message").addEventListener("input", () => { if (!lastRequest) showCode(); });
  $("pg-stop").addEventListener("click", () => columns.forEach((column) => column.controller?.abort()));
  $("pg-new").addEventListener("click", newChat);
  $("pg-compare").addEventListener("change", () => { $("pg-model-b-field").hidden = !$("pg-compare").checked; newChat(); });
  for (const id of ["pg-model", "pg-model-b", "pg-mode"]) $(id).addEventListener("change", newChat);
  for (const id of ["pg-system", "pg-max-tokens", "pg-reasoning", "pg-tools"]) {
    $(id).addEventListener("input", () => { lastRequest = null; showCode(); });
  }
  loadModels();
})();
