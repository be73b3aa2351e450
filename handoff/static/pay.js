/* Payment link page (/pay/{token}): what is due, until when, and how to pay by bank transfer.
 *
 * The token is the last part of this page's path; GET /api/payment-links/{token} answers with
 * the amount, the masked account, valid-until and (when configured) the bank account, 404 for
 * a link that is not ours and 410 for an expired one. Instructions only: nothing is paid here.
 * The language is the chat's, else the browser's (UI.customerLanguage).
 */
"use strict";

(() => {
  const {h, money, customerLanguage, date, time} = UI;

  const TEXT = {
    en: {
      title: "Pay your bill", loading: "Loading your payment details…",
      amount_due: "Amount due", account: "Account", valid_until: "This link is valid until",
      at: "{date}, {time}",
      transfer_title: "Pay by bank transfer",
      transfer_intro: "Transfer the amount to the account below. Use the reference exactly, " +
                      "so we can match your payment.",
      beneficiary: "Beneficiary", iban: "IBAN", reference: "Reference", amount: "Amount",
      copy: "Copy", copied: "Copied", copy_label: "Copy {what}",
      no_transfer: "Pay with the payment method on your bill, or contact support in the chat.",
      processing: "Your bill shows as paid once the transfer has reached us.",
      questions: "Questions about this bill?", open_chat: "Ask the assistant in the chat",
      expired_title: "This payment link has expired",
      expired: "For your safety, payment links are valid for a limited time. " +
               "Ask the assistant in the chat for a new link.",
      invalid_title: "This payment link is not valid",
      invalid: "The link may be incomplete or mistyped. Ask the assistant in the chat for a new link.",
      failed_title: "The payment details could not be loaded",
      failed: "Please try again in a moment, or ask the assistant in the chat.",
      retry: "Try again",
    },
    nl: {
      title: "Uw rekening betalen", loading: "Uw betaalgegevens worden geladen…",
      amount_due: "Te betalen", account: "Klantnummer", valid_until: "Deze link is geldig tot",
      at: "{date} om {time}",
      transfer_title: "Betalen per overschrijving",
      transfer_intro: "Maak het bedrag over naar de rekening hieronder. Gebruik precies dit " +
                      "betalingskenmerk, zodat we uw betaling kunnen herkennen.",
      beneficiary: "Begunstigde", iban: "IBAN", reference: "Betalingskenmerk", amount: "Bedrag",
      copy: "Kopiëren", copied: "Gekopieerd", copy_label: "{what} kopiëren",
      no_transfer: "Betaal met de betaalmethode op uw rekening, of neem contact op met de " +
                   "klantenservice in de chat.",
      processing: "Uw rekening staat op betaald zodra de overschrijving bij ons binnen is.",
      questions: "Vragen over deze rekening?", open_chat: "Vraag het de assistent in de chat",
      expired_title: "Deze betaallink is verlopen",
      expired: "Voor uw veiligheid is een betaallink beperkt geldig. " +
               "Vraag de assistent in de chat om een nieuwe link.",
      invalid_title: "Deze betaallink is niet geldig",
      invalid: "De link is misschien onvolledig of verkeerd overgenomen. " +
               "Vraag de assistent in de chat om een nieuwe link.",
      failed_title: "De betaalgegevens konden niet worden geladen",
      failed: "Probeer het zo nog eens, of vraag het de assistent in de chat.",
      retry: "Opnieuw proberen",
    },
  };

  const lang = customerLanguage();
  const t = (key, values = {}) =>
    (TEXT[lang][key] || TEXT.en[key]).replace(/\{(\w+)\}/g, (_, name) => values[name]);

  const content = document.getElementById("content");
  // the browser keeps the path percent-encoded: pass it on as it is
  const token = location.pathname.replace(/^\/pay\//, "");

  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);

  function show(state, ...children) {
    document.body.dataset.state = state;
    content.replaceChildren(...children.filter(Boolean));
    content.setAttribute("aria-busy", "false");
  }

  function chatLink() {
    return h("a", {class: "btn", href: "/chat"}, t("open_chat"));
  }

  /** A copy button, only where the browser lets the page write to the clipboard. */
  function copyButton(value, what) {
    if (!navigator.clipboard || !window.isSecureContext) return null;
    const button = h("button", {type: "button", class: "btn secondary small copy",
                                "aria-label": t("copy_label", {what})}, t("copy"));
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(value);
        button.textContent = t("copied");
        setTimeout(() => { button.textContent = t("copy"); }, 2000);
      } catch (error) { /* clipboard refused: the value is still there to select */ }
    });
    return button;
  }

  function row(label, shown, copyValue) {
    return [h("dt", {}, label),
            h("dd", {}, h("span", {class: "value"}, shown),
              copyValue ? copyButton(copyValue, label) : null)];
  }

  /** Bank-transfer instructions; without a configured bank account, where else to turn. */
  function transfer(link, amount) {
    const bank = link.bank_transfer;
    const body = bank ? [
      h("p", {}, t("transfer_intro")),
      h("dl", {class: "facts", id: "transfer"},
        row(t("beneficiary"), bank.beneficiary, bank.beneficiary),
        row(t("iban"), bank.iban.replace(/(.{4})(?!$)/g, "$1 "), bank.iban),
        row(t("amount"), amount),
        row(t("reference"), bank.reference, bank.reference)),
      h("p", {class: "note"}, t("processing")),
    ] : [h("p", {id: "no-transfer"}, t("no_transfer"))];
    return h("section", {class: "pay-section", "aria-labelledby": "transfer-title"},
             h("h2", {id: "transfer-title"}, t("transfer_title")), body);
  }

  function ready(link) {
    const amount = money(link.amount_minor, link.currency, lang);
    const until = t("at", {date: date(link.valid_until, lang), time: time(link.valid_until, lang)});
    show("ready",
         h("p", {class: "amount-label"}, t("amount_due")),
         h("p", {class: "amount", id: "amount"}, amount),
         h("dl", {class: "facts"},
           row(t("account"), link.account),
           row(t("valid_until"), h("time", {datetime: link.valid_until}, until))),
         transfer(link, amount),
         h("section", {class: "pay-section"},
           h("h2", {}, t("questions")), chatLink()));
  }

  function problem(state) {
    show(state,
         h("h2", {class: "problem-title"}, t(`${state}_title`)),
         h("p", {}, t(state)),
         state === "failed" ? h("button", {type: "button", class: "btn secondary", onclick: load},
                                t("retry")) : null,
         chatLink());
  }

  async function load() {
    content.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`/api/payment-links/${token}`,
                                   {headers: {accept: "application/json"}, cache: "no-store"});
      if (response.ok) return ready(await response.json());
      problem(response.status === 410 ? "expired" : response.status === 404 ? "invalid" : "failed");
    } catch (error) {
      problem("failed");
    }
  }

  load();
})();
