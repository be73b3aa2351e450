import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from billing_core.db import utcnow
from handoff.errors import Conflict, Forbidden
from handoff.models import Conversation, Handoff, HandoffStatus, Owner
from handoff.services import queue

ANNA = queue.Agent("anna", "agent", ("en", "nl"), 2, "Anna Agent")
BRAM = queue.Agent("bram", "agent", ("nl",), 2, "Bram Agent")


def add_conversation(session, conversation_id, *, language="en", flags=(), reason="customer_asked",
                     minutes_ago=0):
    conversation = Conversation(id=conversation_id, channel="web", language=language)
    session.add(conversation)
    session.flush()
    return queue.enqueue(session, conversation, reason=reason,
                         packet={"language": language, "flags": list(flags)},
                         now=utcnow() - timedelta(minutes=minutes_ago))


def test_priority_and_waiting_time_order_the_queue(sessions):
    with sessions() as session, session.begin():
        add_conversation(session, "plain-old", minutes_ago=25)
        add_conversation(session, "plain-new", minutes_ago=1)
        add_conversation(session, "cancel", flags=["cancel_threat"], minutes_ago=0)
        add_conversation(session, "complaint", flags=["complaint"], minutes_ago=10)
        order = [h.conversation_id for h in queue.queued(session)]
    # cancel: -30 min; complaint: -10-20 = -30 min but queued earlier... ranks by rank_at
    assert order.index("cancel") < order.index("plain-old") < order.index("plain-new")
    assert order.index("complaint") < order.index("plain-old")


def test_a_bereavement_goes_ahead_of_plain_requests(sessions):
    with sessions() as session, session.begin():
        add_conversation(session, "plain", minutes_ago=12)
        add_conversation(session, "moving", flags=["moving_abroad"], minutes_ago=14)
        add_conversation(session, "payment", flags=["payment_missing"], minutes_ago=5)
        add_conversation(session, "bereavement", flags=["bereavement"], minutes_ago=0)
        order = [h.conversation_id for h in queue.queued(session)]
    # ranked by minutes waited plus the flags' minutes: 30, 15, 14 (a move abroad is routine), 12
    assert order == ["bereavement", "payment", "moving", "plain"]


def test_position_and_wait_estimate_use_language_and_online_capacity(sessions):
    with sessions() as session, session.begin():
        first = add_conversation(session, "en-1", minutes_ago=3)
        second = add_conversation(session, "en-2", minutes_ago=2)
        dutch = add_conversation(session, "nl-1", language="nl", minutes_ago=1)
        assert queue.status_of(session, second, default_handle_seconds=300) == \
            queue.QueueStatus(2, None)  # nobody online
        queue.set_presence(session, ANNA, "online")
        assert queue.status_of(session, second, default_handle_seconds=300) == \
            queue.QueueStatus(2, 300)  # 2 ahead-inclusive x 300 s / capacity 2
        assert queue.status_of(session, dutch, default_handle_seconds=300).position == 1
        assert queue.status_of(session, first, default_handle_seconds=300).position == 1


def test_claim_is_exclusive_and_checks_skill_and_capacity(sessions):
    with sessions() as session, session.begin():
        handoffs = [add_conversation(session, f"c{i}").id for i in range(3)]
        queue.set_presence(session, ANNA, "online")
        queue.set_presence(session, BRAM, "online")
    with sessions() as session, session.begin():
        with pytest.raises(Forbidden):
            queue.claim(session, handoff_id=handoffs[0], agent=BRAM)  # speaks only Dutch
    with sessions() as session, session.begin():
        claimed = queue.claim(session, handoff_id=handoffs[0], agent=ANNA)
        assert claimed.status is HandoffStatus.claimed
        assert session.get(Conversation, "c0").owner is Owner.agent
    with sessions() as session, session.begin():
        with pytest.raises(Conflict):
            queue.claim(session, handoff_id=handoffs[0], agent=ANNA)
    with sessions() as session, session.begin():
        queue.claim(session, handoff_id=handoffs[1], agent=ANNA)
    with sessions() as session, session.begin():
        with pytest.raises(Conflict, match="limit"):
            queue.claim(session, handoff_id=handoffs[2], agent=ANNA)


def test_only_the_claiming_agent_closes_and_release_returns_to_the_bot(sessions):
    other = queue.Agent("carl", "agent", ("en",), 2)
    with sessions() as session, session.begin():
        handoff_id = add_conversation(session, "mine").id
        queue.set_presence(session, ANNA, "online")
        queue.claim(session, handoff_id=handoff_id, agent=ANNA)
    with sessions() as session, session.begin():
        with pytest.raises(Forbidden):
            queue.close(session, handoff_id=handoff_id, agent=other,
                        status=HandoffStatus.resolved, resolution=None)
    with sessions() as session, session.begin():
        queue.close(session, handoff_id=handoff_id, agent=ANNA, status=HandoffStatus.released,
                    resolution="fee explained")
        assert session.get(Conversation, "mine").owner is Owner.bot


def test_a_customer_leaving_the_queue_abandons_only_a_waiting_handoff(sessions):
    with sessions() as session, session.begin():
        waiting = add_conversation(session, "leaves", minutes_ago=4).id
        claimed = add_conversation(session, "claimed").id
        queue.set_presence(session, ANNA, "online")
        queue.claim(session, handoff_id=claimed, agent=ANNA)
    with sessions() as session, session.begin():
        left = queue.abandon(session, session.get(Conversation, "leaves"))
        assert (left.id, left.status) == (waiting, HandoffStatus.abandoned)
        assert 4 * 60 <= (left.closed_at - left.queued_at).total_seconds() < 5 * 60
        assert session.get(Conversation, "leaves").owner is Owner.bot
        # an agent already has the other one: it stays with them
        assert queue.abandon(session, session.get(Conversation, "claimed")) is None
        assert session.get(Conversation, "claimed").owner is Owner.agent
        assert [h.conversation_id for h in queue.queued(session)] == []


def test_a_conversation_is_queued_once(sessions):
    with sessions() as session, session.begin():
        first = add_conversation(session, "twice")
        again = queue.enqueue(session, session.get(Conversation, "twice"), reason="customer_asked",
                              packet={})
        assert again.id == first.id


def test_fifty_agents_claiming_fifty_conversations_at_once(sessions):
    agents = [queue.Agent(f"agent{i:02d}", "agent", ("en",), 1) for i in range(50)]
    with sessions() as session, session.begin():
        for i in range(50):
            add_conversation(session, f"load-{i:02d}", minutes_ago=50 - i)
        for agent in agents:
            queue.set_presence(session, agent, "online")
    barrier = threading.Barrier(50)
    claims: dict[str, int] = {}
    conflicts = []

    def work(agent: queue.Agent) -> None:
        barrier.wait()
        for _ in range(100):  # like an agent clicking "next" until one is theirs
            with sessions() as session:
                waiting = [h.id for h in queue.queued(session)]
            if not waiting:
                return
            try:
                with sessions() as session, session.begin():
                    claims[agent.username] = queue.claim(session, handoff_id=waiting[0],
                                                         agent=agent).id
                return
            except Conflict:
                conflicts.append(agent.username)

    threads = [threading.Thread(target=work, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(claims) == 50 and len(set(claims.values())) == 50
    with sessions() as session:
        rows = session.execute(select(Handoff.agent, func.count()).group_by(Handoff.agent)).all()
        assert all(count == 1 for _, count in rows) and len(rows) == 50
        assert session.scalar(select(func.count()).select_from(Handoff)
                              .where(Handoff.status == HandoffStatus.claimed)) == 50
    assert conflicts, "the claims did not actually contend"
