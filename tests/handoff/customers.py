"""A web chat customer and the SMS a phone received, for tests through the running service."""
import re
import time
import uuid

import httpx


class WebCustomer:
    def __init__(self, service):
        self.service, self.conversation_id = service, f"web-{uuid.uuid4().hex[:16]}"

    def say(self, text: str, payload: str | None = None) -> dict:
        body = {"conversation_id": self.conversation_id, "text": text}
        if payload:
            body["payload"] = payload
        response = httpx.post(self.service.url + "/api/chat/messages", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def lines(self) -> list[str]:
        response = httpx.get(f"{self.service.url}/api/chat/{self.conversation_id}/messages",
                             timeout=10)
        response.raise_for_status()
        return [m["text"] for m in response.json()["messages"]]


def sms_since(fake, phone: str, seen: int, expect: str, timeout: float = 20) -> str:
    """The SMS sent to `phone` after the first `seen`, once one matches `expect`."""
    deadline = time.monotonic() + timeout
    while True:
        new = "\n".join(m["body"] for m in fake.messages(phone)[seen:])
        if re.search(expect, new):
            return new
        assert time.monotonic() < deadline, f"no SMS matching {expect!r}; got: {new!r}"
        time.sleep(0.1)
