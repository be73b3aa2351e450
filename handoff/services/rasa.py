"""Talking to the Rasa server: the REST webhook for turns, the tracker API for pause/resume."""
import logging
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from handoff.errors import BotUnavailable

log = logging.getLogger(__name__)


@dataclass
class BotTurn:
    replies: list[dict[str, Any]] = field(default_factory=list)  # {"text", "buttons"?}
    handoff_packet: dict[str, Any] | None = None


def rasa_http(base_url: str, timeout: float, token: str | None) -> httpx.Client:
    """A client of Rasa's HTTP API; with a token, every request carries it (`?token=`)."""
    return httpx.Client(base_url=base_url, timeout=timeout, params={"token": token} if token else None)


class RasaClient:
    """`sticky_urls`: each conversation always talks to the same one of these Rasa processes
    (a stable hash of its id), not to `base_url`; only when that one refuses the connection
    (it is down, so it is not running a turn of the conversation) the next one takes over."""

    def __init__(self, base_url: str, timeout: float, token: str | None = None,
                 sticky_urls: list[str] | None = None):
        self._client = rasa_http(base_url, timeout, token)
        self._sticky = [rasa_http(url, timeout, token) for url in sticky_urls or []]

    def close(self) -> None:
        for client in [self._client, *self._sticky]:
            client.close()

    def _post(self, conversation_id: str, path: str, body: Any) -> httpx.Response:
        if not self._sticky:
            return self._client.post(path, json=body)
        home = zlib.crc32(conversation_id.encode()) % len(self._sticky)
        for client in self._sticky[home:] + self._sticky[:home]:
            try:
                return client.post(path, json=body)
            except httpx.ConnectError as exc:  # never sent: safe to try the next server
                refused = exc
                log.warning("Rasa at %s refused the connection; trying the next one", client.base_url)
        raise refused

    def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> BotTurn:
        """One customer message through the bot. Raises BotUnavailable when Rasa cannot answer."""
        try:
            response = self._post(conversation_id, "/webhooks/rest/webhook", {
                "sender": conversation_id, "message": text, "metadata": metadata})
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("rasa turn failed for %s: %s", conversation_id, exc)
            raise BotUnavailable("the assistant is not answering") from exc
        turn = BotTurn()
        for message in messages if isinstance(messages, list) else []:
            custom = message.get("custom")
            if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
                turn.handoff_packet = custom["handoff"]
            elif message.get("text"):
                reply = {"text": message["text"]}
                if message.get("buttons"):
                    reply["buttons"] = [{"title": b.get("title", ""), "payload": b.get("payload", "")}
                                        for b in message["buttons"]]
                turn.replies.append(reply)
        return turn

    def _append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        try:
            self._post(conversation_id, f"/conversations/{conversation_id}/tracker/events",
                       events).raise_for_status()
        except httpx.HTTPError as exc:
            raise BotUnavailable("could not update the assistant's conversation") from exc

    def pause(self, conversation_id: str) -> None:
        """The bot stops answering; user messages are still logged in its tracker."""
        self._append_events(conversation_id, [{"event": "pause"}])

    def resume(self, conversation_id: str, summary: str) -> None:
        """The bot answers again, with a note in its tracker of what the agent did."""
        self._append_events(conversation_id, [
            {"event": "resume"},
            {"event": "slot", "name": "awaiting", "value": None},
            {"event": "slot", "name": "offer", "value": None},
            {"event": "bot", "text": summary, "metadata": {"agent_summary": True}},
        ])

    def restart(self, conversation_id: str, summary: str) -> None:
        """The bot answers again as in a new conversation, with a note in its tracker of what
        the agent did: after the restart the next message starts a new session, which takes
        the channel, language and SMS sender from that message (the bot's session start) and
        nothing else: no verification, open question, offer or form."""
        self._append_events(conversation_id, [
            {"event": "resume"},
            {"event": "bot", "text": summary, "metadata": {"agent_summary": True}},
            {"event": "restart"},
        ])
