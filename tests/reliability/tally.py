"""What the reliability tests observed, for the one summary line printed at the end.

Every figure is counted from what a test actually saw: a crash point counts as survived only
after the books it left were compared with the expected books and matched; duplicates and
lost records are counted from the books themselves, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tally", "tally"]


@dataclass
class Tally:
    crash_points_tried: int = 0
    crash_points_survived: int = 0
    faults_tried: int = 0
    faults_survived: int = 0
    hostile_inputs: int = 0
    duplicates: int = 0
    lost: int = 0
    books_checked: int = 0
    selected: int = 0  # reliability tests in this session

    def crash_point(self, survived: bool) -> None:
        self.crash_points_tried += 1
        self.crash_points_survived += int(survived)

    def fault(self, survived: bool) -> None:
        self.faults_tried += 1
        self.faults_survived += int(survived)

    def books(self, *, duplicates: int, lost: int) -> None:
        """One comparison of the books with what they must hold."""
        self.books_checked += 1
        self.duplicates += duplicates
        self.lost += lost

    def line(self) -> str:
        return (
            f"reliability: crash points survived {self.crash_points_survived}/"
            f"{self.crash_points_tried}, faults survived {self.faults_survived}/"
            f"{self.faults_tried}, hostile inputs tried {self.hostile_inputs}, "
            f"duplicates found {self.duplicates}, records lost {self.lost}"
        )


tally = Tally()
