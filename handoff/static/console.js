/* Agent console.
 *
 * Sign-in: OAuth2 password flow (POST /api/auth/token), the bearer token kept in this tab's
 * sessionStorage. Live: the WebSocket /api/agents/ws?token=… sends {"type":"queue_changed"}
 * (the lists are fetched again), {"type":"concessions_changed"} and, for the conversation we
 * watch ({"watch": id}), {"type":"message"}. While it is down the lists are polled.
 */
"use strict";

(() => {
  const {h, richText, randomHex, money, parseAmount, time, date, minutesSince, wsUrl, ButtonTitles} = UI;
  const $ = (id) => document.getElementById(id);

  const TOKEN_KEY = "console.token";
  const USER_KEY = "console.user";
  const PRESENCE_KEY = "console.presence";
  const POLL_MS = 5000;

  const KIND_NAMES = {
    goodwill_credit: "Goodwill credit", late_fee_waiver: "Late-fee waiver",
    retention_discount: "Retention discount",
  };
  const REASONS = {
    goodwill_credit: [["bill_shock", "Bill shock"], ["service_issue", "Service issue"],
                      ["agent_goodwill", "Goodwill"]],
    late_fee_waiver: [["late_fee", "Late fee waived"]],
    retention_discount: [["retention_offer", "Retention offer"], ["price", "Price complaint"]],
  };
  const NOT_ELIGIBLE = {
    tenure_too_short: "customer too recent", no_churn_risk: "only when the customer threatens to leave",
    granted_recently: "granted recently", no_late_fee: "no late fee on the latest bill",
    no_bill_shock: "no bill shock", no_active_plan: "no active plan", not_found: "not available",
  };
  const FLAG_CLASS = {cancel_threat: "bad", complaint: "warn", verification_failed: "warn",
                      bot_unavailable: "warn", bereavement: "warn", payment_missing: "warn",
                      moving_abroad: "info"};
  const STATUS_CLASS = {granted: "ok", pending_approval: "warn", rejected: "bad"};
  const STATUS_TEXT = {granted: "granted", pending_approval: "waiting for approval", rejected: "rejected"};

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    user: JSON.parse(sessionStorage.getItem(USER_KEY) || "null"),
    presence: sessionStorage.getItem(PRESENCE_KEY) || "offline",
    ws: null, wsAttempts: 0, pollTimer: null, refreshTimer: null,
    open: null,          // the handoff detail on screen
    watched: new Set(),  // conversation ids the staff WebSocket follows
    unread: new Set(),   // my conversations with customer messages I have not opened
    drafts: new Map(),   // conversation id -> a reply not sent yet
    lastSeq: 0,
    titles: new ButtonTitles(),
    canned: [], cannedLang: "en",
    account: null, options: [], concessions: [],
    idempotencyKey: null,
  };

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, body) {
      super(typeof body.detail === "string" ? body.detail : `request failed (${status})`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, {method = "GET", json, form} = {}) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    let body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (form) body = new URLSearchParams(form);
    const response = await fetch(path, {method, headers, body});
    const data = await response.json().catch(() => ({}));
    if (response.status === 401 && state.token) {
      signOut("Your session has ended. Please sign in again.");
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function toast(text, kind = "info") {
    const el = h("div", {class: `toast ${kind}`}, text);
    $("toasts").append(el);
    setTimeout(() => el.remove(), 6000);
  }

  function fail(error) {
    toast(error.message || String(error), "bad");
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

  $("logout").addEventListener("click", async () => {
    try { await api("/api/agents/me/presence", {method: "POST", json: {status: "offline"}}); } catch {}
    signOut("");
  });

  function signOut(message) {
    state.token = null;
    state.user = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    sessionStorage.removeItem(PRESENCE_KEY);
    if (state.ws) { const ws = state.ws; state.ws = null; ws.close(); }
    clearInterval(state.pollTimer);
    state.pollTimer = null;
    closeConversation();
    $("app").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("username").focus();
  }

  function isSupervisor() {
    return state.user && (state.user.role === "supervisor" || state.user.role === "admin");
  }

  function start() {
    $("login-view").hidden = true;
    $("app").hidden = false;
    document.body.dataset.role = state.user.role;
    $("me").textContent = `${state.user.username} · ${state.user.role}`;
    $("approvals-panel").hidden = !isSupervisor();
    showPresence();
    connect();
    refreshLists();
    loadCanned();
    api("/api/agents/me").then((me) => {
      Object.assign(state.user, me);
      $("me").textContent = `${me.full_name || me.username} · ${me.role}`;
    }).catch(() => {});
  }

  // ---------------------------------------------------------------- presence
  function showPresence() {
    for (const b of document.querySelectorAll(".presence-button")) {
      b.setAttribute("aria-pressed", String(b.dataset.presence === state.presence));
    }
    document.body.dataset.presence = state.presence;
  }

  for (const button of document.querySelectorAll(".presence-button")) {
    button.addEventListener("click", async () => {
      try {
        const data = await api("/api/agents/me/presence", {method: "POST",
                                                           json: {status: button.dataset.presence}});
        state.presence = data.status;
        sessionStorage.setItem(PRESENCE_KEY, state.presence);
        showPresence();
        toast(state.presence === "online" ? "You are online: customers see a wait time."
                                          : "You are away.", "info");
      } catch (error) { fail(error); }
    });
  }

  // ---------------------------------------------------------------- live updates
  function connect() {
    if (!state.token) return;
    const ws = new WebSocket(wsUrl(`/api/agents/ws?token=${encodeURIComponent(state.token)}`));
    state.ws = ws;
    ws.addEventListener("open", () => {
      state.wsAttempts = 0;
      setLive(true);
      clearInterval(state.pollTimer);
      state.pollTimer = null;
      state.watched = new Set();
      if (state.open) watch(state.open.conversation_id);
      refreshLists();
      if (state.open) catchUp();
    });
    ws.addEventListener("message", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      if (data.type === "queue_changed") scheduleRefresh();
      else if (data.type === "message") onMessage(data);
      else if (data.type === "concessions_changed") onConcessionsChanged(data);
    });
    ws.addEventListener("close", (event) => {
      if (state.ws !== ws) return;           // signed out, or replaced
      state.ws = null;
      setLive(false);
      if (event.code === 4401) { signOut("Your session has ended. Please sign in again."); return; }
      if (!state.pollTimer) state.pollTimer = setInterval(refreshLists, POLL_MS);
      setTimeout(connect, Math.min(15000, 500 * 2 ** state.wsAttempts++));
    });
  }

  function watch(conversationId) {
    if (state.watched.has(conversationId) || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
    state.ws.send(JSON.stringify({watch: conversationId}));
    state.watched.add(conversationId);
  }

  function setLive(live) {
    $("live").textContent = live ? "live" : "reconnecting…";
    $("live").className = live ? "pill ok" : "pill warn";
    document.body.dataset.live = String(live);
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshLists, 100);
  }

  // ---------------------------------------------------------------- lists
  async function refreshLists() {
    if (!state.token) return;
    try {
      const [queued, mine] = await Promise.all([
        api("/api/handoffs?status=queued"), api("/api/handoffs?status=claimed&mine=true")]);
      renderQueue(queued);
      renderMine(mine);
      if (isSupervisor()) renderApprovals(await api("/api/approvals"));
    } catch (error) {
      if (error.status !== 401) console.warn("refresh failed", error);
    }
  }

  function customerLabel(item) {
    return item.customer_name || "Unverified customer";
  }

  function humanize(code) {
    return String(code || "").replace(/^action_/, "").replace(/^utter_/, "").replace(/_/g, " ");
  }

  function flagPills(flags) {
    return (flags || []).map((f) => h("span", {class: `pill ${FLAG_CLASS[f] || ""}`}, humanize(f)));
  }

  function renderQueue(items) {
    $("queue-count").textContent = items.length;
    $("queue-empty").hidden = items.length > 0;
    $("queue").replaceChildren(...items.map((item) => h("li", {class: "item", dataset: {handoffId: item.id}},
      h("div", {class: "item-main"},
        h("div", {class: "item-title"},
          h("strong", {}, customerLabel(item)),
          h("span", {class: "pill info"}, item.language.toUpperCase()),
          ...flagPills(item.flags)),
        h("div", {class: "item-sub"},
          `#${item.position} · ${humanize(item.reason)}` +
          (item.intent ? ` · ${humanize(item.intent)}` : "") +
          ` · waiting ${minutesSince(item.queued_at)} min`)),
      h("button", {type: "button", class: "btn small claim",
                   "aria-label": `Claim the conversation with ${customerLabel(item)}`,
                   onclick: () => claim(item.id)}, "Claim"),
    )));
  }

  function renderMine(items) {
    for (const item of items) watch(item.conversation_id);   // to flag new customer messages
    $("mine-count").textContent = items.length;
    $("mine-empty").hidden = items.length > 0;
    $("mine").replaceChildren(...items.map((item) => h("li", {
      class: "item" + (state.open && state.open.id === item.id ? " current" : ""),
      dataset: {handoffId: item.id}},
      h("button", {type: "button", class: "item-open",
                   "aria-current": state.open && state.open.id === item.id ? "true" : null,
                   onclick: () => openConversation(item.id)},
        h("span", {class: "item-title"}, h("strong", {}, customerLabel(item)),
          h("span", {class: "pill info"}, item.language.toUpperCase()), ...flagPills(item.flags),
          state.unread.has(item.conversation_id) ? h("span", {class: "pill warn unread"}, "new message") : null),
        h("span", {class: "item-sub"}, item.intent ? humanize(item.intent) : humanize(item.reason))),
    )));
  }

  function renderApprovals(items) {
    $("approvals-count").textContent = items.length;
    $("approvals-empty").hidden = items.length > 0;
    $("approvals").replaceChildren(...items.map((a) => h("li", {class: "item approval", dataset: {adjustmentId: a.id}},
      h("div", {class: "item-main"},
        h("div", {class: "item-title"}, h("strong", {}, money(a.amount_minor, a.currency)),
          " ", KIND_NAMES[a.kind] || humanize(a.kind)),
        h("div", {class: "item-sub"}, `${a.customer_name} (${a.account_number}) · asked by ${a.granted_by}` +
          ` · ${humanize(a.reason_code)}`),
        a.note ? h("div", {class: "item-note"}, `“${a.note}”`) : null,
        h("div", {class: "item-actions"},
          h("button", {type: "button", class: "btn small approve",
                       "aria-label": `Approve ${money(a.amount_minor, a.currency)} for ${a.customer_name}`,
                       onclick: (e) => decide(a.id, "approve", e.currentTarget)}, "Approve"),
          h("button", {type: "button", class: "btn danger small reject",
                       "aria-label": `Reject ${money(a.amount_minor, a.currency)} for ${a.customer_name}`,
                       onclick: (e) => decide(a.id, "reject", e.currentTarget)}, "Reject"))),
    )));
  }

  async function decide(id, verdict, button) {
    button.disabled = true;
    try {
      const result = await api(`/api/approvals/${id}/${verdict}`, {method: "POST", json: {}});
      toast(`${verdict === "approve" ? "Approved" : "Rejected"}: ${money(result.amount_minor, result.currency)} ` +
            `${KIND_NAMES[result.kind] || result.kind} for ${result.customer_name}.`, "ok");
      refreshLists();
    } catch (error) {
      button.disabled = false;
      fail(error);
    }
  }

  async function claim(id) {
    try {
      await api(`/api/handoffs/${id}/claim`, {method: "POST"});
      await refreshLists();
      await openConversation(id);
      $("reply").focus();
    } catch (error) {
      fail(error);
      refreshLists();
    }
  }

  // ---------------------------------------------------------------- conversation
  function closeConversation() {
    state.open = null;
    state.lastSeq = 0;
    $("conversation").hidden = true;
    $("details").hidden = true;
    $("empty").hidden = false;
  }

  function mine() {
    return state.open && state.open.status === "claimed" && state.user &&
           state.open.agent === state.user.username;
  }

  async function openConversation(id) {
    let detail;
    try {
      detail = await api(`/api/handoffs/${id}`);
    } catch (error) { fail(error); return; }
    // a reply being written belongs to its conversation: kept for it, never sent to the next
    if (state.open) state.drafts.set(state.open.conversation_id, $("reply").value);
    $("reply").value = state.drafts.get(detail.conversation_id) || "";
    state.open = detail;
    state.lastSeq = 0;
    state.titles = new ButtonTitles({numbered: detail.channel === "sms"});
    state.account = null;
    state.concessions = [];
    state.options = [];
    state.cannedLang = detail.language === "nl" ? "nl" : "en";
    $("empty").hidden = true;
    $("conversation").hidden = false;
    $("details").hidden = false;
    $("messages").replaceChildren();
    for (const message of detail.messages) appendMessage(message);
    offerEarlier(detail.messages);
    renderHeader();
    renderPacket(detail.packet || {});
    showCannedLanguage();
    watch(detail.conversation_id);
    state.unread.delete(detail.conversation_id);
    scheduleRefresh();
    for (const li of document.querySelectorAll("#mine .item")) {
      li.classList.toggle("current", Number(li.dataset.handoffId) === detail.id);
    }
    $("messages").scrollTop = $("messages").scrollHeight;
    await Promise.all([loadAccount(), loadConcessionTools()]);
  }

  function renderHeader() {
    const d = state.open, packet = d.packet || {};
    const customer = packet.customer || {};
    $("conv-title").textContent = customer.name ? `${customer.name}` : "Unverified customer";
    $("conv-meta").replaceChildren(
      `${d.channel === "sms" ? "SMS" : "Web chat"} · ${d.language.toUpperCase()}`,
      customer.account_number ? ` · account ${customer.account_number}` : "",
      " · ", h("code", {class: "conv-id", title: "Conversation id"}, d.conversation_id));
    const open = mine();
    $("reply-form").hidden = !open;
    for (const id of ["release", "resolve", "close-reason"]) $(id).disabled = !open;
    $("conv-closed").hidden = open;
    $("conv-closed").textContent = open ? "" :
      d.status === "claimed" ? `Handled by ${d.agent}.` :
      `This conversation is ${d.status}` + (d.resolution ? ` (${d.resolution})` : "") + ".";
  }

  function messageLine(message, titles) {
    titles.learn(message.buttons);
    const text = message.author === "customer" ? titles.customer(message.text) : message.text;
    const name = {customer: "Customer", bot: "Bot", system: "System",
                  agent: message.author_name || "Agent"}[message.author];
    return h("div", {class: `line line-${message.author}`, dataset: {seq: message.seq, author: message.author}},
      h("div", {class: "line-head"}, h("span", {class: "line-who"}, name),
        h("time", {datetime: message.at}, time(message.at, "en"))),
      h("div", {class: "line-text"}, richText(text)),
      message.buttons ? h("div", {class: "line-buttons"},
        ...message.buttons.map((b) => h("span", {class: "pill"}, b.title))) : null);
  }

  function appendMessage(message) {
    if (message.seq <= state.lastSeq) return;
    state.lastSeq = message.seq;
    const box = $("messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.append(messageLine(message, state.titles));
    if (nearBottom || message.author === "agent") box.scrollTop = box.scrollHeight;
  }

  // The detail holds the newest 500 lines; a longer conversation (SMS lives for months) pages back.
  function offerEarlier(messages) {
    const first = messages.length ? messages[0].seq : 1;
    $("messages").querySelector(".earlier")?.remove();
    if (first <= 1) return;
    const button = h("button", {type: "button", class: "btn secondary small earlier"}, "Show earlier messages");
    button.addEventListener("click", () => showEarlier(first, button));
    $("messages").prepend(button);
  }

  async function showEarlier(before, button) {
    const open = state.open;
    button.disabled = true;
    let page;
    try {
      page = await api(`/api/handoffs/${open.id}/messages?before=${before}&limit=200`);
    } catch (error) { button.disabled = false; fail(error); return; }
    if (state.open !== open) return;
    const box = $("messages"), fromBottom = box.scrollHeight - box.scrollTop;
    const titles = new ButtonTitles({numbered: open.channel === "sms"});
    button.after(...page.messages.map((message) => messageLine(message, titles)));
    offerEarlier(page.messages);
    box.scrollTop = box.scrollHeight - fromBottom;   // the line being read stays in place
  }

  async function catchUp() {
    if (!state.open) return;
    try {
      const detail = await api(`/api/handoffs/${state.open.id}`);
      if (!state.open || detail.id !== state.open.id) return;
      Object.assign(state.open, {status: detail.status, agent: detail.agent});
      for (const m of detail.messages) appendMessage(m);
      renderHeader();
    } catch (error) { /* shown by the next action */ }
  }

  function onMessage(data) {
    if (!state.open || data.conversation_id !== state.open.conversation_id) {
      if (data.message.author === "customer" && !state.unread.has(data.conversation_id)) {
        state.unread.add(data.conversation_id);
        scheduleRefresh();
      }
      return;
    }
    if (data.message.seq > state.lastSeq + 1) { catchUp(); return; }
    appendMessage(data.message);
  }

  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply").value.trim();
    if (!text || !state.open) return;
    $("send-reply").disabled = true;
    try {
      const message = await api(`/api/handoffs/${state.open.id}/messages`, {method: "POST", json: {text}});
      appendMessage(message);
      $("reply").value = "";
    } catch (error) {
      fail(error);
    } finally {
      $("send-reply").disabled = false;
      $("reply").focus();
    }
  });

  $("reply").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });

  async function closeAs(kind) {
    if (!state.open) return;
    const resolution = $("close-reason").value || null;
    if (kind === "resolve" && !resolution) {
      toast("Choose an outcome before resolving.", "warn");
      $("close-reason").focus();
      return;
    }
    try {
      const result = await api(`/api/handoffs/${state.open.id}/${kind}`, {method: "POST",
                                                                           json: {resolution}});
      Object.assign(state.open, {status: result.status, resolution});
      renderHeader();
      toast(kind === "release" ? "Handed back to the bot." : "Conversation resolved.", "ok");
      $("close-reason").value = "";
      refreshLists();
    } catch (error) { fail(error); }
  }
  $("release").addEventListener("click", () => closeAs("release"));
  $("resolve").addEventListener("click", () => closeAs("resolve"));

  // ---------------------------------------------------------------- packet
  function row(label, ...value) {
    return [h("dt", {}, label), h("dd", {}, ...value)];
  }

  function renderPacket(packet) {
    const currency = (packet.bill && packet.bill.currency) || "EUR";
    const customer = packet.customer || {};
    const parts = [];
    parts.push(h("p", {class: "packet-status"},
      packet.verified ? h("span", {class: "pill ok"}, packet.verified_by ? `✓ Verified by ${packet.verified_by}` : "✓ Verified")
                      : h("span", {class: "pill warn"}, "Not verified"),
      " ", ...flagPills(packet.flags)));
    if (!packet.verified && mine()) {
      // the factors the customer typed are masked here: the service checks them (one attempt each time)
      const check = h("button", {type: "button", class: "btn secondary small", id: "check-identity"},
        "Check identity from the customer's messages");
      check.addEventListener("click", () => checkIdentity(check));
      parts.push(h("p", {}, check));
    }
    const facts = h("dl", {class: "facts"},
      ...row("Customer", customer.name ? `${customer.name}` : "unknown (not verified)"),
      ...(customer.account_number ? row("Account", customer.account_number) : []),
      ...row("Reason", humanize(packet.reason)),
      ...row("Language", (packet.language || "en").toUpperCase()),
      ...row("Channel", packet.channel || state.open.channel),
      ...row("Intent", packet.intent ? humanize(packet.intent) : "—",
             (packet.intents || []).length > 1
               ? h("span", {class: "muted small"}, ` (asked: ${packet.intents.map(humanize).join(", ")})`) : ""),
    );
    parts.push(facts);

    const bill = packet.bill;
    if (bill) {
      const change = bill.previous_total_minor
        ? Math.round((bill.latest_total_minor - bill.previous_total_minor) * 100 / bill.previous_total_minor) : null;
      parts.push(h("h3", {class: "subhead"}, "Bill context"));
      parts.push(h("dl", {class: "facts"},
        ...row("Balance", money(bill.balance_minor, currency), " ",
               h("span", {class: `pill ${bill.status === "overdue" ? "bad" : bill.status === "paid" ? "ok" : "info"}`}, bill.status)),
        ...(bill.overdue_minor ? row("Overdue", money(bill.overdue_minor, currency)) : []),
        ...(bill.next_due_date ? row("Next due", date(bill.next_due_date)) : []),
        ...(bill.latest_total_minor !== undefined ? row("Latest bill", money(bill.latest_total_minor, currency),
            bill.previous_total_minor ? ` (previous ${money(bill.previous_total_minor, currency)}` +
              (change !== null ? `, ${change > 0 ? "+" : ""}${change}%)` : ")") : "") : []),
      ));
      if ((bill.changes || []).length) {
        parts.push(h("ul", {class: "changes", "aria-label": "What changed on the latest bill"},
          ...bill.changes.map((c) => h("li", {},
            h("span", {class: "change-what"}, c.description || humanize(c.reason),
              h("span", {class: "muted small"}, ` · ${humanize(c.reason)}`)),
            h("span", {class: `change-amount ${c.impact_minor > 0 ? "up" : "down"}`},
              `${c.impact_minor > 0 ? "+" : ""}${money(c.impact_minor, currency)}`)))));
      }
    }

    const slots = Object.entries(packet.slots || {});
    if (slots.length) {
      parts.push(h("h3", {class: "subhead"}, "Slots"));
      parts.push(h("dl", {class: "facts"}, ...slots.flatMap(([k, v]) =>
        row(humanize(k), typeof v === "object" ? JSON.stringify(v) : String(v)))));
    }
    parts.push(h("h3", {class: "subhead"}, "What the bot tried"));
    parts.push((packet.bot_tried || []).length
      ? h("ul", {class: "tags"}, ...[...new Set(packet.bot_tried)].map((a) => h("li", {class: "pill"}, humanize(a))))
      : h("p", {class: "muted small"}, "Nothing yet."));
    parts.push(h("h3", {class: "subhead"}, "What the bot offered"));
    parts.push((packet.offers || []).length
      ? h("ul", {class: "offers"}, ...packet.offers.map((o) => h("li", {}, describeOffer(o, currency))))
      : h("p", {class: "muted small"}, "No offers."));
    const lines = packet.transcript || [];
    parts.push(h("details", {class: "transcript"},
      h("summary", {}, `Bot transcript (${lines.length} lines, sensitive data masked)`),
      h("ol", {}, ...lines.map((l) => h("li", {class: `t-${l.from}`},
        h("span", {class: "t-who"}, l.from === "customer" ? "Customer" : "Bot"), " ",
        h("span", {class: "t-text"}, state.titles.show(l.text)))))));
    $("packet").replaceChildren(...parts);
  }

  async function checkIdentity(button) {
    const open = state.open;
    button.disabled = true;
    let result;
    try {
      result = await api(`/api/handoffs/${open.id}/verify`, {method: "POST"});
    } catch (error) { button.disabled = false; fail(error); return; }
    if (!result.verified) {
      button.disabled = false;
      toast("Not verified: the details do not match, or checking is locked for a while. " +
            "Ask the customer to check them.", "warn");
      return;
    }
    toast(`Verified: ${result.customer_name} (account ${result.account_number}).`, "ok");
    if (state.open === open) await openConversation(open.id);
    refreshLists();
  }

  function describeOffer(offer, currency) {
    const bits = [humanize(offer.type || "offer")];
    for (const [key, value] of Object.entries(offer)) {
      if (key === "type" || value === null || value === undefined) continue;
      bits.push(key.endsWith("_minor") ? `${humanize(key.replace(/_minor$/, ""))} ${money(value, currency)}`
                                       : `${humanize(key)} ${typeof value === "object" ? JSON.stringify(value) : value}`);
    }
    return bits.join(" · ");
  }

  // ---------------------------------------------------------------- account
  function accountNumber() {
    const packet = (state.open && state.open.packet) || {};
    return packet.verified && packet.customer ? packet.customer.account_number : null;
  }

  async function loadAccount() {
    const number = accountNumber();
    if (!number) {
      $("account").replaceChildren(h("p", {class: "muted small"},
        "The customer is not verified, so account data stays hidden. Ask for their account number and " +
        "date of birth or postcode, then check them from the packet (or let the bot verify them)."));
      return;
    }
    if (!mine()) {
      $("account").replaceChildren(h("p", {class: "muted small"}, "Account data is shown while you handle the conversation."));
      return;
    }
    try {
      state.account = await api(`/api/accounts/${number}`);
      renderAccount(state.account);
    } catch (error) {
      $("account").replaceChildren(h("p", {class: "form-error"}, error.message));
    }
  }

  const PAYMENT_METHODS = {ideal: "iDEAL", paypal: "PayPal", apple_pay: "Apple Pay",
                           google_pay: "Google Pay", bancontact: "Bancontact"};

  function renderAccount(a) {
    const cur = a.currency;
    const plan = a.plan;
    $("account").replaceChildren(
      h("div", {class: "balance"},
        h("div", {}, h("span", {class: "muted small"}, "Balance"),
          h("div", {class: "balance-amount"}, money(a.balance_minor, cur))),
        h("span", {class: `pill ${a.balance_status === "overdue" ? "bad" : a.balance_status === "paid" ? "ok" : "info"}`},
          a.balance_status)),
      h("dl", {class: "facts"},
        ...row("Customer", a.customer_name, h("span", {class: "muted small"},
          ` · since ${date(a.customer_since)} · ${a.customer_language.toUpperCase()}`)),
        ...(a.phone ? row("Phone", a.phone) : []),
        ...(a.overdue_minor ? row("Overdue", money(a.overdue_minor, cur)) : []),
        ...(a.next_due_date ? row("Next due", date(a.next_due_date)) : []),
        ...(plan ? row("Plan", `${plan.name} · ${money(plan.monthly_price_incl_vat_minor, cur)}/month · ` +
            (plan.included_gb === null ? "unlimited data" : `${plan.included_gb} GB`),
            plan.promotion_percent ? h("span", {class: "pill ok"}, `${plan.promotion_percent}% promotion`) : "",
            plan.promotion_ended ? h("span", {class: "muted small"}, ` · promotion ended ${date(plan.promotion_ended)}`) : "")
          : row("Plan", "none")),
      ),
      h("table", {class: "invoices"},
        h("caption", {class: "sr-only"}, "Latest invoices"),
        h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Issued"), h("th", {scope: "col"}, "Due"),
          h("th", {scope: "col", class: "num"}, "Total"), h("th", {scope: "col", class: "num"}, "Open"))),
        h("tbody", {}, ...a.invoices.map((i) => h("tr", {},
          h("td", {title: `Invoice ${i.number}`}, date(i.issue_date)), h("td", {}, date(i.due_date)),
          h("td", {class: "num"}, money(i.total_minor, i.currency)),
          h("td", {class: `num ${i.open_minor ? "open" : ""}`}, money(i.open_minor, i.currency)))))),
      // what arrived, for "I already paid": before, agents had to guess from the open amounts
      h("table", {class: "payments"},
        h("caption", {class: "sr-only"}, "Latest payments"),
        h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Paid"), h("th", {scope: "col"}, "Method"),
          h("th", {scope: "col", class: "num"}, "Amount"))),
        h("tbody", {}, ...(a.payments.length ? a.payments.map((p) => h("tr", {},
          h("td", {}, date(p.paid_on)), h("td", {}, PAYMENT_METHODS[p.method] || p.method.replace(/_/g, " ")),
          h("td", {class: "num"}, money(p.amount_minor, p.currency))))
          : [h("tr", {}, h("td", {colspan: "3", class: "muted small"}, "No payments received"))]))),
      a.percent_change ? h("p", {class: "muted small"},
        `Latest bill ${a.percent_change > 0 ? "+" : ""}${a.percent_change}% on the previous one.`) : "",
    );
  }

  // ---------------------------------------------------------------- concessions
  async function loadConcessionTools() {
    const show = Boolean(accountNumber()) && mine();
    $("concession-card").hidden = !show;
    if (!show) return;
    $("concession-churn").checked = Boolean(state.open.churn_risk);  // as the server reads the packet
    $("concession-error").textContent = "";
    $("concession-note").value = "";
    await Promise.all([loadOptions(), loadConcessions()]);
  }

  async function loadOptions() {
    if (!state.open) return;
    try {
      state.options = await api(`/api/handoffs/${state.open.id}/concessions/options?churn_risk=${$("concession-churn").checked}`);
    } catch (error) { state.options = []; $("concession-error").textContent = error.message; return; }
    const select = $("concession-kind");
    const previous = select.value;
    select.replaceChildren(...state.options.map((o) => h("option", {value: o.kind, disabled: !o.eligible},
      `${KIND_NAMES[o.kind] || o.kind}` + (o.eligible ? "" : ` (${o.reasons.map((r) => NOT_ELIGIBLE[r] || humanize(r)).join(", ")})`))));
    const pick = state.options.find((o) => o.kind === previous && o.eligible) || state.options.find((o) => o.eligible);
    if (pick) {
      select.value = pick.kind;
    } else {
      select.prepend(h("option", {value: "", selected: true}, "Nothing the policy allows now"));
      select.value = "";
      $("concession-amount").value = "";
    }
    for (const id of ["concession-amount", "concession-reason", "concession-note"]) $(id).disabled = !pick;
    fillConcessionForm(pick, previous !== (pick && pick.kind));
    if (!pick) {
      $("concession-limits").textContent = "No concession fits the policy for this customer at the moment " +
        "(see the reasons in the list).";
    }
  }

  function currentOption() {
    return state.options.find((o) => o.kind === $("concession-kind").value);
  }

  function fillConcessionForm(option, resetAmount) {
    const reason = $("concession-reason");
    const kind = option ? option.kind : null;
    reason.replaceChildren(...(REASONS[kind] || [["agent_goodwill", "Goodwill"]]).map(
      ([value, label]) => h("option", {value}, label)));
    if (option && (resetAmount || !$("concession-amount").value)) {
      $("concession-amount").value = (option.suggested_minor / 100).toFixed(2);
    }
    newOffer();
  }

  function newOffer() {
    state.idempotencyKey = "c" + randomHex(12);
    updateConcessionButtons();
  }

  function updateConcessionButtons() {
    const option = currentOption();
    const amount = parseAmount($("concession-amount").value);
    const submit = $("concession-submit"), request = $("concession-request"), limits = $("concession-limits");
    request.hidden = true;
    submit.hidden = false;
    $("concession-error").textContent = "";
    if (!option || !option.eligible) {
      submit.disabled = true;
      submit.textContent = "Grant";
      limits.textContent = "";
      return;
    }
    const cur = option.currency;
    limits.textContent = `Suggested ${money(option.suggested_minor, cur)} · your limit ${money(option.role_limit_minor, cur)}` +
      ` · policy maximum ${money(option.max_minor, cur)}` + (option.months ? ` · spread over ${option.months} months` : "");
    if (Number.isNaN(amount) || amount <= 0) {
      submit.disabled = true;
      submit.textContent = "Grant";
      return;
    }
    if (amount > option.max_minor) {
      submit.disabled = true;
      submit.textContent = "Grant";
      $("concession-error").textContent = `Above the policy maximum of ${money(option.max_minor, cur)}.`;
      return;
    }
    if (amount > option.role_limit_minor) {
      submit.disabled = true;
      submit.hidden = true;
      request.hidden = false;
      request.disabled = false;
      request.textContent = `Request approval for ${money(amount, cur)}`;
      limits.append(h("span", {class: "over"}, ` · above your limit: a supervisor must approve`));
      return;
    }
    submit.hidden = false;
    submit.disabled = false;
    submit.textContent = `Grant ${money(amount, cur)}`;
  }

  $("concession-kind").addEventListener("change", () => fillConcessionForm(currentOption(), true));
  $("concession-amount").addEventListener("input", newOffer);
  $("concession-reason").addEventListener("change", newOffer);
  $("concession-churn").addEventListener("change", loadOptions);

  async function submitConcession(requestApproval) {
    const option = currentOption();
    const amount = parseAmount($("concession-amount").value);
    if (!option || Number.isNaN(amount)) return;
    const buttons = [$("concession-submit"), $("concession-request")];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const result = await api(`/api/handoffs/${state.open.id}/concessions`, {method: "POST", json: {
        kind: option.kind, amount_minor: amount, reason_code: $("concession-reason").value,
        idempotency_key: state.idempotencyKey, note: $("concession-note").value.trim() || null,
        churn_risk: $("concession-churn").checked, request_approval: requestApproval,
      }});
      toast(result.status === "granted"
        ? `Granted ${money(result.amount_minor, result.currency)} ${KIND_NAMES[result.kind]}.`
        : `Sent to a supervisor: ${money(result.amount_minor, result.currency)} ${KIND_NAMES[result.kind]}.`,
        result.status === "granted" ? "ok" : "info");
      $("concession-note").value = "";
      await Promise.all([loadConcessions(), loadOptions(), loadAccount()]);
    } catch (error) {
      const body = error.body || {};
      if (body.code === "concession_limit_exceeded" && !requestApproval && amount <= option.max_minor) {
        $("concession-error").textContent = `Above your limit (${money(body.max_allowed_minor, option.currency)}). ` +
          "Ask a supervisor to approve it.";
        $("concession-submit").hidden = true;
        $("concession-request").hidden = false;
        $("concession-request").disabled = false;
        $("concession-request").textContent = `Request approval for ${money(amount, option.currency)}`;
        return;
      }
      $("concession-error").textContent = error.message;
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  $("concession-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const option = currentOption();
    const amount = parseAmount($("concession-amount").value);
    submitConcession(Boolean(option && amount > option.role_limit_minor));
  });
  $("concession-request").addEventListener("click", () => submitConcession(true));

  async function loadConcessions() {
    if (!state.open || !accountNumber()) return;
    try {
      state.concessions = await api(`/api/handoffs/${state.open.id}/concessions`);
    } catch (error) { return; }
    $("concessions").replaceChildren(...(state.concessions.length ? state.concessions.map((c) => h("li", {
      class: `concession ${c.status}`, dataset: {adjustmentId: c.id, status: c.status}},
      h("span", {class: "concession-what"}, `${money(c.amount_minor, c.currency)} ${KIND_NAMES[c.kind] || c.kind}`),
      h("span", {class: `pill ${STATUS_CLASS[c.status] || ""}`}, STATUS_TEXT[c.status] || c.status),
      c.approved_by ? h("span", {class: "muted small"}, `${c.status === "rejected" ? "rejected" : "approved"} by ${c.approved_by}`) : null))
      : [h("li", {class: "muted small"}, "None yet.")]));
  }

  function onConcessionsChanged(data) {
    if (isSupervisor()) scheduleRefresh();
    if (!state.open || data.conversation_id !== state.open.conversation_id) return;
    const mineRequest = state.user && data.granted_by === state.user.username && data.approved_by;
    if (mineRequest && data.status === "granted") toast(`Approved by ${data.approved_by}.`, "ok");
    if (mineRequest && data.status === "rejected") toast(`Rejected by ${data.approved_by}.`, "bad");
    loadConcessions();
    if (data.approved_by) { loadOptions(); loadAccount(); }
  }

  // ---------------------------------------------------------------- canned responses
  async function loadCanned() {
    try { state.canned = await api("/api/canned"); } catch { state.canned = []; }
    showCannedLanguage();
  }

  function showCannedLanguage() {
    for (const b of document.querySelectorAll("[data-canned-lang]")) {
      b.setAttribute("aria-pressed", String(b.dataset.cannedLang === state.cannedLang));
    }
    $("canned").replaceChildren(h("option", {value: ""}, state.cannedLang === "nl" ? "Invoegen…" : "Insert…"),
      ...state.canned.map((c) => h("option", {value: c.key, lang: state.cannedLang}, c.title[state.cannedLang])));
  }

  for (const b of document.querySelectorAll("[data-canned-lang]")) {
    b.addEventListener("click", () => { state.cannedLang = b.dataset.cannedLang; showCannedLanguage(); });
  }

  // What raised the latest bill, by the packet's bill changes (handoff/canned.py {bill_changes}),
  // as main clauses after "…is higher:". VAT follows the other changes, so it is named alone only.
  const BILL_CHANGE_WORDS = {
    en: {promotion_ended: "your promotion ended", late_fee: "a late payment fee was added",
         usage_change: "you used more data than your plan includes", proration: "a plan change was charged",
         new_item: "a new item was added", price_change: "a price went up",
         discount_change: "a discount became smaller", promotion_started: "a discount became smaller",
         credit: "there is less credit on it", removed_item: "an item that lowered it is no longer on it",
         tax_change: "the VAT went up"},
    nl: {promotion_ended: "uw actiekorting is afgelopen", late_fee: "er zijn kosten voor te late betaling bijgekomen",
         usage_change: "u heeft meer data gebruikt dan er in uw abonnement zit",
         proration: "er is een abonnementswijziging verrekend", new_item: "er is een nieuw onderdeel bijgekomen",
         price_change: "een prijs is gestegen", discount_change: "een korting is kleiner geworden",
         promotion_started: "een korting is kleiner geworden", credit: "er staat minder tegoed op",
         removed_item: "er staat een onderdeel niet meer op dat hem verlaagde", tax_change: "de btw is gestegen"},
  };
  const BILL_CHANGES_UNKNOWN = {en: "[reasons]", nl: "[redenen]"};

  function billChanges(packet, lang) {
    const words = BILL_CHANGE_WORDS[lang], bill = packet.bill || {};
    const higher = bill.previous_total_minor != null && bill.latest_total_minor > bill.previous_total_minor;
    const raised = (higher ? bill.changes || [] : []).filter((c) => c.impact_minor > 0 && words[c.reason]);
    const named = raised.some((c) => c.reason !== "tax_change") ? raised.filter((c) => c.reason !== "tax_change") : raised;
    const parts = [...new Set(named.map((c) => words[c.reason]))];
    if (!parts.length) return BILL_CHANGES_UNKNOWN[lang];
    const and = lang === "nl" ? " en " : " and ";
    return parts.length === 1 ? parts[0] : parts.slice(0, -1).join(", ") + and + parts[parts.length - 1];
  }

  function fillCanned(template) {
    const customer = state.open && state.open.packet && state.open.packet.customer;
    const first = customer && customer.name ? customer.name.split(" ")[0] : "";
    const lastGrant = state.concessions.find((c) => c.status === "granted");
    const typed = parseAmount($("concession-amount").value);
    const amount = lastGrant ? money(lastGrant.amount_minor, lastGrant.currency, state.cannedLang)
      : !Number.isNaN(typed) ? money(typed, "EUR", state.cannedLang) : "[amount]";
    return template
      .replace(/,? ?\{customer\}/g, (m) => (first ? m.replace("{customer}", first) : ""))
      .replace(/\{agent\}/g, ((state.user && (state.user.full_name || state.user.username)) || "").split(" ")[0])
      .replace(/\{amount\}/g, amount)
      .replace(/\{bill_changes\}/g, () => billChanges((state.open && state.open.packet) || {}, state.cannedLang));
  }

  $("canned").addEventListener("change", () => {
    const item = state.canned.find((c) => c.key === $("canned").value);
    $("canned").value = "";
    if (!item) return;
    const box = $("reply");
    const text = fillCanned(item.text[state.cannedLang]);
    const start = box.selectionStart ?? box.value.length, end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.setSelectionRange(start + text.length, start + text.length);
  });

  // ---------------------------------------------------------------- start
  setInterval(() => { if (state.token) scheduleRefresh(); }, 60000);  // waiting times
  if (state.token && state.user) start();
  else signOut("");
})();
