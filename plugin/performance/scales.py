"""A competency's proficiency levels as widgets read them: its framework's scale, or the four
default levels for a framework without one (mentoring's profiles and requests, plan goals)."""

from __future__ import annotations

from dataclasses import dataclass

from plugin.performance.models import Competency


@dataclass(frozen=True)
class Level:
    """One level of a competency's scale: its position (1 = lowest) and name."""

    position: int
    name: str


DEFAULT_LEVELS = (
    Level(1, "Beginning"),
    Level(2, "Developing"),
    Level(3, "Proficient"),
    Level(4, "Advanced"),
)


def scale_levels(competency: Competency) -> tuple[Level, ...]:
    """The levels of the competency's framework scale (the four default levels for a framework
    without a scale)."""
    scale = competency.framework.scale
    if scale is None or not scale.levels:
        return DEFAULT_LEVELS
    return tuple(Level(level.position, level.name) for level in scale.levels)
