/* Admin console: review inbox, labelling with entity spans, training data diff, training with
 * live progress, candidate evaluation, activation, rollback and model history.
 *
 * Sign-in: OAuth2 password flow (POST /api/auth/token), the bearer token kept in this tab's
 * sessionStorage. Data: /api/admin/* (JSON). Confusion matrices are PNGs fetched with the
 * token and shown as data: URLs (the page's CSP allows no other image source). Text from the
 * server is only ever set as text.
 */
"use strict";

(() => {
  const {h} = UI;
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "admin.token";
  const USER_KEY = "admin.user";
  const ENTITY_KEYS = {account_number: "a", date_of_birth: "b", postcode: "p", plan: "l", amount: "m", date: "d"};
  const REASON_TEXT = {fallback: "not understood", out_of_scope: "out of scope",
                       low_confidence: "low confidence", handed_off: "before a handoff"};

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    user: JSON.parse(sessionStorage.getItem(USER_KEY) || "null"),
    tab: "inbox", intents: [], newIntents: [], entities: [], groups: [], models: null,
    job: null, jobTimer: null, shown: null, perIntentSet: "heldout", matrixWhich: "candidate",
  };

  // ---------------------------------------------------------------- helpers
  const pct = (v, digits = 1) => (v === null || v === undefined) ? "–" : `${(100 * v).toFixed(digits)}%`;
  const f1 = (v) => (v === null || v === undefined) ? "–" : v.toFixed(3);
  const signed = (v, scale = 100, digits = 1, unit = " pts") => (v === null || v === undefined) ? "–"
    : `${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(scale * v).toFixed(digits)}${unit}`;
  const when = (iso) => iso ? new Date(iso).toLocaleString("en-GB", {day: "numeric", month: "short",
                                                                      hour: "2-digit", minute: "2-digit"}) : "–";
  const secs = (v) => (v === null || v === undefined) ? "–" : `${Math.round(v)} s`;

  class ApiError extends Error {
    constructor(status, body) {
      const detail = body && body.detail;
      super(typeof detail === "string" ? detail
        : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : `request failed (${status})`);
      this.status = status;
    }
  }

  async function api(path, {method = "GET", json, form, raw = false} = {}) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = new URLSearchParams(form);
    }
    const response = await fetch(path, {method, headers, body});
    if (response.status === 401 && state.token) signOut("Your session has ended. Please sign in again.");
    if (response.status === 403) forbidden();
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
    return raw ? response : response.json();
  }

  function toast(text, kind = "info") {
    const el = h("div", {class: `toast ${kind}`}, text);
    $("toasts").append(el);
    setTimeout(() => el.remove(), 7000);
  }

  // ---------------------------------------------------------------- sign in / out
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("username").value.trim(), password = $("password").value;
    $("login-error").textContent = "";
    if (!username || !password) {
      $("login-error").textContent = "Enter your username and password.";
      return;
    }
    $("login-button").disabled = true;
    try {
      const data = await api("/api/auth/token", {method: "POST", form: {username, password}});
      state.token = data.access_token;
      state.user = {username: data.username, role: data.role};
      sessionStorage.setItem(TOKEN_KEY, state.token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(state.user));
      $("password").value = "";
      start();
    } catch (error) {
      $("login-error").textContent = error.status === 401 ? "Wrong username or password." : error.message;
      $("password").focus();
    } finally {
      $("login-button").disabled = false;
    }
  });

  $("logout").addEventListener("click", () => signOut(""));

  function signOut(message) {
    state.token = null;
    state.user = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    stopPolling();
    $("app").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("username").focus();
  }

  function forbidden() {
    $("forbidden").hidden = false;
    for (const id of ["inbox", "data", "models"]) $(id).hidden = true;
    document.querySelector(".tabs").hidden = true;
    document.body.dataset.forbidden = "true";
  }

  async function start() {
    $("login-view").hidden = true;
    $("app").hidden = false;
    $("me").textContent = `${state.user.username} (${state.user.role})`;
    document.body.dataset.role = state.user.role;
    if (state.user.role !== "admin") {
      forbidden();
      return;
    }
    $("forbidden").hidden = true;
    document.querySelector(".tabs").hidden = false;
    showTab((location.hash || "#inbox").slice(1));
    try {
      const data = await api("/api/admin/intents");
      state.intents = data.intents;
      state.newIntents = data.new_intents;
      state.entities = data.entities;
    } catch (error) {
      toast(error.message, "bad");
    }
    await Promise.all([loadInbox(), loadData(), loadModels(), loadJob()]);
    document.body.dataset.ready = "true";
  }

  // ---------------------------------------------------------------- tabs
  function showTab(name) {
    if (!["inbox", "data", "models"].includes(name)) name = "inbox";
    state.tab = name;
    for (const tab of document.querySelectorAll(".tab[data-tab]")) {
      const selected = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(tab.dataset.tab).hidden = !selected;
    }
    if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  }

  for (const tab of document.querySelectorAll(".tab[data-tab]")) {
    tab.addEventListener("click", () => {
      showTab(tab.dataset.tab);
      if (tab.dataset.tab === "data") loadData();
      if (tab.dataset.tab === "models") loadModels();
      if (tab.dataset.tab === "inbox") loadInbox();
    });
  }
  window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));

  // ---------------------------------------------------------------- inbox
  $("inbox-form").addEventListener("submit", (event) => { event.preventDefault(); loadInbox(); });
  for (const id of ["filter-lang", "filter-reason", "filter-sort"]) $(id).addEventListener("change", loadInbox);

  async function loadInbox() {
    const params = new URLSearchParams();
    if ($("filter-lang").value) params.set("lang", $("filter-lang").value);
    if ($("filter-reason").value) params.set("reason", $("filter-reason").value);
    params.set("sort", $("filter-sort").value);
    try {
      const data = await api(`/api/admin/inbox?${params}`);
      state.groups = data.groups;
      renderInbox(data);
    } catch (error) {
      if (error.status !== 403) toast(error.message, "bad");
    }
  }

  function renderInbox(data) {
    const coverage = data.coverage || {};
    const known = (coverage.bot || 0) + (coverage.parse || 0);
    $("inbox-summary").textContent = `${data.messages} message${data.messages === 1 ? "" : "s"} in `
      + `${data.groups.length} group${data.groups.length === 1 ? "" : "s"} · NLU result on ${known} of `
      + `${coverage.customer_messages || 0} customer messages · low confidence below ${pct(data.threshold, 0)}`;
    $("logging-off").hidden = data.logging;
    $("inbox-count").textContent = data.groups.length ? String(data.groups.length) : "";
    const list = $("groups");
    list.replaceChildren(...data.groups.map(groupItem));
    $("inbox-empty").hidden = data.groups.length > 0;
  }

  function rankingText(ranking) {
    return (ranking || []).slice(0, 3).map((r) => `${r.name} ${pct(r.confidence, 0)}`).join(" · ");
  }

  function groupItem(group) {
    const rep = group.representative;
    const reasons = Object.keys(group.reasons).map((r) =>
      h("span", {class: `pill ${r === "fallback" || r === "out_of_scope" ? "warn" : "info"}`}, REASON_TEXT[r] || r));
    const item = h("li", {class: "group", dataset: {groupId: group.id, text: rep.text, messageIds: group.message_ids.join(",")}},
      h("div", {class: "group-main"},
        h("p", {class: "group-text", lang: group.lang}, `“${rep.text}”`),
        h("div", {class: "group-meta"},
          h("span", {class: "pill"}, group.lang.toUpperCase()),
          h("span", {class: "pill info", title: "messages in this group"}, `× ${group.count}`),
          group.distinct_texts > 1 ? h("span", {class: "muted small"}, `${group.distinct_texts} different texts`) : null,
          ...reasons,
          h("span", {class: "muted small"}, `last ${when(group.last_at)}`)),
        h("p", {class: "prediction"},
          h("span", {class: "muted"}, "Bot understood: "),
          h("strong", {}, rep.intent || "–"), ` ${pct(rep.confidence, 0)}`,
          rep.ranking && rep.ranking.length ? h("span", {class: "muted small"}, ` (guesses: ${rankingText(rep.ranking)})`) : null),
        group.suggestions && group.suggestions.length
          ? h("p", {class: "suggestions"}, group.suggestions.map((s) =>
            h("span", {class: "pill ok"}, `${s.by} suggests ${s.intent}${s.note ? `: ${s.note}` : ""}`)))
          : null,
        group.count > 1 ? h("details", {class: "members"},
          h("summary", {}, `Show the ${Math.min(group.count, group.messages.length)} latest messages`),
          h("ul", {}, group.messages.map((m) => h("li", {},
            h("span", {lang: m.lang}, m.text), h("span", {class: "muted small"},
              ` ${m.intent || "–"} ${pct(m.confidence, 0)} · ${when(m.at)}`))))) : null),
      h("div", {class: "group-actions"},
        h("button", {type: "button", class: "btn small", "aria-label": `Label “${rep.text}”`,
                     onclick: () => openEditor(item, group)}, "Label…")));
    return item;
  }

  // ---------------------------------------------------------------- label editor
  function openEditor(item, group) {
    document.querySelectorAll(".label-editor").forEach((el) => el.remove());
    const rep = group.representative;
    const spans = [];
    const guess = (rep.ranking || []).map((r) => r.name).find((n) => state.intents.includes(n) || state.newIntents.includes(n));
    const text = h("input", {id: "label-text", value: rep.text, maxlength: "300", autocomplete: "off",
                             "aria-describedby": "label-text-hint"});
    const chips = h("div", {class: "chips", id: "label-spans", "aria-live": "polite"});
    const preview = h("code", {class: "preview", id: "label-preview"});
    const allIntents = [...state.intents, ...state.newIntents.map((n) => n)];
    const select = h("select", {id: "label-intent"}, allIntents.map((name) =>
      h("option", {value: name, selected: name === guess}, state.newIntents.includes(name) ? `${name} (new)` : name)));
    const newName = h("input", {id: "label-new-intent", placeholder: "e.g. ask_refund", pattern: "[a-z][a-z0-9_]{2,62}",
                                autocomplete: "off", disabled: true});
    const kindRadio = (value, label, checked) => h("label", {class: "check"},
      h("input", {type: "radio", name: "label-kind", value, checked}), ` ${label}`);
    const others = group.message_ids.length - 1;
    const applyAll = others > 0 ? h("label", {class: "check"},
      h("input", {type: "checkbox", id: "label-all", checked: true}),
      ` Also label the ${others} other message${others === 1 ? "" : "s"} of this group`) : null;
    const error = h("p", {class: "form-error", role: "alert", id: "label-error"});

    function renderSpans() {
      chips.replaceChildren(...spans.map((span, index) => h("span", {class: "chip", dataset: {entity: span.entity}},
        `${text.value.slice(span.start, span.end)} → ${span.entity}`,
        h("button", {type: "button", class: "chip-remove", "aria-label": `Remove ${span.entity}`,
                     onclick: () => { spans.splice(index, 1); renderSpans(); }}, "×"))));
      let out = "", last = 0;
      for (const span of [...spans].sort((a, b) => a.start - b.start)) {
        out += text.value.slice(last, span.start) + `[${text.value.slice(span.start, span.end)}](${span.entity})`;
        last = span.end;
      }
      preview.textContent = out + text.value.slice(last);
    }

    function mark(entity) {
      error.textContent = "";
      let start = text.selectionStart, end = text.selectionEnd;
      const value = text.value;
      while (start < end && value[start] === " ") start += 1;
      while (end > start && value[end - 1] === " ") end -= 1;
      if (start === null || start >= end) {
        error.textContent = "Select part of the example text first, then choose the entity.";
        text.focus();
        return;
      }
      if (spans.some((s) => start < s.end && s.start < end)) {
        error.textContent = "That overlaps an entity already marked; remove it first.";
        return;
      }
      spans.push({start, end, entity});
      renderSpans();
    }

    text.addEventListener("input", () => {
      if (spans.length) {
        spans.length = 0;
        error.textContent = "The text changed, so the marked entities were cleared.";
      }
      renderSpans();
    });

    const form = h("form", {class: "label-editor", "aria-label": `Label “${rep.text}”`},
      h("label", {for: "label-text"}, "Example text"),
      text,
      h("p", {class: "hint muted small", id: "label-text-hint"},
        "Edit it if needed (no real personal data: masked parts must be replaced by made-up values). ",
        "To mark an entity, select it in the text and press its button."),
      h("div", {class: "entity-buttons", role: "group", "aria-label": "Mark the selection as"},
        state.entities.map((entity) => h("button", {type: "button", class: "btn secondary small",
          dataset: {entity}, title: `Mark the selected text as ${entity}`,
          onmousedown: (event) => event.preventDefault(),  // keep the selection in the text box
          onclick: () => mark(entity)}, entity))),
      chips,
      h("p", {class: "small"}, h("span", {class: "muted"}, "Training example: "), preview),
      h("fieldset", {class: "kinds"},
        h("legend", {}, "Label as"),
        kindRadio("intent", "Existing intent", true),
        h("label", {for: "label-intent", class: "sr-only"}, "Intent"), select,
        kindRadio("new_intent", "New intent", false),
        h("label", {for: "label-new-intent", class: "sr-only"}, "New intent name"), newName,
        kindRadio("noise", "Noise (not training data)", false)),
      applyAll,
      error,
      h("div", {class: "editor-actions"},
        h("button", {type: "submit", class: "btn"}, "Save label"),
        h("button", {type: "button", class: "btn secondary", onclick: () => form.remove()}, "Cancel")));

    form.addEventListener("change", (event) => {
      if (event.target.name === "label-kind") {
        select.disabled = event.target.value !== "intent";
        newName.disabled = event.target.value !== "new_intent";
        if (!newName.disabled) newName.focus();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const kind = form.querySelector("input[name='label-kind']:checked").value;
      const ids = applyAll && $("label-all").checked ? group.message_ids : [rep.id];
      const body = {message_ids: ids, kind, text: text.value.trim(),
                    intent: kind === "intent" ? select.value : kind === "new_intent" ? newName.value.trim() : null,
                    entities: kind === "noise" ? [] : spans};
      // spans were measured on the untrimmed text
      const lead = text.value.length - text.value.trimStart().length;
      body.entities = body.entities.map((s) => ({...s, start: s.start - lead, end: s.end - lead}));
      const button = form.querySelector("button[type='submit']");
      button.disabled = true;
      try {
        const result = await api("/api/admin/labels", {method: "POST", json: body});
        const label = result.labels[0];
        toast(kind === "noise" ? "Marked as noise" : `Labelled as ${label.intent}`, "ok");
        if (result.skipped.length) toast(`${result.skipped.length} similar message(s) were not added as examples: ${result.skipped[0].reason}`);
        if (kind === "new_intent" && !state.newIntents.includes(body.intent)) state.newIntents.push(body.intent);
        item.remove();
        state.groups = state.groups.filter((g) => g.id !== group.id);
        $("inbox-count").textContent = state.groups.length ? String(state.groups.length) : "";
        $("inbox-empty").hidden = state.groups.length > 0;
        loadData();
      } catch (err) {
        error.textContent = err.message;
      } finally {
        button.disabled = false;
      }
    });
    item.append(form);
    renderSpans();
    text.focus();
  }

  // ---------------------------------------------------------------- training data
  async function loadData() {
    try {
      const [data, labels] = await Promise.all([api("/api/admin/dataset"), api("/api/admin/labels")]);
      renderData(data, labels);
    } catch (error) {
      if (error.status !== 403) toast(error.message, "bad");
    }
  }

  function diffView(text) {
    if (!text) return [h("span", {class: "muted"}, "Nothing to change: the reviewed files already hold every label.")];
    return text.split("\n").map((line) => h("span", {
      class: line.startsWith("+++") || line.startsWith("---") ? "d-file"
        : line.startsWith("+") ? "d-add" : line.startsWith("-") ? "d-del" : line.startsWith("@@") ? "d-hunk" : "d-ctx",
    }, line + "\n"));
  }

  function renderData(data, labels) {
    const parts = [];
    for (const [lang, s] of Object.entries(data.languages)) {
      parts.push(h("div", {class: "kpi", dataset: {lang}},
        h("div", {class: "kpi-label"}, lang === "en" ? "English" : "Dutch"),
        h("div", {class: "kpi-value"}, `+${s.added.length}`),
        h("div", {class: "kpi-note"}, `${s.moved.length} moved · ${s.removed.length} removed · ${s.examples} examples in all`)));
    }
    $("data-summary").replaceChildren(...parts);
    const fresh = Object.entries(data.languages).flatMap(([lang, s]) => s.new_intents.map((i) => `${i} (${lang})`));
    $("new-intents").hidden = fresh.length === 0;
    $("new-intents").textContent = fresh.length ? `New intents: ${fresh.join(", ")}. The model learns to recognise them, `
      + "but the bot has no rule or response for them yet: it answers with its fallback until a developer adds "
      + "them to bot/domain and bot/data/rules." : "";
    $("diff").replaceChildren(...diffView(data.diff));
    $("diff").dataset.pending = String(data.pending);
    $("data-count").textContent = data.pending ? String(data.pending) : "";
    const rows = labels.map((label) => h("tr", {dataset: {labelId: label.id, status: label.status}},
      h("td", {class: "example", lang: label.language}, label.example || label.text),
      h("td", {}, label.status === "deleted" ? h("span", {class: "pill"}, "deleted")
        : label.kind === "noise" ? h("span", {class: "pill"}, "noise")
          : h("span", {class: `pill ${label.kind === "new_intent" ? "warn" : "info"}`}, label.intent)),
      h("td", {}, label.language),
      h("td", {}, String(label.message_count)),
      h("td", {}, label.updated_by || label.created_by),
      h("td", {}, when(label.updated_at)),
      h("td", {}, label.status === "deleted" ? "" : h("button", {type: "button", class: "btn danger small",
        "aria-label": `Delete the label of “${label.text}”`, onclick: () => deleteLabel(label)}, "Delete"))));
    $("labels").querySelector("tbody").replaceChildren(...rows);
    $("labels-empty").hidden = labels.length > 0;
  }

  async function deleteLabel(label) {
    try {
      await api(`/api/admin/labels/${label.id}`, {method: "DELETE"});
      toast("Label deleted; its messages are back in the inbox", "ok");
      await Promise.all([loadData(), loadInbox()]);
    } catch (error) {
      toast(error.message, "bad");
    }
  }

  $("train").addEventListener("click", async () => {
    $("train").disabled = true;
    try {
      state.job = await api("/api/admin/training", {method: "POST"});
      toast(`Training ${state.job.name} started`, "ok");
      showTab("models");
      renderJob();
      pollJob();
    } catch (error) {
      toast(error.message, "bad");
      $("train").disabled = false;
      if (error.status === 409) loadJob();
    }
  });

  // ---------------------------------------------------------------- job (live progress)
  async function loadJob() {
    try {
      state.job = await api("/api/admin/training");
      renderJob();
      if (state.job && state.job.running) pollJob();
    } catch (error) {
      if (error.status !== 403) toast(error.message, "bad");
    }
  }

  function stopPolling() {
    if (state.jobTimer) clearTimeout(state.jobTimer);
    state.jobTimer = null;
  }

  function pollJob() {
    stopPolling();
    state.jobTimer = setTimeout(async () => {
      try {
        const job = await api(`/api/admin/training/${state.job.id}`);
        const finished = state.job.running && !job.running;
        state.job = job;
        renderJob();
        if (job.running) {
          pollJob();
        } else if (finished) {
          toast(job.status === "failed" ? `${job.name} failed; the live model is unchanged` : `${job.name} is ready`,
                job.status === "failed" ? "bad" : "ok");
          await loadModels();
        }
      } catch (error) {
        if (error.status !== 401 && error.status !== 403) pollJob();
      }
    }, 1000);
  }

  function renderJob() {
    const job = state.job;
    $("job").hidden = !job;
    $("train").disabled = Boolean(job && job.running);
    $("job-badge").textContent = job && job.running ? "training" : "";
    if (!job) return;
    $("job").dataset.status = job.status;
    $("job").dataset.name = job.name;
    $("job-title").textContent = job.running ? `Training ${job.name}` : `Last training: ${job.name}`;
    $("job-status").textContent = job.status;
    $("job-status").className = `pill ${job.status === "failed" ? "bad" : job.running ? "info" : "ok"}`;
    $("job-progress").value = job.progress || 0;
    $("job-progress").textContent = pct(job.progress, 0);
    const elapsed = job.running ? ` · ${Math.round((Date.now() - new Date(job.created_at)) / 1000)} s` : "";
    $("job-phase").textContent = `${job.phase || ""} · ${pct(job.progress, 0)}${elapsed}`
      + (job.train_seconds ? ` · trained in ${secs(job.train_seconds)}` : "")
      + (job.eval_seconds ? `, evaluated in ${secs(job.eval_seconds)}` : "");
    $("job-error").hidden = !job.error;
    $("job-error").replaceChildren(...(job.error ? [h("strong", {}, "Training failed. The live model and the data are unchanged."),
                                                    h("pre", {}, job.error)] : []));
    $("job-log").textContent = job.log_tail || "";
  }

  // ---------------------------------------------------------------- models
  async function loadModels() {
    try {
      state.models = await api("/api/admin/models");
      renderModels();
    } catch (error) {
      if (error.status !== 403) toast(error.message, "bad");
    }
  }

  function renderModels() {
    const m = state.models;
    const live = m.live;
    const liveParts = [h("div", {class: "card-head"}, h("h3", {}, "Live model"),
      live ? h("span", {class: "pill ok"}, "live") : h("span", {class: "pill bad"}, "Rasa does not answer"))];
    if (live) {
      liveParts.push(h("p", {class: "live-name"}, h("strong", {id: "live-name"}, live.name),
        h("span", {class: "muted"}, live.origin === "external" ? " · the model Rasa was started with"
          : ` · trained by ${live.created_by} ${when(live.created_at)}`),
        live.activated_by ? h("span", {class: "muted"}, ` · activated by ${live.activated_by} ${when(live.activated_at)}`) : null));
    }
    if (m.rollback_to) {
      liveParts.push(h("button", {type: "button", class: "btn secondary", id: "rollback",
                                  onclick: () => rollback(m.rollback_to)}, `Roll back to ${m.rollback_to.name}`));
    }
    $("live").replaceChildren(...liveParts);
    $("live").dataset.name = live ? live.name : "";
    // the candidate: the newest evaluated model that is not live, or the one picked in the history
    const candidate = (state.shown && m.models.find((x) => x.id === state.shown))
      || m.models.find((x) => x.status === "candidate");
    if (candidate) showEvaluation(candidate.id); else $("evaluation").hidden = true;
    $("history").querySelector("tbody").replaceChildren(...m.models.map(historyRow));
    $("activations").querySelector("tbody").replaceChildren(...m.activations.map((a) => h("tr", {},
      h("td", {}, when(a.at)), h("td", {}, a.action), h("td", {}, a.model || String(a.model_id)),
      h("td", {}, a.previous || "–"), h("td", {}, a.by), h("td", {}, a.seconds === null ? "–" : `${a.seconds.toFixed(1)} s`),
      h("td", {}, a.ok ? (a.override_reason ? `ok (override: ${a.override_reason})` : "ok") : `failed: ${a.error || ""}`))));
  }

  function historyRow(model) {
    const f = model.figures || {};
    const canActivate = ["candidate", "retired", "external"].includes(model.status);
    const statusClass = {active: "ok", failed: "bad", candidate: "info", training: "info", evaluating: "info"}[model.status] || "";
    return h("tr", {dataset: {modelId: model.id, status: model.status}},
      h("td", {}, model.name), h("td", {}, h("span", {class: `pill ${statusClass}`}, model.status)),
      h("td", {}, model.created_by), h("td", {}, when(model.created_at)), h("td", {}, secs(model.train_seconds)),
      h("td", {}, f1(f["heldout.macro_f1"])), h("td", {}, pct(f["shared.in_scope_accuracy"])),
      h("td", {}, pct(f["shared.out_of_scope_recall"])), h("td", {}, f.stories || "–"),
      h("td", {}, model.verdict || "–"),
      h("td", {}, model.activated_by ? `${model.activated_by} ${when(model.activated_at)}` : "–"),
      h("td", {class: "actions"},
        model.verdict ? h("button", {type: "button", class: "btn secondary small", "aria-label": `Show the evaluation of ${model.name}`,
                                     onclick: () => { state.shown = model.id; showEvaluation(model.id); }}, "Evaluation") : null,
        canActivate ? h("button", {type: "button", class: "btn small",
          "aria-label": `Activate ${model.name}`, onclick: () => { state.shown = model.id; showEvaluation(model.id, true); }},
        "Activate…") : null));
  }

  async function showEvaluation(modelId, focus = false) {
    let model;
    try {
      model = await api(`/api/admin/models/${modelId}`);
    } catch (error) {
      toast(error.message, "bad");
      return;
    }
    const report = model.metrics;
    const box = $("evaluation");
    box.hidden = false;
    box.dataset.modelId = model.id;
    box.dataset.verdict = model.verdict || "";
    box.dataset.status = model.status;
    $("evaluation-title").textContent = report && report.base && report.base.name
      ? `${model.name} against ${report.base.name}` : model.name;
    $("verdict").textContent = model.verdict ? `${model.verdict} than the live model`.replace("same than", "same as")
      .replace("unknown than the live model", "not compared") : model.status;
    $("verdict").className = `pill ${model.verdict === "worse" ? "bad" : model.verdict === "better" ? "ok" : "info"}`;
    $("verdict-reasons").replaceChildren(...((report && report.reasons) || []).map((r) => h("li", {}, r)));
    if (report) {
      const rows = report.headline.map((row) => h("tr", {dataset: {figure: `${row.set}.${row.figure}`}},
        h("td", {}, row.label), h("td", {}, pct(row.base)), h("td", {}, pct(row.candidate)),
        h("td", {class: row.delta > 0.0005 ? "pos" : row.delta < -0.0005 ? "neg" : ""}, signed(row.delta))));
      const stories = report.stories || {};
      if (stories.candidate) {
        const s = (x) => x ? `${x.stories_correct}/${x.stories_total}${x.passed ? " ✓" : " ✗"}` : "–";
        rows.push(h("tr", {dataset: {figure: "stories"}}, h("td", {}, "test stories (rasa test core)"),
          h("td", {}, s(stories.base)), h("td", {}, s(stories.candidate)), h("td", {}, "")));
      } else if (stories.skipped) {
        rows.push(h("tr", {}, h("td", {}, "test stories"), h("td", {colspan: "3", class: "muted"}, `not run: ${stories.skipped}`)));
      }
      $("headline").querySelector("tbody").replaceChildren(...rows);
      const labels = report.labels;
      $("labels-check").replaceChildren(...(labels ? [
        h("p", {}, h("strong", {}, `Labelled examples understood: ${labels.candidate_understood} of ${labels.n}`),
          labels.base_understood === null ? "" : ` (live model: ${labels.base_understood})`),
        h("details", {}, h("summary", {}, "Show them"), h("ul", {class: "flips"}, labels.examples.map((e) =>
          h("li", {}, h("span", {lang: e.lang}, `“${e.text}” `), h("span", {class: "muted small"},
            `${e.intent}: live ${e.base || "–"}, candidate ${e.candidate}`)))))] : []));
      renderPerIntent(report);
      const allFlips = Object.values(report.flips || {});
      const flipItems = (key) => allFlips.flatMap((f) => f[key]).slice(0, 12).map((e) =>
        h("li", {}, h("span", {lang: e.lang}, `“${e.text}” `),
          h("span", {class: "muted small"}, `${e.gold}: ${e.base} → ${e.candidate}`)));
      const fixed = flipItems("fixed"), broken = flipItems("broken");
      $("fixed").replaceChildren(...(fixed.length ? fixed : [h("li", {class: "muted"}, "none")]));
      $("broken").replaceChildren(...(broken.length ? broken : [h("li", {class: "muted"}, "none")]));
      loadMatrix(model.id);
    }
    const activatable = ["candidate", "retired", "external"].includes(model.status);
    $("activate-form").hidden = !activatable;
    $("override-box").hidden = model.verdict !== "worse";
    $("override").checked = false;
    $("override-reason").value = "";
    $("activate-error").textContent = "";
    $("activate").textContent = model.verdict === "worse" ? `Activate ${model.name} anyway` : `Activate ${model.name}`;
    if (focus) $("activate").focus();
  }

  function renderPerIntent(report) {
    const set = $("intent-set").value;
    const rows = report.per_intent.filter((r) => r.set === set)
      .sort((a, b) => (a.delta ?? 0) - (b.delta ?? 0) || a.intent.localeCompare(b.intent));
    $("per-intent").querySelector("tbody").replaceChildren(...rows.map((r) => h("tr", {dataset: {intent: r.intent}},
      h("td", {}, r.intent), h("td", {}, f1(r.base)), h("td", {}, f1(r.candidate)),
      h("td", {class: r.delta > 0.0005 ? "pos" : r.delta < -0.0005 ? "neg" : ""}, signed(r.delta, 1, 3, "")),
      h("td", {}, String(r.support)))));
  }

  $("intent-set").addEventListener("change", () => {
    const id = Number($("evaluation").dataset.modelId);
    if (id) showEvaluation(id);
  });
  $("matrix-which").addEventListener("change", () => loadMatrix(Number($("evaluation").dataset.modelId)));

  async function loadMatrix(modelId) {
    const set = $("intent-set").value, which = $("matrix-which").value;
    const img = $("matrix");
    img.alt = `Confusion matrix of the ${which === "base" ? "live model" : "candidate"} on ${set === "heldout" ? "the held-out split" : "../shared/eval"}`;
    try {
      const response = await api(`/api/admin/models/${modelId}/confusion?set=${set}&which=${which}`, {raw: true});
      const blob = await response.blob();
      const url = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = reject;
        reader.readAsDataURL(blob);
      });
      img.src = url;
      img.dataset.loaded = `${set}-${which}`;
      img.hidden = false;
    } catch (error) {
      img.hidden = true;
    }
  }

  $("override").addEventListener("change", () => { if ($("override").checked) $("override-reason").focus(); });

  $("activate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = Number($("evaluation").dataset.modelId);
    const worse = $("evaluation").dataset.verdict === "worse";
    $("activate-error").textContent = "";
    if (worse && (!$("override").checked || !$("override-reason").value.trim())) {
      $("activate-error").textContent = "This model is worse than the live one: tick the override and give a reason.";
      return;
    }
    $("activate").disabled = true;
    const label = $("activate").textContent;
    $("activate").textContent = "Activating… (Rasa loads the model)";
    try {
      const result = await api(`/api/admin/models/${id}/activate`, {method: "POST",
        json: worse ? {override: true, reason: $("override-reason").value.trim()} : {}});
      toast(`${result.name} is live (loaded in ${result.seconds.toFixed(1)} s)`, "ok");
      state.shown = null;
      await Promise.all([loadModels(), loadData()]);
    } catch (error) {
      $("activate-error").textContent = error.message;
    } finally {
      $("activate").disabled = false;
      $("activate").textContent = label;
    }
  });

  async function rollback(target) {
    const button = $("rollback");
    button.disabled = true;
    button.textContent = `Rolling back to ${target.name}…`;
    try {
      const result = await api("/api/admin/rollback", {method: "POST"});
      toast(`Rolled back: ${result.name} is live again`, "ok");
      await Promise.all([loadModels(), loadData()]);
    } catch (error) {
      toast(error.message, "bad");
      button.disabled = false;
      button.textContent = `Roll back to ${target.name}`;
    }
  }

  // keyboard shortcuts inside the label editor: Alt+letter marks the selection
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.target.id !== "label-text") return;
    const entity = Object.keys(ENTITY_KEYS).find((k) => ENTITY_KEYS[k] === event.key.toLowerCase());
    if (entity) {
      event.preventDefault();
      const button = document.querySelector(`.label-editor .entity-buttons button[data-entity='${entity}']`);
      if (button) button.click();
    }
  });

  if (state.token && state.user) start();
})();
