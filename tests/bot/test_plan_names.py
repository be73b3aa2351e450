"""Plan names we do not sell, told apart from plan questions that name no plan."""
import pytest

from bot.plan_names import mentions_plans, unknown_plan_name


@pytest.mark.parametrize("text, name", [
    ("I want the Gold plan", "Gold"), ("switch me to platinum", "Platinum"),
    ("what does the silver package cost?", "Silver"), ("gold", "Gold"),
    ("the gold one please", "Gold"), ("do you have a family plan", "Family"),
    ("Is there a student plan?", "Student"), ("I'd like the business bundle", "Business"),
    ("ik wil het gouden abonnement", "Goud"),
    ("ik wil het goudpakket", "Goud"), ("heeft u een gezinsabonnement?", "Gezin"),
    ("kan ik een zakelijk abonnement krijgen", "Zakelijk"),
    ("studentenabonnement graag", "Student"), ("ik wil naar zilver", "Zilver"),
])
def test_names_of_plans_we_do_not_sell(text, name):
    assert unknown_plan_name(text) == name


@pytest.mark.parametrize("text", [
    "I want to change my plan", "switch me to basic", "which plan fits a light user?",
    "is there a cheaper plan", "I'd like a plan with more data", "upgrade to premium please",
    "ik wil een ander abonnement", "naar het pluspakket graag", "welk pakket past bij mij",
    "what's the max data on standard", "can I pay pro rata",
])
def test_plan_questions_that_name_none_of_those(text):
    assert unknown_plan_name(text) is None


@pytest.mark.parametrize("text, about_plans", [
    ("what are my options?", False), ("wat zijn mijn opties", False),
    ("which payment plans are there", False), ("welke betalingsplannen zijn er", False),
    ("what plans do you have", True), ("which subscription fits me", True),
    ("welke abonnementen zijn er", True), ("is there something with more data", True),
    ("en het pluspakket?", True), ("what about premium", True), ("the 20 GB one", True),
])
def test_a_question_about_plans_told_from_one_about_the_options_just_offered(text, about_plans):
    assert mentions_plans(text) is about_plans
