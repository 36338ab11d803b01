"""EventLog: bounded ring, severity counts, STATUSTEXT chunking over a real codec."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.core.clock import SimClock
from flightsw.core.events import STATUSTEXT_LEN_BYTES, Event, EventLog, Severity
from flightsw.icd import mavlink, new_codec


def test_severity_matches_mav_severity():
    for severity in Severity:
        assert severity == getattr(mavlink, f"MAV_SEVERITY_{severity.name}")
    assert [s.value for s in Severity] == list(range(8))


def over_the_wire(msgs):
    """Pack with one codec and decode with another, as the ground would see them."""
    tx, rx = new_codec(1, 1), new_codec(255, 190)
    decoded = []
    for msg in msgs:
        decoded.append(rx.decode(bytearray(msg.pack(tx))))
    return decoded


def reassemble(statustexts):
    """Rebuild texts as a MAVLink ground station does: id 0 stands alone, otherwise
    chunks with the same id in chunk_seq order until one holds a NUL."""
    texts, pending = [], {}
    for msg in statustexts:
        if msg.id == 0:
            texts.append(msg.text)
            continue
        chunks = pending.setdefault(msg.id, [])
        assert msg.chunk_seq == len(chunks), "chunks must arrive numbered 0, 1, 2, ..."
        chunks.append(msg.text)
        if len(msg.text) < STATUSTEXT_LEN_BYTES:  # the padding NUL ends the text
            texts.append("".join(pending.pop(msg.id)))
    assert not pending, "a chunked text was never terminated"
    return texts


ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=700)


@given(st.lists(ascii_text, min_size=1, max_size=5))
def test_long_texts_reassemble_exactly(texts):
    sent = []
    log = EventLog(SimClock(), send=sent.append)
    for text in texts:
        log.emit(Severity.INFO, "test", text)
    assert all(msg.get_type() == "STATUSTEXT" for msg in sent)
    received = reassemble(over_the_wire(sent))
    assert received == [f"test: {t}".replace("\0", "?") for t in texts]
    long_ids = [m.id for m in sent if m.id and m.chunk_seq == 0]
    assert len(set(long_ids)) == len(long_ids), "each long text needs its own id"


@pytest.mark.parametrize("n_bytes", [1, 49, 50, 51, 99, 100, 101, 150])
def test_chunk_boundaries(n_bytes):
    sent = []
    log = EventLog(SimClock(), send=sent.append)
    text = "x" * (n_bytes - len("s: ")) if n_bytes > 3 else ""
    wire_text = f"s: {text}"
    log.emit(Severity.WARNING, "s", text)
    n = len(wire_text)
    if n <= STATUSTEXT_LEN_BYTES:
        assert len(sent) == 1 and sent[0].id == 0
    else:
        # full chunks, then a NUL-padded one (empty when the text fills the last chunk)
        assert len(sent) == n // STATUSTEXT_LEN_BYTES + 1
        assert all(m.id == sent[0].id != 0 for m in sent)
    assert all(m.severity == Severity.WARNING for m in sent)
    assert reassemble(over_the_wire(sent)) == [wire_text]


def test_non_ascii_travels_as_question_marks_but_is_kept_in_the_ring():
    sent = []
    log = EventLog(SimClock(), send=sent.append)
    log.emit(Severity.INFO, "spec", "T = 20 °C")
    assert sent[0].text == "spec: T = 20 ?C"
    assert log.recent[-1].text == "T = 20 °C"


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=400))
def test_ring_stays_bounded_and_counts_everything(capacity, n_events):
    clock = SimClock()
    log = EventLog(clock, capacity=capacity)
    for i in range(n_events):
        clock.advance_to_us(i)
        log.emit(Severity(i % 8), "src", f"event {i}")
    recent = log.recent
    assert len(recent) == min(capacity, n_events)
    assert [e.text for e in recent] == [f"event {i}" for i in range(n_events)][-capacity:]
    assert log.total == n_events
    assert log.dropped == n_events - len(recent)
    assert sum(log.counts().values()) == n_events
    assert log.counts()[Severity.EMERGENCY] == len(range(0, n_events, 8))


def test_sinks_get_every_event_with_mission_time():
    clock = SimClock(start_us=1_500_000)
    log = EventLog(clock)
    seen: list[Event] = []
    log.add_sink(seen.append)
    event = log.emit(Severity.ERROR, "nav", "filter diverged")
    assert seen == [event]
    assert event == Event(1_500_000, Severity.ERROR, "nav", "filter diverged")
    assert "ERROR" in event.line() and "nav: filter diverged" in event.line()


def test_bad_arguments_are_rejected_clearly():
    log = EventLog(SimClock())
    with pytest.raises(ValueError):
        log.emit(9, "src", "text")
    with pytest.raises(ValueError, match="source"):
        log.emit(Severity.INFO, "", "text")
    with pytest.raises(TypeError):
        log.emit(Severity.INFO, "src", b"bytes")
    with pytest.raises(ValueError, match="capacity"):
        EventLog(SimClock(), capacity=0)
    assert log.total == 0
