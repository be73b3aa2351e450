"""Questions asked besides the one the classifier read, in English and Dutch."""
import pytest

from bot.also_asked import also_asked


@pytest.mark.parametrize("text, intent, besides", [
    ("what's my balance and when is it due, and can I pay by card?", "ask_balance",
     ["pay_bill"]),  # the balance names its due date: one question
    ("when is my bill due and can I pay it in two parts?", "ask_due_date",
     ["payment_arrangement"]),
    ("wat is mijn saldo en wanneer moet ik betalen? en kan ik in delen betalen?", "ask_due_date",
     ["payment_arrangement"]),
    ("why is my bill so high? can I pay in instalments", "explain_bill",
     ["payment_arrangement"]),
    ("how do I pay, and why is it so high?", "pay_bill", ["explain_bill"]),
    ("waarom is mijn rekening zo hoog en hoe kan ik betalen?", "explain_bill", ["pay_bill"]),
    ("why did my bill go up, and can I get the late fee removed?", "explain_bill",
     ["request_discount"]),
    ("what's my balance and can I switch to premium?", "ask_balance", ["change_plan"]),
    ("wat is mijn saldo en kan ik overstappen naar basic?", "ask_balance", ["change_plan"]),
    # one question only
    ("what is my balance", "ask_balance", []),
    ("can I pay in 3 instalments", "payment_arrangement", []),
    ("can I pay with iDEAL?", "pay_bill", []),
    # a complaint or a plan change is answered on its own
    ("my bill is too high, I want a payment plan", "complain", []),
])
def test_questions_asked_besides_the_intent(text, intent, besides):
    assert also_asked(text, intent) == besides
