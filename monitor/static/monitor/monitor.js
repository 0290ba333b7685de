// The live monitor: one websocket, rows keyed by request id, redrawn at most 4 times a second.
(function () {
  "use strict";
  const root = document.getElementById("monitor-root");
  if (!root) return;
  const myId = Number(root.dataset.userId);
  const isStaff = root.dataset.staff === "true";
  const status = document.getElementById("monitor-status");
  const live = new Map();      // request_id -> latest event, in flight
  const finished = [];         // latest first
  const FINISHED_KEPT = 50;
  let dirty = false;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/monitor/`);
    socket.addEventListener("open", () => setStatus("live", "ok"));
    socket.addEventListener("close", (event) => {
      setStatus(event.code === 4401 ? "signed out" : "reconnecting…", "warn");
      if (event.code !== 4401 && event.code !== 4403) setTimeout(connect, 1000);
    });
    socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
    window.oarlockMonitorSocket = socket;
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  function receive(message) {
    if (message.type === "events") {
      for (const event of message.events) {
        if (event.state === "finished") {
          live.delete(event.request_id);
          if (!finished.some((f) => f.request_id === event.request_id)) {
            finished.unshift(event);
            finished.length = Math.min(finished.length, FINISHED_KEPT);
          }
        } else if (!finished.some((f) => f.request_id === event.request_id)) {
          live.set(event.request_id, event);
        }
      }
      dirty = true;
    } else if (message.type === "cluster") {
      drawCluster(message.cluster);
    } else if (message.type === "cancel_refused") {
      setStatus("cancel refused", "warn");
    }
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined || text === "" ? "–" : String(text);
    if (className) td.className = className;
    return td;
  }

  function time(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function ms(value) {
    return value === null || value === undefined ? null : value >= 1000 ? (value / 1000).toFixed(1) + " s" : value + " ms";
  }

  function identity(row, e) {
    row.dataset.requestId = e.request_id;
    row.title = e.request_id;
    cell(row, time(e.started_at));
    cell(row, e.tenant);
    cell(row, e.key_prefix, "mono");
    cell(row, e.person);
    cell(row, e.model);
    cell(row, e.endpoint);
  }

  function drawLive() {
    const body = document.querySelector("#inflight-table tbody");
    body.replaceChildren();
    const rows = [...live.values()].sort((a, b) => a.started_at.localeCompare(b.started_at));
    for (const e of rows) {
      const row = body.insertRow();
      identity(row, e);
      cell(row, e.state, "state").dataset.state = e.state;
      cell(row, ms(e.ttft_ms), "num");
      cell(row, e.reasoning_tokens, "num").dataset.role = "reasoning-tokens";
      cell(row, e.content_tokens, "num").dataset.role = "content-tokens";
      cell(row, e.tokens_per_second, "num");
      const actions = row.insertCell();
      if (isStaff || e.owner_id === myId) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button button-small button-danger";
        button.textContent = "Cancel";
        button.setAttribute("aria-label", `Cancel request ${e.request_id}`);
        button.addEventListener("click", () => {
          window.oarlockMonitorSocket.send(JSON.stringify({ type: "cancel", request_id: e.request_id }));
          button.disabled = true;
          button.textContent = "Cancelling…";
        });
        actions.append(button);
      }
    }
    document.getElementById("inflight-empty").hidden = rows.length > 0;
  }

  function drawFinished() {
    const body = document.querySelector("#finished-table tbody");
    body.replaceChildren();
    for (const e of finished) {
      const row = body.insertRow();
      identity(row, e);
      cell(row, e.outcome, "outcome").dataset.outcome = e.outcome;
      cell(row, ms(e.ttft_ms), "num");
      cell(row, e.reasoning_tokens, "num");
      cell(row, e.content_tokens, "num");
      cell(row, e.tokens_per_second, "num");
      cell(row, ms(e.elapsed_ms), "num");
    }
    document.getElementById("finished-empty").hidden = finished.length > 0;
  }

  function drawModels() {
    const models = new Map();
    for (const e of live.values()) {
      const m = models.get(e.model || "(choosing)") || { count: 0, rate: 0 };
      m.count += 1;
      m.rate += e.tokens_per_second || 0;
      models.set(e.model || "(choosing)", m);
    }
    const body = document.querySelector("#model-table tbody");
    body.replaceChildren();
    for (const [model, m] of [...models.entries()].sort()) {
      const row = body.insertRow();
      row.dataset.model = model;
      cell(row, model);
      cell(row, m.count, "num");
      cell(row, m.rate.toFixed(1), "num");
    }
    document.getElementById("models-empty").hidden = models.size > 0;
  }

  function drawCluster(cluster) {
    const section = document.getElementById("cluster");
    section.hidden = false;
    const buffered = cluster.buffered_requests === null ? "unknown" : cluster.buffered_requests;
    document.getElementById("cluster-summary").textContent = cluster.reachable
      ? `${cluster.agents.length} agent(s), slots busy ${cluster.slots_busy} / ${cluster.slots_total}, buffered requests ${buffered}`
      : "The Paddler management service is not reachable.";
    const body = document.querySelector("#agent-table tbody");
    body.replaceChildren();
    for (const agent of cluster.agents) {
      const row = body.insertRow();
      cell(row, agent.name);
      cell(row, `${agent.slots_busy} / ${agent.slots_total}`, "num");
      cell(row, agent.issues ? `${agent.status} (${agent.issues} issue(s))` : agent.status);
    }
  }

  // Redraw on a clock, not per message: the page stays cheap however busy the cluster is.
  setInterval(() => {
    if (!dirty) return;
    dirty = false;
    drawLive();
    drawFinished();
    drawModels();
  }, 250);
  connect();
})();
