"""Plan list and recommendation; plan change with a proration preview, then confirmation."""
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.concessions.service import discount_in_place
from billing_core.errors import InvalidRequest, NotFound
from billing_core.plans.service import (
    PlanComparison, PlanOption, compare_plan, current_subscription, data_use, list_plans,
    preview_plan_change, recommend_plan, scheduled_plan_change,
)
from bot.actions.common import (DATA_USE, PLAN_ADVICE, SWITCH_TIMING, WHEN_IT_STARTS, AccountAction,
                                Context, answers, asked_text, last_bot_response, latest_text,
                                new_idempotency_key, offer_person, open_offer, run_in_session)
from bot.actions.billing import say_due_date
from bot.actions.concessions import say_discount_in_place
from bot.actions.verification import second_factor_given
from bot.plan_names import (asks_current_plan, asks_data_use, asks_plan_advice, mentions_plans,
                             plan_described, unknown_plan_name)

DATA_WORDS = {"en": ("unlimited data", "GB"), "nl": ("onbeperkt data", "GB")}
EXTRA_DATA = {"en": "then {price} per extra GB", "nl": "daarna {price} per extra GB"}
COST_FOR_ME = {"en": "What would {plan} cost me?", "nl": "Wat kost {plan} mij?"}


def plan_facts(context: Context, plan: PlanOption) -> tuple[str, str]:
    """The monthly price with VAT and the data, as the customer reads them."""
    unlimited, unit = DATA_WORDS[context.language]
    data = unlimited if plan.included_gb is None else f"{plan.included_gb} {unit}"
    if plan.included_gb is not None and plan.overage_per_gb_incl_vat_minor:
        # what going over costs is part of the price (before: "Basic costs €24.20" to heavy users)
        extra = context.money(plan.overage_per_gb_incl_vat_minor, plan.currency)
        data += " (" + EXTRA_DATA[context.language].format(price=extra) + ")"
    return context.money(plan.monthly_price_incl_vat_minor, plan.currency), data


def plan_line(context: Context, plan: PlanOption) -> str:
    price, data = plan_facts(context, plan)
    return f"- {plan.name}: {price}, {data}"


def say_plan(dispatcher: CollectingDispatcher, context: Context, session: Session,
             code: str) -> list[EventType]:
    """A plan named with no question open ("and basic?" after the list): what it costs, and
    for a verified customer what it would cost them against their own plan."""
    plan = next((plan for plan in list_plans(session) if plan.code == code), None)
    if plan is None:
        dispatcher.utter_message(response="utter_what_can_i_do")
        return []
    price, data = plan_facts(context, plan)
    comparison = None
    if context.verified and context.account_number:
        try:
            comparison = compare_plan(session, account_number=context.account_number,
                                      plan_code=plan.code, today=context.today)
        except NotFound:  # no usage yet to price it on
            pass
    if comparison and comparison.candidate.code == comparison.current.code:
        dispatcher.utter_message(response="utter_plan_is_current", plan=plan.name, price=price,
                                 data=data)
        return []
    dispatcher.utter_message(response="utter_plan_price", plan=plan.name, price=price, data=data)
    if comparison:
        say_comparison(dispatcher, context, comparison)
    elif not context.verified and plan.included_gb is not None:
        # "how much would I save with Basic?" depends on their data use: offer to work it out
        title = COST_FOR_ME[context.language].format(plan=plan.name)
        dispatcher.utter_message(
            response="utter_plan_cost_for_you", plan=plan.name,
            buttons=[{"title": title, "payload": f'/change_plan{{"plan": "{plan.code}"}}'}])
    return []


async def tell_plan(dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
                    code: str) -> list[EventType]:
    """`say_plan` in a unit of work of its own, for the actions that are no account action."""
    return await run_in_session(dispatcher, lambda d, t, c, s: say_plan(d, c, s, code),
                                tracker, context)


def say_unknown_plan(dispatcher: CollectingDispatcher, text: str) -> bool:
    """"The Gold plan": say we have no plan by that name; the caller goes on with ours."""
    name = unknown_plan_name(text)
    if name:
        dispatcher.utter_message(response="utter_plan_not_offered", name=name)
    return name is not None


def say_comparison(dispatcher: CollectingDispatcher, context: Context,
                   comparison: PlanComparison) -> None:
    """What the other plan would save or cost the customer a year, on their own usage."""
    usage = ", ".join(f"{gb} GB" for gb in comparison.usage_gb)
    plan, saving = comparison.candidate.name, comparison.yearly_saving_minor
    if saving > 0:
        dispatcher.utter_message(response="utter_plan_recommendation", plan=plan, usage=usage,
                                 saving=context.money(saving))
    else:
        dispatcher.utter_message(response="utter_plan_costs_more" if saving else "utter_plan_costs_same",
                                 plan=plan, usage=usage, extra=context.money(-saving),
                                 current=comparison.current.name)


def comparison_on_usage(context: Context, session: Session,
                        plan_code: str) -> PlanComparison | None:
    """`plan_code` priced on the customer's own recent data use; None with no usage yet."""
    try:
        return compare_plan(session, account_number=context.account_number,
                            plan_code=plan_code, today=context.today)
    except NotFound:
        return None


def say_plan_on_usage(dispatcher: CollectingDispatcher, context: Context, session: Session,
                      plan_code: str) -> list[EventType]:
    """What `plan_code` would save or cost the customer on their own data use of the last
    months (nothing when there is no usage yet)."""
    comparison = comparison_on_usage(context, session, plan_code)
    if comparison:
        say_comparison(dispatcher, context, comparison)
    return []


def say_scheduled_change(dispatcher: CollectingDispatcher, context: Context,
                         session: Session) -> bool:
    """The plan change already waiting for its date, if there is one: advice or a tip to
    switch would contradict it ("Basic would save you..." right after choosing Basic)."""
    change = scheduled_plan_change(session, account_number=context.account_number,
                                   today=context.today)
    if change is None:
        return False
    dispatcher.utter_message(response="utter_plan_change_scheduled", to_plan=change.to_plan.name,
                             date=context.date(change.effective_date))
    return True


def say_recommendation(dispatcher: CollectingDispatcher, context: Context, session: Session) -> bool:
    """Which plan fits the customer's data use (or the change already scheduled); False when
    there is no usage to go by."""
    if say_scheduled_change(dispatcher, context, session):
        return True
    try:
        recommendation = recommend_plan(session, account_number=context.account_number,
                                        today=context.today)
    except NotFound:
        return False
    if recommendation.should_switch:
        say_comparison(dispatcher, context, recommendation)
    else:
        dispatcher.utter_message(response="utter_plan_fits", plan=recommendation.current.name)
    return True


def say_plans(dispatcher: CollectingDispatcher, context: Context, session: Session) -> None:
    lines = "\n".join(plan_line(context, plan) for plan in list_plans(session))
    dispatcher.utter_message(response="utter_plans", plans=lines)


def wants_plan_advice(tracker: Tracker) -> bool:
    """"Which plan is best for me?", or asking about plans again (typed or by its button)
    right after the bot offered that advice."""
    text = latest_text(tracker)
    return asks_plan_advice(text) or asks_current_plan(text) or \
        last_bot_response(tracker) == "utter_plans_advice"


def advice_after_verification(dispatcher: CollectingDispatcher, tracker: Tracker,
                              request: str = PLAN_ADVICE) -> list[EventType]:
    """Plan advice (or their data use) asked before verification: kept for after it, and
    verification starts (or goes on), instead of the price list again."""
    earlier = [asked for asked in tracker.get_slot("pending_request") or [] if asked != request]
    events: list[EventType] = [SlotSet("pending_request", earlier + [request])]
    if tracker.active_loop_name == "verify_form":  # the form asks its question again
        dispatcher.utter_message(response="utter_answer_after_verification")
        return events
    dispatcher.utter_message(response="utter_verify_first")
    return events + second_factor_given(tracker) + [FollowupAction("verify_form")]


@answers(DATA_USE, "action_data_use")
class ActionDataUse(AccountAction):
    """The data used in the last months against the plan's allowance (before: the balance or
    the price list to "how many GB have I used?")."""

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        use = data_use(session, account_number=context.account_number, today=context.today)
        unlimited, unit = DATA_WORDS[context.language]
        if not use.months:
            dispatcher.utter_message(response="utter_data_use_none_yet")
            return []
        months = ", ".join(f"{gb} {unit} ({context.month(start)})" for start, gb in use.months)
        allowance = unlimited if use.included_gb is None else f"{use.included_gb} {unit}"
        dispatcher.utter_message(response="utter_data_use", months=months, allowance=allowance)
        return []


@answers(SWITCH_TIMING, "action_switch_timing")
class ActionSwitchTiming(AccountAction):
    """When the previewed switch starts (the preview follows again: `AccountAction.run`)."""

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        offer = open_offer(tracker) or {}
        if offer.get("type") == "plan_change":
            say_when_plan_change_starts(dispatcher, context, session, offer["to_plan"])
        return []


@answers(WHEN_IT_STARTS, "action_when_it_starts")
class ActionWhenItStarts(AccountAction):
    """When what was agreed starts: a scheduled switch, a discount's first bill, an
    arrangement's next part; else the due date (before: the balance to "vanaf wanneer gaat
    dat in?" right after a switch)."""

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        if say_scheduled_change(dispatcher, context, session):
            return []
        discount = discount_in_place(session, account_number=context.account_number,
                                     today=context.today)
        if discount:
            say_discount_in_place(dispatcher, context, discount)
            return []
        say_due_date(dispatcher, context, session, late_fee=False)
        return []


@answers(PLAN_ADVICE, "action_plan_advice")
class ActionPlanAdvice(AccountAction):
    """The plan that fits the customer's own data use (the price list when there is none),
    after the plan they have when that was asked ("what plan am I on?")."""

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        if asks_current_plan(asked_text(tracker, "ask_plans")):
            current = current_subscription(session, account_number=context.account_number,
                                           today=context.today).plan
            dispatcher.utter_message(response="utter_current_plan", plan=current.name)
        if not say_recommendation(dispatcher, context, session):
            say_plans(dispatcher, context, session)
        return []


class ActionListPlans(Action):
    """Anyone may see the plans; a verified customer also hears which one fits them best,
    anyone else how to get that advice. A plan asked about by name gets its price alone."""

    def name(self) -> str:
        return "action_list_plans"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        context = Context.of(tracker)

        named = next(tracker.get_latest_entity_values("plan"), None)
        if named:  # "what does Premium cost?": that plan, not the whole list
            return await tell_plan(dispatcher, tracker, context, str(named))
        offer = open_offer(tracker) or {}
        arranging = tracker.get_slot("awaiting") == "arrangement_choice" or \
            offer.get("type") == "arrangement"
        if arranging and not mentions_plans(latest_text(tracker)):
            # "what are my options?" while the arrangement options or a preview of one wait:
            # those options, not the plans
            dispatcher.utter_message(response="utter_arrangement_choice_unclear")
            return [SlotSet("awaiting", "arrangement_choice"), SlotSet("offer", None)]

        if asks_data_use(latest_text(tracker)):  # "how much data have I used?": not the plans
            if not context.verified:
                return advice_after_verification(dispatcher, tracker, DATA_USE)
            return await run_in_session(dispatcher, ActionDataUse().handle, tracker, context)
        if wants_plan_advice(tracker):
            if not context.verified:
                return advice_after_verification(dispatcher, tracker)
            return await run_in_session(dispatcher, ActionPlanAdvice().handle, tracker, context)

        def handle(dispatcher, tracker, context, session):
            say_unknown_plan(dispatcher, latest_text(tracker))
            say_plans(dispatcher, context, session)
            if context.verified and context.account_number:
                say_recommendation(dispatcher, context, session)
            else:  # the advice needs their usage: offer the way there (verification first)
                dispatcher.utter_message(response="utter_plans_advice")
            return []

        return await run_in_session(dispatcher, handle, tracker, context)


def other_plan_buttons(session: Session, current_code: str) -> list[dict]:
    return [{"title": plan.name, "payload": f'/inform{{"plan": "{plan.code}"}}'}
            for plan in list_plans(session) if plan.code != current_code]


def say_what_change_costs_them(dispatcher: CollectingDispatcher, context: Context,
                               session: Session, plan_code: str, *, downgrade: bool) -> None:
    """Before the yes: what the new plan would save the customer a year on their own data
    use, or, for a smaller plan, what it would cost them more (the extra data can cost more
    than the plan they have). A bigger plan's higher price is in the preview already."""
    comparison = comparison_on_usage(context, session, plan_code)
    if comparison is None:  # no usage yet to price it on
        return
    if comparison.yearly_saving_minor > 0 or (downgrade and comparison.yearly_saving_minor < 0):
        say_comparison(dispatcher, context, comparison)


def second_change_to_person(dispatcher: CollectingDispatcher, context: Context,
                            session: Session) -> list[EventType] | None:
    """With a change scheduled already: say which, and offer a person for another one (the
    bot makes one change at a time); None when there is none."""
    if not say_scheduled_change(dispatcher, context, session):
        return None
    return [SlotSet("target_plan", None)] + offer_person(
        dispatcher, "change_scheduled_plan", response="utter_plan_change_pending")


def offer_plan_change(dispatcher: CollectingDispatcher, context: Context, session: Session,
                      plan_code: str) -> list[EventType]:
    """Show the preview for `plan_code` and wait for a yes; the change itself waits for it."""
    events: list[EventType] = [SlotSet("target_plan", None)]
    second = second_change_to_person(dispatcher, context, session)
    if second is not None:
        return second
    try:
        preview = preview_plan_change(session, account_number=context.account_number,
                                      to_plan_code=plan_code, today=context.today)
    except NotFound:
        dispatcher.utter_message(response="utter_plan_unknown")
        return events + [SlotSet("awaiting", "plan_choice")]
    except InvalidRequest:  # already on that plan: ask which one instead
        dispatcher.utter_message(response="utter_plan_already", plan=plan_code.capitalize(),
                                 buttons=other_plan_buttons(session, plan_code))
        return events + [SlotSet("awaiting", "plan_choice")]
    new_price = context.money(preview.to_plan.monthly_price_incl_vat_minor, preview.currency)
    say_what_change_costs_them(dispatcher, context, session, preview.to_plan.code,
                               downgrade=preview.direction != "upgrade")
    if preview.direction == "upgrade":
        dispatcher.utter_message(
            response="utter_plan_preview_upgrade", from_plan=preview.from_plan.name,
            to_plan=preview.to_plan.name, new_price=new_price, days=preview.days_remaining,
            proration=context.money(preview.proration_incl_vat_minor, preview.currency))
    else:
        dispatcher.utter_message(
            response="utter_plan_preview_downgrade", from_plan=preview.from_plan.name,
            to_plan=preview.to_plan.name, new_price=new_price,
            data=plan_facts(context, preview.to_plan)[1], date=context.date(preview.effective_date))
    offer = {"type": "plan_change", "to_plan": preview.to_plan.code,
             "key": new_idempotency_key(context, "plan")}
    return events + [SlotSet("awaiting", "confirm"), SlotSet("offer", offer)]


def say_when_plan_change_starts(dispatcher: CollectingDispatcher, context: Context,
                                session: Session, plan_code: str) -> None:
    """"Why not straight away?" about a previewed switch: when it starts, and why."""
    preview = preview_plan_change(session, account_number=context.account_number,
                                  to_plan_code=plan_code, today=context.today)
    if preview.direction == "upgrade":
        dispatcher.utter_message(response="utter_plan_change_starts_now", to_plan=preview.to_plan.name)
    else:
        dispatcher.utter_message(response="utter_plan_change_starts_later",
                                 to_plan=preview.to_plan.name, from_plan=preview.from_plan.name,
                                 date=context.date(preview.effective_date))


@answers("change_plan", "action_change_plan")
class ActionChangePlan(AccountAction):
    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        second = second_change_to_person(dispatcher, context, session)
        if second is not None:
            return second
        target = tracker.get_slot("target_plan") or plan_described(asked_text(tracker, self.intent))
        if target:
            return offer_plan_change(dispatcher, context, session, target)
        current = current_subscription(session, account_number=context.account_number,
                                       today=context.today).plan
        say_unknown_plan(dispatcher, asked_text(tracker, self.intent))
        say_recommendation(dispatcher, context, session)  # what fits them, before the choice
        dispatcher.utter_message(response="utter_ask_target_plan", plan=current.name,
                                 buttons=other_plan_buttons(session, current.code))
        return [SlotSet("awaiting", "plan_choice")]
