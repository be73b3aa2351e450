"""HANDOFF_RASA_STICKY: each conversation always reaches the same Rasa server (its tracker
stays in that server's memory, and without a shared lock store only that server may order its
turns), and conversations spread over all of them. The Rasa servers here are minimal HTTP
recorders: what is tested is where the handoff service's client sends what."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from handoff.core.config import Settings
from handoff.services.rasa import RasaClient


class Recorder(ThreadingHTTPServer):
    def __init__(self):
        self.seen: list[tuple[str, str]] = []  # (path, conversation id)
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class RecordingHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.startswith("/webhooks/rest/webhook"):
            self.server.seen.append(("turn", body["sender"]))
            answer = [{"recipient_id": body["sender"], "text": "hello"}]
        else:  # /conversations/<id>/tracker/events
            self.server.seen.append(("events", self.path.split("/")[2]))
            answer = {}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


@pytest.fixture
def rasas():
    servers = [Recorder(), Recorder()]
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def test_each_conversation_stays_on_one_rasa_server_and_all_are_used(rasas):
    balancer = Recorder()  # HANDOFF_RASA_URL: must see none of these conversations
    client = RasaClient(balancer.url, 5, sticky_urls=[r.url for r in rasas])
    try:
        conversations = [f"web-{i}" for i in range(40)]
        for _ in range(3):
            for conversation in conversations:
                assert client.send(conversation, "hi", {}).replies == [{"text": "hello"}]
        client.pause(conversations[0])
        client.resume(conversations[1], "an agent helped")
    finally:
        client.close()
        balancer.shutdown()
        balancer.server_close()
    assert balancer.seen == []
    homes = {}
    for index, rasa in enumerate(rasas):
        for _, conversation in rasa.seen:
            assert homes.setdefault(conversation, index) == index, f"{conversation} moved"
    assert set(homes) == set(conversations)
    assert all(len({c for _, c in rasa.seen}) >= 10 for rasa in rasas), "one server got (almost) all"
    assert sum(len(rasa.seen) for rasa in rasas) == 3 * 40 + 2
    home_of_first = rasas[homes[conversations[0]]].seen
    assert ("events", conversations[0]) in home_of_first


def test_without_sticky_every_conversation_goes_to_the_rasa_url(rasas):
    client = RasaClient(rasas[0].url, 5)
    try:
        for conversation in ("a", "b", "c"):
            client.send(conversation, "hi", {})
    finally:
        client.close()
    assert [c for _, c in rasas[0].seen] == ["a", "b", "c"] and rasas[1].seen == []


def test_sticky_needs_the_rasa_servers_urls():
    with pytest.raises(ValueError, match="HANDOFF_RASA_STICKY needs HANDOFF_RASA_REPLICA_URLS"):
        Settings(rasa_sticky=True)
    assert Settings(rasa_sticky=True, rasa_replica_urls=["http://127.0.0.1:1"]).rasa_sticky


def test_a_stopped_rasa_servers_conversations_go_to_the_other_one(rasas):
    """Only a refused connection moves a conversation: that server cannot be running its turn."""
    client = RasaClient(rasas[0].url, 5, sticky_urls=[r.url for r in rasas])
    try:
        conversations = [f"sms-{i}" for i in range(20)]
        for conversation in conversations:
            client.send(conversation, "hi", {})
        homes_of_stopped = {c for _, c in rasas[1].seen}
        assert homes_of_stopped
        rasas[1].shutdown()
        rasas[1].server_close()  # port closed: connections are refused
        before = len(rasas[0].seen)
        for conversation in conversations:
            assert client.send(conversation, "still there?", {}).replies == [{"text": "hello"}]
        client.pause(sorted(homes_of_stopped)[0])
    finally:
        client.close()
    assert len(rasas[0].seen) == before + len(conversations) + 1
    assert {c for _, c in rasas[0].seen[before:]} == set(conversations)
