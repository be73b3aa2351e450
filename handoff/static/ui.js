/* Small helpers shared by the chat page and the agent console. No dependencies.
 * Text from the server is only ever put into the page as text (never as HTML). */
"use strict";

const UI = (() => {
  /** Create an element: h("p", {class: "x", onclick: fn}, "text", child, …). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "class") {
        el.className = value;
      } else if (key === "dataset") {
        Object.assign(el.dataset, value);
      } else if (value === true) {
        el.setAttribute(key, "");
      } else {
        el.setAttribute(key, String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const URL_RE = /(https?:\/\/[^\s<>"')]+)/g;

  /** Text with http(s) links made clickable; newlines are kept by CSS (pre-wrap). */
  function richText(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of String(text).matchAll(URL_RE)) {
      fragment.append(text.slice(last, match.index));
      fragment.append(h("a", {href: match[0], target: "_blank", rel: "noopener noreferrer"}, match[0]));
      last = match.index + match[0].length;
    }
    fragment.append(String(text).slice(last));
    return fragment;
  }

  function randomHex(bytes) {
    const data = new Uint8Array(bytes);
    crypto.getRandomValues(data);
    return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function money(minor, currency, lang) {
    const locale = lang === "nl" ? "nl-NL" : "en-IE";
    return new Intl.NumberFormat(locale, {style: "currency", currency: currency || "EUR"})
      .format((minor || 0) / 100);
  }

  /** "12,50" or "€ 12.5" or "40" -> 1250 / 1250 / 4000; NaN when not an amount. */
  function parseAmount(text) {
    const cleaned = String(text).replace(/[€\s]/g, "").replace(/eur(o)?/i, "");
    if (!/^\d{1,7}([.,]\d{1,2})?$/.test(cleaned)) return NaN;
    const [whole, fraction = ""] = cleaned.split(/[.,]/);
    return Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
  }

  const LANG_KEY = "billing-chat.lang";

  /** The customer's language on this site: the one picked in the chat, else the browser's. */
  function customerLanguage() {
    const chosen = localStorage.getItem(LANG_KEY) ||
      ((navigator.language || "en").toLowerCase().startsWith("nl") ? "nl" : "en");
    return chosen === "nl" ? "nl" : "en";
  }

  function rememberCustomerLanguage(lang) {
    localStorage.setItem(LANG_KEY, lang);
  }

  function time(iso, lang) {
    const at = new Date(iso);
    if (Number.isNaN(at.getTime())) return "";
    return at.toLocaleTimeString(lang === "nl" ? "nl-NL" : "en-GB", {hour: "2-digit", minute: "2-digit"});
  }

  function date(iso, lang) {
    if (!iso) return "";
    const at = new Date(iso.length === 10 ? iso + "T12:00:00" : iso);
    return at.toLocaleDateString(lang === "nl" ? "nl-NL" : "en-GB",
                                 {day: "numeric", month: "short", year: "numeric"});
  }

  function minutesSince(iso) {
    const at = new Date(iso).getTime();
    return Number.isNaN(at) ? 0 : Math.max(0, Math.floor((Date.now() - at) / 60000));
  }

  function wsUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  /** Payload -> button title, learnt from the buttons the bot showed (so "/affirm" reads "Yes"). */
  // A pressed button reaches the transcript as its payload; people read its title. With
  // `numbered` (SMS), a reply "2" picks option two of the buttons shown since the customer last
  // wrote (handoff/channels/sms_render.py), so it reads "2 (No)".
  class ButtonTitles {
    constructor({numbered = false} = {}) {
      this.titles = new Map();
      this.numbered = numbered;
      this.offered = null;
    }
    learn(buttons) {
      for (const b of buttons || []) if (b && b.payload) this.titles.set(b.payload, b.title);
      if (buttons && buttons.length) this.offered = buttons;
    }
    show(text) { return this.titles.get(text) || text; }
    customer(text) {
      const offered = this.offered, option = /^\s*(\d{1,2})\s*[.)]?\s*$/.exec(text);
      this.offered = null;
      const picked = this.numbered && offered && option ? offered[Number(option[1]) - 1] : null;
      return picked ? `${text.trim()} (${picked.title})` : this.show(text);
    }
  }

  return {h, richText, randomHex, money, parseAmount, customerLanguage, rememberCustomerLanguage,
          time, date, minutesSince, wsUrl, ButtonTitles};
})();
