/* Customer web chat.
 *
 * The conversation id ("web-" + random hex) lives in localStorage, so a reload continues the
 * conversation. Live updates come over the WebSocket /api/chat/{id}/ws; while it is down the
 * page falls back to REST (POST /api/chat/messages, GET /api/chat/{id}/messages?after=N) and
 * reconnects with backoff. Every transcript line has a number (seq): the page renders each once,
 * in order, and fetches any gap it notices.
 */
"use strict";

(() => {
  const {h, richText, randomHex, customerLanguage, rememberCustomerLanguage, time, wsUrl,
         ButtonTitles} = UI;

  const TEXT = {
    en: {
      title: "Billing support", mode_label: "Status:", language: "Language",
      restart: "Start a new conversation", conversation: "Conversation",
      intro: "Hi! I'm the billing assistant. Ask me about your balance, why your bill changed, " +
             "paying, or your plan. For account details I'll first check who you are.",
      typing: "The assistant is typing…", your_message: "Your message", send: "Send",
      placeholder: "Type your message…", skip: "Skip to the message box",
      mode_bot: "Assistant", mode_queued: "Waiting for a colleague", mode_agent: "{name} is helping you",
      mode_agent_anon: "A colleague is helping you", mode_closed: "Conversation closed",
      you: "You", assistant: "Assistant", colleague: "Colleague", notice: "Notice",
      offline: "Connection lost, retrying… Your messages are still sent.",
      send_failed: "Sorry, your message could not be sent. Please try again.",
      restart_confirm: "Start a new conversation? The current one stays with us.",
      sent_at: "sent at", stop_waiting: "Stop waiting",
    },
    nl: {
      title: "Klantenservice", mode_label: "Status:", language: "Taal",
      restart: "Nieuw gesprek beginnen", conversation: "Gesprek",
      intro: "Hallo! Ik ben de assistent voor uw rekening. Vraag me naar uw saldo, waarom uw " +
             "rekening veranderde, betalen of uw abonnement. Voor accountgegevens controleer ik " +
             "eerst wie u bent.",
      typing: "De assistent typt…", your_message: "Uw bericht", send: "Versturen",
      placeholder: "Typ uw bericht…", skip: "Naar het berichtvak",
      mode_bot: "Assistent", mode_queued: "Wacht op een medewerker", mode_agent: "{name} helpt u",
      mode_agent_anon: "Een medewerker helpt u", mode_closed: "Gesprek afgesloten",
      you: "U", assistant: "Assistent", colleague: "Medewerker", notice: "Melding",
      offline: "Verbinding verbroken, opnieuw verbinden… Uw berichten worden nog verstuurd.",
      send_failed: "Sorry, uw bericht kon niet worden verstuurd. Probeer het opnieuw.",
      restart_confirm: "Een nieuw gesprek beginnen? Het huidige gesprek blijft bij ons bewaard.",
      sent_at: "verstuurd om", stop_waiting: "Stoppen met wachten",
    },
  };

  const ID_KEY = "billing-chat.conversation_id";
  const TYPING_TIMEOUT_MS = 25000;
  const POLL_MS = 3000;

  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("text"), form = $("composer"), typing = $("typing");

  const state = {
    id: localStorage.getItem(ID_KEY),
    lang: customerLanguage(),
    lastSeq: 0,
    mode: "bot",
    agentName: null,
    ws: null,
    wsAttempts: 0,
    pollTimer: null,
    typingTimer: null,
    catchingUp: null,
    titles: new ButtonTitles(),
  };
  // A new id is unknown to the server until the first message: no history to ask for.
  state.started = Boolean(state.id && /^[A-Za-z0-9_-]{1,64}$/.test(state.id));
  if (!state.started) {
    state.id = "web-" + randomHex(12);
    localStorage.setItem(ID_KEY, state.id);
  }
  document.body.dataset.conversationId = state.id;

  const t = (key) => (TEXT[state.lang] || TEXT.en)[key] || TEXT.en[key] || key;

  // ---------------------------------------------------------------- language
  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
    for (const button of document.querySelectorAll(".lang")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
    for (const el of log.querySelectorAll(".msg[data-author] .who")) {
      const author = el.closest(".msg").dataset.author;
      if (author === "customer") el.textContent = t("you");
      if (author === "bot") el.textContent = t("assistant");
    }
    showMode();
  }

  for (const button of document.querySelectorAll(".lang")) {
    button.addEventListener("click", () => {
      state.lang = button.dataset.lang;
      rememberCustomerLanguage(state.lang);
      applyLanguage();
      input.focus();
    });
  }

  // The queue's status messages carry the way out; the banner shows the latest one and
  // keeps its button at hand (the one in the log is disabled once the customer writes).
  const LEAVE_QUEUE = "/leave_queue";
  const offersLeaving = (message) => (message.buttons || []).some((b) => b.payload === LEAVE_QUEUE);
  $("queue-leave").addEventListener("click", () => send(LEAVE_QUEUE, t("stop_waiting")));

  $("restart").addEventListener("click", () => {
    if (!window.confirm(t("restart_confirm"))) return;
    localStorage.removeItem(ID_KEY);
    location.reload();
  });

  // ---------------------------------------------------------------- mode and queue
  function showMode() {
    const mode = $("mode");
    mode.dataset.mode = state.mode;
    document.body.dataset.mode = state.mode;
    let text = t("mode_" + state.mode);
    if (state.mode === "agent") {
      text = state.agentName ? t("mode_agent").replace("{name}", state.agentName) : t("mode_agent_anon");
    }
    $("mode-text").textContent = text;
    if (state.mode !== "queued") $("queue-banner").hidden = true;
  }

  function setMode(mode) {
    if (!mode || mode === state.mode) return;
    state.mode = mode;
    if (mode !== "bot") hideTyping();
    showMode();
  }

  // ---------------------------------------------------------------- typing indicator
  function showTyping() {
    typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollDown();
  }

  function hideTyping() {
    typing.hidden = true;
    clearTimeout(state.typingTimer);
  }

  // ---------------------------------------------------------------- rendering
  function scrollDown() {
    requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
  }

  function who(message) {
    if (message.author === "customer") return t("you");
    if (message.author === "bot") return t("assistant");
    if (message.author === "agent") return message.author_name || t("colleague");
    return t("notice");
  }

  function disableOlderButtons() {
    for (const group of log.querySelectorAll(".buttons:not(.used)")) {
      group.classList.add("used");
      for (const b of group.querySelectorAll("button")) b.disabled = true;
    }
  }

  function renderButtons(buttons) {
    const group = h("div", {class: "buttons", role: "group"});
    for (const button of buttons) {
      group.append(h("button", {
        type: "button", class: "choice",
        onclick: (event) => {
          for (const b of group.querySelectorAll("button")) b.disabled = true;
          event.currentTarget.setAttribute("aria-pressed", "true");
          group.classList.add("used");
          send(button.payload, button.title);
        },
      }, button.title));
    }
    return group;
  }

  function render(message) {
    state.titles.learn(message.buttons);
    const text = message.author === "customer" ? state.titles.customer(message.text) : message.text;
    if (message.author === "customer") {
      // The optimistic bubble of this message, shown when it was sent, gets its number.
      const pending = log.querySelector(".msg.pending");
      if (pending && pending.dataset.text === text) {
        pending.classList.remove("pending");
        pending.dataset.seq = message.seq;
        if (message.at) pending.append(h("time", {class: "at", datetime: message.at}, time(message.at, state.lang)));
        return;
      }
    }
    if (message.author === "agent" && message.author_name) {
      state.agentName = message.author_name.split(" ")[0];
      showMode();
    }
    if (message.buttons && message.buttons.length) disableOlderButtons();
    const el = h("div", {
      class: `msg msg-${message.author}`,
      dataset: {seq: message.seq, author: message.author},
    },
      message.author === "system" ? null : h("span", {class: "who"}, who(message)),
      h("div", {class: "bubble"}, richText(text)),
      message.buttons && message.buttons.length ? renderButtons(message.buttons) : null,
      message.at && message.author !== "system"
        ? h("time", {class: "at", datetime: message.at}, time(message.at, state.lang)) : null,
    );
    // Earlier turns' answers go before bubbles still waiting for their number.
    log.insertBefore(el, log.querySelector(".msg.pending"));
  }

  function accept(message, mode) {
    if (message.seq <= state.lastSeq) return;           // seen already
    if (message.seq !== state.lastSeq + 1) {             // a gap: fetch what is missing
      catchUp();
      return;
    }
    state.lastSeq = message.seq;
    if (mode) setMode(mode);
    if (message.author !== "customer") hideTyping();
    render(message);
    if (message.author === "system" && state.mode === "queued" && offersLeaving(message)) {
      $("queue-text").textContent = message.text;   // position and expected wait
      $("queue-banner").hidden = false;
    }
    scrollDown();
  }

  function addPending(text) {
    disableOlderButtons();
    log.append(h("div", {class: "msg msg-customer pending", dataset: {author: "customer", text}},
      h("span", {class: "who"}, t("you")), h("div", {class: "bubble"}, richText(text))));
    scrollDown();
  }

  // ---------------------------------------------------------------- REST
  async function catchUp() {
    if (!state.started) return;
    if (state.catchingUp) return state.catchingUp;
    state.catchingUp = (async () => {
      try {
        const response = await fetch(`/api/chat/${state.id}/messages?after=${state.lastSeq}`);
        if (response.status === 404) return;           // nothing said yet
        if (!response.ok) throw new Error(response.status);
        const body = await response.json();
        for (const message of body.messages) accept(message, null);
        setMode(body.mode);
        if (body.mode === "queued") {
          const lastSystem = [...body.messages].reverse().find(
            (m) => m.author === "system" && offersLeaving(m));
          if (lastSystem) {
            $("queue-text").textContent = lastSystem.text;
            $("queue-banner").hidden = false;
          }
        }
      } finally {
        state.catchingUp = null;
      }
    })();
    return state.catchingUp;
  }

  async function sendRest(message) {
    const response = await fetch("/api/chat/messages", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({conversation_id: state.id, ...message}),
    });
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    await catchUp();
    setMode(body.mode);
  }

  // ---------------------------------------------------------------- WebSocket
  function connect() {
    let ws;
    try {
      ws = new WebSocket(wsUrl(`/api/chat/${state.id}/ws`));
    } catch (error) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.addEventListener("open", () => {
      state.wsAttempts = 0;
      $("connection").textContent = "";
      document.body.dataset.live = "true";
      stopPolling();
      catchUp().catch(() => {});
    });
    ws.addEventListener("message", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      if (data.type === "message" && data.message) {
        state.started = true;
        accept(data.message, data.mode);
      }
      else if (data.type === "typing" && (state.mode === "bot" || state.mode === "closed")) showTyping();
      else if (data.type === "error") {
        hideTyping();
        $("connection").textContent = t("send_failed");
      }
    });
    ws.addEventListener("close", () => {
      if (state.ws === ws) state.ws = null;
      document.body.dataset.live = "false";
      $("connection").textContent = t("offline");
      startPolling();
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    const delay = Math.min(15000, 500 * 2 ** state.wsAttempts++);
    setTimeout(connect, delay);
  }

  function startPolling() {
    if (state.pollTimer) return;
    state.pollTimer = setInterval(() => catchUp().catch(() => {}), POLL_MS);
  }

  function stopPolling() {
    clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  // ---------------------------------------------------------------- sending
  async function send(text, title) {
    state.started = true;
    const shown = title || text;
    if (title) state.titles.titles.set(text, title);
    addPending(shown);
    $("connection").textContent = "";
    if (state.mode === "bot" || state.mode === "closed") showTyping();
    // A button sends its title as the customer's words and its payload for the bot.
    const message = title ? {text: title, payload: text, lang: state.lang} : {text, lang: state.lang};
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(message));
      return;
    }
    try {
      await sendRest(message);
    } catch (error) {
      hideTyping();
      const pending = log.querySelector(".msg.pending");
      if (pending) pending.classList.add("failed");
      $("connection").textContent = t("send_failed");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }
  input.addEventListener("input", autosize);

  // ---------------------------------------------------------------- start
  applyLanguage();
  catchUp().catch(() => startPolling()).finally(connect);
})();
