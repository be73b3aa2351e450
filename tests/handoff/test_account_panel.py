"""The console's account panel lists the payments received, so an agent can check "I already
paid" without guessing from the open amounts. Real handoff service on the seeded billing DB."""
import pytest

from tests.handoff.page_fixtures import Staff, billing_rows

pytestmark = pytest.mark.rasa


def test_the_account_shows_the_payments_received_newest_first(handoff_service, staff_password,
                                                               bot_database_url):
    supervisor = Staff(handoff_service, "super1", staff_password)
    try:
        account = supervisor.get("/api/accounts/10000001").raise_for_status().json()
    finally:
        supervisor.close()
    stored = billing_rows(bot_database_url,
                          "select p.amount_minor, p.paid_at, p.method from payments p join accounts a "
                          "on a.id = p.account_id where a.account_number = '10000001' "
                          "order by p.paid_at desc, p.id desc limit 5")
    assert stored, "the demo seed gives Jane payments"
    assert [(p["amount_minor"], p["paid_on"], p["method"]) for p in account["payments"]] == \
        [(amount, str(paid_at)[:10], method) for amount, paid_at, method in stored]
