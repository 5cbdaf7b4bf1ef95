"""Property: whatever bytes arrive, the listener neither crashes nor loses a complete frame."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpi.hl7.mllp import END_BLOCK, START_BLOCK, frame
from dpi.hl7.models import Message

# The listener and the database outlive the examples: each example counts what it adds.
PROPERTY_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

msh_like = st.builds(
    lambda fields, tail: b"MSH|^~\\&|" + b"|".join(fields) + tail,
    st.lists(st.binary(max_size=12), max_size=20),
    st.binary(max_size=200),
)
payloads = st.one_of(st.binary(max_size=2000), msh_like).filter(lambda data: END_BLOCK not in data)


@PROPERTY_SETTINGS
@given(payload=payloads, noise=st.binary(max_size=50).map(lambda data: data.replace(START_BLOCK, b"")))
def test_any_complete_frame_gets_a_journal_row_and_an_ack(peer, payload, noise):
    before = Message.objects.count()

    peer.send(noise + frame(payload))
    ack = peer.receive_ack()

    assert ack.code in ("AA", "AE", "AR")
    assert Message.objects.count() == before + 1
    assert bytes(Message.objects.latest("pk").raw) == payload


@PROPERTY_SETTINGS
@given(stream=st.binary(max_size=3000))
def test_random_bytes_never_break_the_listener(connect, stream):
    peer = connect()
    before = Message.objects.count()
    marker = b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ZZZ^Z01|marker|P|2.5"

    # Random bytes, then the end of any frame they opened, then a well-formed frame.
    peer.send(stream + END_BLOCK + frame(marker))

    acks = []
    while not acks or acks[-1].control_id != "marker":
        acks.append(peer.receive_ack())
    assert Message.objects.count() == before + len(acks)
    other = connect()
    assert other.exchange(marker).code == "AR"  # the listener still serves new connections
    peer.close()  # the examples must not pile up connections against MLLP_MAX_CONNECTIONS
    other.close()
