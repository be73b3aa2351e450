"""The SMS channel's small rules, and the official Twilio client against the stand-in."""
import re

import pytest
from twilio.base.exceptions import TwilioRestException

from handoff.channels.sms import (backoff_seconds, conversation_id_for, keyword_of,
                                  make_twilio_client, normalize_phone)
from handoff.core.config import Settings
from tests.handoff.conftest import TWILIO_SID, TWILIO_TOKEN


@pytest.mark.parametrize("phone, expected", [
    ("+31600000001", "sms-31600000001"), ("+31 6 0000-0001", "sms-31600000001"),
    ("+1 (415) 555-0100", "sms-14155550100")])
def test_conversation_ids_are_sms_and_the_digits(phone, expected):
    assert conversation_id_for(phone) == expected
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", expected)


@pytest.mark.parametrize("phone", ["", "Acme", "+12"])
def test_a_sender_without_a_number_has_no_conversation(phone):
    with pytest.raises(ValueError):
        conversation_id_for(phone)


def test_phone_numbers_are_normalized_to_e164():
    assert normalize_phone(" +31 6-0000 0001 ") == "+31600000001"


@pytest.mark.parametrize("text, opted_out, expected", [
    ("STOP", False, "stop"), (" stop. ", False, "stop"), ("StopAll", False, "stop"),
    ("unsubscribe", False, "stop"), ("CANCEL", False, "stop"), ("end", False, "stop"),
    ("quit", False, "stop"), ("afmelden", False, "stop"),
    ("START", False, "start"), ("unstop", False, "start"), ("yes", True, "start"),
    ("ja", True, "start"), ("yes", False, None), ("help", False, "help"),
    ("HULP!", False, "help"), ("info", False, "help"),
    ("stop charging me twice", False, None), ("please help", False, None), ("2", False, None)])
def test_keywords_are_whole_messages(text, opted_out, expected):
    assert keyword_of(text, opted_out=opted_out) == expected


def test_backoff_doubles_and_is_capped():
    settings = Settings(sms_retry_base_seconds=2, sms_retry_max_seconds=30)
    assert [backoff_seconds(n, settings) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_the_official_client_sends_to_the_configured_base_url(twilio_fake):
    settings = Settings(twilio_api_base_url=twilio_fake.url + "/", twilio_account_sid=TWILIO_SID,
                        twilio_auth_token=TWILIO_TOKEN)
    client = make_twilio_client(settings)
    assert client.api.base_url == twilio_fake.url
    message = client.messages.create(to="+31699999901", from_="+3197010000000", body="ping")
    assert message.sid.startswith("SM") and message.status == "queued"
    assert [m["sid"] for m in twilio_fake.messages("+31699999901")] == [message.sid]

    wrong = make_twilio_client(settings.model_copy(update={"twilio_auth_token": "not-the-token"}))
    with pytest.raises(TwilioRestException) as error:
        wrong.messages.create(to="+31699999901", from_="+3197010000000", body="ping")
    assert error.value.status == 401
    assert len(twilio_fake.messages("+31699999901")) == 1
