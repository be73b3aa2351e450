"""Balance, due date, why the bill changed, how to pay (and by which method), "I already
paid", a disputed late fee and "you charged me twice"."""
from abc import abstractmethod
from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.arrangements.models import (ArrangementInstalment, ArrangementKind,
                                              ArrangementStatus, PaymentArrangement)
from billing_core.config import get_settings as billing_settings
from billing_core.concessions.models import ConcessionKind
from billing_core.concessions.service import assess_concession
from billing_core.enums import Role
from billing_core.errors import InvalidRequest, NotFound
from billing_core.invoices.billing import LATE_FEE_MINOR
from billing_core.invoices.service import (
    BalanceSummary, BillExplanation, check_double_charge, create_payment_link,
    estimate_next_bill, explain_latest_bill, get_balance, latest_payment,
)
from bot.actions.common import (ACCOUNT_ACTIONS, NEXT_BILL, AccountAction, Context, answers,
                                asked_text, latest_text, offer_person)
from bot.actions.concessions import offer_best_concession, say_cheaper_plan
from bot.payment_claims import (asks_about_paying_late, claims_double_charge,
                                disputes_late_fee, is_payment_message, paid_instantly,
                                wants_to_pay_in_full, wants_to_pay_in_parts)
from bot.payment_methods import ANY_METHOD, DIRECT_DEBIT, asked_payment_method

# How each payment method is named in a list ("by iDEAL and bank transfer") and when refused.
WALLETS = {"paypal": "PayPal", "apple_pay": "Apple Pay", "google_pay": "Google Pay",
           "bancontact": "Bancontact"}
METHOD_NAMES = {
    "en": {"ideal": "iDEAL", "card": "card", **WALLETS, "bank_transfer": "bank transfer"},
    "nl": {"ideal": "iDEAL", "card": "creditcard of betaalpas", **WALLETS,
           "bank_transfer": "bankoverschrijving"},
}
REFUSED_METHODS = {
    "en": {"ideal": "paying with iDEAL", "card": "paying by card",
           **{key: f"paying with {name}" for key, name in WALLETS.items()},
           "cash": "paying in cash", "bank_transfer": "paying by bank transfer"},
    "nl": {"ideal": "betalen met iDEAL", "card": "betalen met een creditcard of betaalpas",
           **{key: f"betalen met {name}" for key, name in WALLETS.items()},
           "cash": "contant betalen", "bank_transfer": "betalen per bankoverschrijving"},
}

# "I already paid" has no intent of its own; read as not understood, it is remembered under
# this name for after verification.
PAYMENT_CLAIM = "payment_claim"


# What the next part of an arrangement is called: an extension has one payment, no instalments.
PART_WORDS = {"en": {ArrangementKind.instalments: "instalment", ArrangementKind.extension: "payment"},
              "nl": {ArrangementKind.instalments: "termijn", ArrangementKind.extension: "betaling"}}


def upcoming_part(session: Session, balance: BalanceSummary,
                  today: date) -> tuple[ArrangementKind, ArrangementInstalment] | None:
    """The next part of the account's active payment arrangement, if it has one."""
    arrangement = balance.arrangement_id and session.get(PaymentArrangement, balance.arrangement_id)
    if not arrangement or arrangement.status is not ArrangementStatus.active:
        return None
    upcoming = [i for i in arrangement.instalments if i.due_date >= today]
    return (arrangement.kind, upcoming[0]) if upcoming else None


def next_instalment(session: Session, balance: BalanceSummary, context: Context) -> dict | None:
    """The next part of the account's active payment arrangement (the response's `amount`,
    `due_date` and `part`), if it has one."""
    upcoming = upcoming_part(session, balance, context.today)
    return part_said(context, *upcoming, balance.currency) if upcoming else None


def part_said(context: Context, kind: ArrangementKind, part: ArrangementInstalment,
              currency: str) -> dict:
    return {"amount": context.money(part.amount_minor, currency),
            "due_date": context.date(part.due_date), "part": PART_WORDS[context.language][kind]}


def say_balance(dispatcher: CollectingDispatcher, context: Context, balance: BalanceSummary,
                *, open_response: str) -> None:
    """Paid, overdue, or open (then `open_response` with the amount and its due date)."""
    amount = context.money(balance.balance_minor, balance.currency)
    if balance.balance_minor < 0:  # "-€5.00" read as a debt: a credit, said as one
        dispatcher.utter_message(response="utter_balance_credit",
                                 credit=context.money(-balance.balance_minor, balance.currency))
    elif balance.status == "paid" or balance.next_due_date is None:
        dispatcher.utter_message(response="utter_balance_paid", balance=amount)
    elif balance.status == "overdue":
        dispatcher.utter_message(response="utter_balance_overdue", balance=amount,
                                 overdue=context.money(balance.overdue_minor, balance.currency))
    else:
        dispatcher.utter_message(response=open_response, balance=amount, amount=amount,
                                 due_date=context.date(balance.next_due_date))


def say_overdue_dates(dispatcher: CollectingDispatcher, context: Context,
                      balance: BalanceSummary) -> None:
    """When an overdue balance was due, and when the part not due yet is."""
    dispatcher.utter_message(response="utter_due_date_overdue",
                             overdue=context.money(balance.overdue_minor, balance.currency),
                             overdue_since=context.date(balance.overdue_since))
    rest = balance.balance_minor - balance.overdue_minor
    if rest > 0 and balance.upcoming_due_date:
        dispatcher.utter_message(response="utter_due_date_rest",
                                 amount=context.money(rest, balance.currency),
                                 due_date=context.date(balance.upcoming_due_date))
    dispatcher.utter_message(response="utter_due_date_options")


def answer_payment_claim(dispatcher: CollectingDispatcher, context: Context,
                         session: Session, claim: str) -> list[EventType]:
    """Whether the payment the customer made has arrived, the balance, and for one not seen
    yet how long it can take (a transfer days, iDEAL or a card minutes) and a colleague to
    trace it."""
    balance = get_balance(session, account_number=context.account_number, today=context.today)
    payment = latest_payment(session, account_number=context.account_number)
    latest_bill = balance.latest_invoice
    arrived = payment is not None and (latest_bill is None
                                       or payment.paid_on >= latest_bill.issue_date)
    seen = {"amount": context.money(payment.amount_minor, payment.currency),
            "date": context.date(payment.paid_on)} if payment else {}
    dispatcher.utter_message(response="utter_payment_received" if arrived
                             else "utter_payment_not_seen" if payment else "utter_no_payment_seen",
                             **seen)
    instant = paid_instantly(claim)
    if not arrived:
        dispatcher.utter_message(response="utter_instant_payment_missing" if instant
                                 else "utter_transfer_takes_time")
    say_balance(dispatcher, context, balance, open_response="utter_balance_due")
    if arrived:
        return []
    dispatcher.utter_message(response="utter_payment_trace_now" if instant
                             else "utter_payment_trace")
    return offer_person(dispatcher, "payment_not_found")


def answer_double_charge(dispatcher: CollectingDispatcher, context: Context,
                         session: Session) -> list[EventType]:
    """A payment taken twice is said with the credit it left; with none, the latest bill and
    that nothing was taken twice here. Either way a colleague can refund or trace it."""
    check = check_double_charge(session, account_number=context.account_number,
                                today=context.today)
    if check.repeated_payment:
        first, second = check.repeated_payment
        dispatcher.utter_message(response="utter_paid_twice",
                                 amount=context.money(second.amount_minor, second.currency),
                                 first=context.date(first.paid_on),
                                 second=context.date(second.paid_on))
        if check.credit_minor:
            dispatcher.utter_message(response="utter_credit_on_account",
                                     credit=context.money(check.credit_minor, check.currency))
        dispatcher.utter_message(response="utter_refund_by_person")
        return offer_person(dispatcher, "double_payment")
    if check.latest_bill is None:
        dispatcher.utter_message(response="utter_no_bill_yet")
    else:
        dispatcher.utter_message(response="utter_not_charged_twice",
                                 amount=context.money(check.latest_bill.total_minor, check.currency),
                                 date=context.date(check.latest_bill.issue_date))
    dispatcher.utter_message(response="utter_bank_debits_traced")
    return offer_person(dispatcher, "double_charge_not_found")


def answer_payment_message(dispatcher: CollectingDispatcher, context: Context, session: Session,
                           text: str) -> list[EventType]:
    """"You charged me twice" gets the payments checked for one taken twice. A late fee said
    to be wrong ("I paid on time!") gets the fee looked at: the waiver the policy allows the
    bot, else a person. "I already paid" gets what payment arrived."""
    if claims_double_charge(text):
        return answer_double_charge(dispatcher, context, session)
    if disputes_late_fee(text):
        fee = assess_concession(session, account_number=context.account_number,
                                kind=ConcessionKind.late_fee_waiver, role=Role.bot,
                                today=context.today)
        if "no_late_fee" in fee.reasons:  # the fee must be on an earlier bill
            dispatcher.utter_message(response="utter_no_late_fee")
            return offer_person(dispatcher, "late_fee_dispute")
        dispatcher.utter_message(response="utter_apologise")
        return offer_best_concession(dispatcher, context, session, churn_risk=False,
                                     reason_code="late_fee_dispute")
    return answer_payment_claim(dispatcher, context, session, text)


class BillQuestion(AccountAction):
    """A balance, due date, bill or payment question. Asked with "I already paid", "that late
    fee is wrong" or "you charged me twice" (the classifier spreads these over all four), it
    is answered with what payment arrived, the fee looked at or the payments checked."""

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        asked = asked_text(tracker, self.intent)
        if is_payment_message(asked):
            return answer_payment_message(dispatcher, context, session, asked)
        return self.answer(dispatcher, tracker, context, session)

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        """The answer to the question itself."""


@answers(PAYMENT_CLAIM, "action_check_payment")
class ActionCheckPayment(AccountAction):
    """'I already paid' or 'dubbel geïncasseerd' on its own (read as not understood; see
    ActionClarify)."""

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        claims = (event.get("text") or "" for event in reversed(tracker.events)
                  if event.get("event") == "user" and is_payment_message(event.get("text") or ""))
        return answer_payment_message(dispatcher, context, session, next(claims, ""))


@answers("ask_balance", "action_show_balance")
class ActionShowBalance(BillQuestion):
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        balance = get_balance(session, account_number=context.account_number, today=context.today)
        instalment = next_instalment(session, balance, context)
        if instalment:  # not "overdue, shall I set up an arrangement?" when one is running
            dispatcher.utter_message(response="utter_balance_in_arrangement",
                                     balance=context.money(balance.balance_minor, balance.currency),
                                     **instalment)
        else:
            say_balance(dispatcher, context, balance, open_response="utter_balance_due")
        return []


@answers(NEXT_BILL, "action_next_bill")
class ActionNextBill(BillQuestion):
    """An estimate of the next bill, as the invoice run would make it today (before: the
    open balance, "you have nothing to pay", to "what will my next bill be?")."""

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        estimate = estimate_next_bill(session, account_number=context.account_number,
                                      today=context.today)
        details = {"date": context.date(estimate.issue_date),
                   "amount": context.money(estimate.total_minor, estimate.currency)}
        if estimate.extra_data_minor > 0:
            dispatcher.utter_message(response="utter_next_bill_with_extra_data", **details)
        else:
            dispatcher.utter_message(response="utter_next_bill", **details)
        return []


@answers("ask_due_date", "action_show_due_date")
class ActionShowDueDate(BillQuestion):
    """The due date; asked what paying late costs, also the late fee and the way around it."""

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        say_due_date(dispatcher, context, session,
                     late_fee=asks_about_paying_late(asked_text(tracker, self.intent)))
        return []


def say_due_date(dispatcher: CollectingDispatcher, context: Context, session: Session, *,
                 late_fee: bool) -> None:
    """When to pay (the arrangement's next part, the overdue and the coming amounts); with
    `late_fee`, what paying late costs them: nothing while an arrangement is kept to, the fee
    for an amount already late (not "if you pay late"), else the terms."""
    balance = get_balance(session, account_number=context.account_number, today=context.today)
    instalment = next_instalment(session, balance, context)
    if instalment:
        dispatcher.utter_message(response="utter_arrangement_in_place", **instalment)
    elif balance.status == "overdue" and balance.overdue_since:
        say_overdue_dates(dispatcher, context, balance)
    else:
        say_balance(dispatcher, context, balance, open_response="utter_due_date")
    if not late_fee:
        return
    fee = context.money(LATE_FEE_MINOR, balance.currency)
    if instalment:
        dispatcher.utter_message(response="utter_late_fee_arrangement")
    elif balance.status == "overdue":
        dispatcher.utter_message(response="utter_late_fee_overdue", fee=fee)
    else:
        dispatcher.utter_message(response="utter_late_fee_terms", fee=fee)


# A bill's lines in plain words, by kind (the lines' own descriptions are English).
LINE_WORDS = {
    "en": {"recurring": "the monthly fee of {amount}", "usage": "{amount} for extra data",
           "tax": "{amount} VAT", "discount": "{amount} off", "late_fee":
           "a late payment fee of {amount}", "credit": "a credit of {amount}",
           "proration": "{amount} for a plan change"},
    "nl": {"recurring": "de maandprijs van {amount}", "usage": "{amount} voor extra data",
           "tax": "{amount} btw", "discount": "{amount} korting", "late_fee":
           "{amount} kosten voor te laat betalen", "credit": "{amount} tegoed",
           "proration": "{amount} voor een abonnementswijziging"},
}
AND = {"en": "and", "nl": "en"}


def bill_parts(context: Context, explanation: BillExplanation) -> str:
    """"the monthly fee of €55.00 and €11.55 VAT": what the latest bill is made of."""
    words = LINE_WORDS[context.language]
    parts = [words[line.kind].format(amount=context.money(abs(line.amount_minor),
                                                          explanation.currency))
             for line in explanation.latest_lines]
    if len(parts) < 2:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {AND[context.language]} {parts[-1]}"


def say_explanation(dispatcher: CollectingDispatcher, context: Context,
                    explanation: BillExplanation) -> None:
    """The latest bill against the previous one, biggest change first, in plain words; a
    first bill, or one like the previous, by what it is made of."""
    money = lambda amount: context.money(amount, explanation.currency)  # noqa: E731
    latest = money(explanation.latest.total_minor)
    if explanation.previous is None or not explanation.changes:
        dispatcher.utter_message(response="utter_bill_first" if explanation.previous is None
                                 else "utter_bill_same", latest=latest,
                                 parts=bill_parts(context, explanation))
        return
    previous = money(explanation.previous.total_minor)
    difference = explanation.difference_minor
    if difference >= 0:
        dispatcher.utter_message(response="utter_bill_higher", latest=latest, previous=previous,
                                 difference=money(difference),
                                 percent=explanation.percent_change)
    else:
        dispatcher.utter_message(response="utter_bill_lower", latest=latest, previous=previous,
                                 difference=money(-difference))
    for change in explanation.changes:
        amount = change.previous_minor if change.reason in ("promotion_ended", "late_fee_removed",
                                                            "removed_item") else change.impact_minor
        dispatcher.utter_message(response=f"utter_reason_{change.reason}",
                                 amount=money(abs(amount)), description=change.description)


def say_saving_tip(dispatcher: CollectingDispatcher, context: Context, session: Session) -> None:
    """After the bill explained: a plan that fits the customer's data use better and would
    cost them less, if there is one (the way to a lower bill, not only why it is what it is),
    and none when a plan change is scheduled already."""
    say_cheaper_plan(dispatcher, context, session, response="utter_plan_saving_tip")


@answers("explain_bill", "action_explain_bill")
class ActionExplainBill(BillQuestion):
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        try:
            explanation = explain_latest_bill(session, account_number=context.account_number)
        except NotFound:
            dispatcher.utter_message(response="utter_no_bill_yet")
            return []
        say_explanation(dispatcher, context, explanation)
        say_saving_tip(dispatcher, context, session)
        return []


def listed(names: list[str], language: str) -> str:
    """"iDEAL, card and bank transfer" ("en" in Dutch)."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {'en' if language == 'nl' else 'and'} {names[-1]}"


def say_payment_method(dispatcher: CollectingDispatcher, language: str, method: str) -> None:
    """Answer "can I pay with iDEAL?" from what the payment page takes (a setting), "can I
    transfer it?" with the bank account; direct debit needs a mandate a colleague sets up."""
    if method == DIRECT_DEBIT:
        dispatcher.utter_message(response="utter_direct_debit_by_person")
        return
    settings = billing_settings()
    accepted = settings.payment_methods
    if not accepted:  # a provider's page that nobody listed: don't guess
        dispatcher.utter_message(response="utter_payment_methods_on_page")
        return
    methods = listed([METHOD_NAMES[language][m] for m in accepted], language)
    if method == "bank_transfer" and method in accepted and settings.payment_iban:
        # the company's account is no secret; the reference ties the money to the customer
        iban = settings.payment_iban
        dispatcher.utter_message(response="utter_bank_transfer_details",
                                 beneficiary=settings.payment_beneficiary,
                                 iban=" ".join(iban[i:i + 4] for i in range(0, len(iban), 4)))
    elif method == ANY_METHOD:
        dispatcher.utter_message(response="utter_payment_methods", methods=methods)
    elif method in accepted:
        dispatcher.utter_message(response="utter_payment_method_accepted", methods=methods)
    else:
        dispatcher.utter_message(response="utter_payment_method_refused", methods=methods,
                                 refused=REFUSED_METHODS[language][method])


def offer_direct_debit(dispatcher: CollectingDispatcher) -> list[EventType]:
    return offer_person(dispatcher, "direct_debit", response="utter_offer_direct_debit")


@answers("pay_bill", "action_send_payment_link")
class ActionSendPaymentLink(BillQuestion):
    """The payment link; a question about how to pay asked just now is answered first (one
    asked before verification was answered then), and direct debit offers a colleague."""

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        asked = asked_text(tracker, "pay_bill")  # also "what's my balance, can I pay by card?"
        if wants_to_pay_in_parts(asked):  # "kan ik afbetalen?": the arrangement, not the link
            return ACCOUNT_ACTIONS["payment_arrangement"].handle(dispatcher, tracker, context,
                                                                 session)
        asked_now = asked == latest_text(tracker)  # before verification it was answered then
        method = asked_payment_method(asked)
        if method and asked_now:
            say_payment_method(dispatcher, context.language, method)
        # With an arrangement running, the link is for its next part ("pay this month's
        # instalment"), unless the customer asks to pay it all.
        balance = get_balance(session, account_number=context.account_number, today=context.today)
        upcoming = None if wants_to_pay_in_full(asked) else \
            upcoming_part(session, balance, context.today)
        try:
            link = create_payment_link(session, account_number=context.account_number,
                                       amount_minor=upcoming[1].amount_minor if upcoming else None)
        except InvalidRequest:
            said = {message.get("response") for message in dispatcher.messages}
            if not said & {"utter_balance_paid", "utter_balance_credit"}:  # not twice in a turn
                dispatcher.utter_message(response="utter_nothing_to_pay")
        else:
            link_said = {"url": link.url, "expires": context.date(link.expires_at.date())}
            if upcoming:  # the link's amount is the part's
                dispatcher.utter_message(
                    response="utter_payment_link_part", **link_said,
                    **part_said(context, *upcoming, balance.currency),
                    total=context.money(balance.balance_minor, balance.currency))
            else:
                dispatcher.utter_message(response="utter_payment_link", **link_said,
                                         amount=context.money(link.amount_minor, link.currency))
        return offer_direct_debit(dispatcher) if method == DIRECT_DEBIT else []
