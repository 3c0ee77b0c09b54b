import pytest

from rollguard_loadtest.stages import PROFILES, Stage, profile, stage_at, total_seconds

STEPS = (Stage(10, 2, 1), Stage(20, 8, 4), Stage(5, 1, 8))


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [(0, (2, 1)), (9.9, (2, 1)), (10, (8, 4)), (29.9, (8, 4)), (30, (1, 8)), (35, None), (1000, None)],
)
def test_each_moment_of_the_run_belongs_to_one_stage(elapsed, expected):
    assert stage_at(STEPS, elapsed) == expected


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_starts_with_users_and_ends(name):
    stages = profile(name)
    assert stage_at(stages, 0) is not None
    assert stage_at(stages, total_seconds(stages)) is None


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ValueError, match="choose one of ramp, verify"):
        profile("soak")


@pytest.mark.parametrize("bad", [(0, 1, 1), (10, -1, 1), (10, 1, 0)])
def test_a_stage_needs_a_duration_and_a_spawn_rate(bad):
    with pytest.raises(ValueError, match="Stage needs"):
        Stage(*bad)
