"""Clock offset estimation: midpoint of the round trip, best sample wins."""

from btx_tui.api.clock import ClockSample, ServerClock, estimate_offset


def test_offset_uses_midpoint_of_shortest_round_trip() -> None:
    samples = [ClockSample(1000, 200.0, 5000), ClockSample(2000, 10.0, 70010), ClockSample(3000, 50.0, 1)]
    offset, rtt = estimate_offset(samples)
    assert (offset, rtt) == (70010 - 2005, 10.0)


def test_clock_applies_offset_and_goes_stale() -> None:
    mono = [0.0]
    clock = ServerClock(wall_ms=lambda: 10_000, monotonic=lambda: mono[0], refresh_s=300)
    assert clock.is_stale() and clock.now_ms() == 10_000
    clock.update([ClockSample(10_000, 0.0, 9_000)])
    assert clock.offset_ms == -1000 and clock.now_ms() == 9_000 and clock.generation == 1
    assert not clock.is_stale()
    mono[0] = 301.0
    assert clock.is_stale()
