"""Defects found in a dataset, by name, with the places they occur."""
from collections import defaultdict
from typing import Dict, List, Set, Tuple


class DefectReport:
    """Collects defects by name; a fatal defect is one the loaders refuse.

    A defect found again at the same place (a file named by several splits)
    is recorded once.
    """

    def __init__(self) -> None:
        self.places: Dict[str, List[str]] = defaultdict(list)
        self.fatal: Set[str] = set()
        self._seen: Set[Tuple[str, str]] = set()

    def add(self, name: str, where: str, fatal: bool = False) -> None:
        """Record one occurrence of a defect.

        Args:
            name (str): What is wrong, e.g. ``'missing image'``.
            where (str): Where, e.g. a file and line.
            fatal (bool): Whether the loaders refuse it. Defaults to False.
        """
        if (name, where) not in self._seen:
            self._seen.add((name, where))
            self.places[name].append(where)
        if fatal:
            self.fatal.add(name)

    @property
    def has_fatal(self) -> bool:
        """Whether any defect is fatal."""
        return bool(self.fatal)

    def summary(self, max_listed: int = 20) -> str:
        """The defects, fatal first, each with its count and places.

        Args:
            max_listed (int): Places listed per defect; -1 lists all.
                Defaults to 20.

        Returns:
            str: One ``[FATAL] name: count`` or ``[warning] name: count``
            line per defect followed by its places, or ``'no defects
            found'``.
        """
        if not self.places:
            return 'no defects found'
        lines = []
        for name in sorted(
                self.places, key=lambda n: (n not in self.fatal, n)):
            places = self.places[name]
            level = 'FATAL' if name in self.fatal else 'warning'
            lines.append(f'[{level}] {name}: {len(places)}')
            shown = places if max_listed < 0 else places[:max_listed]
            lines += [f'    {place}' for place in shown]
            if len(shown) < len(places):
                lines.append(f'    ... and {len(places) - len(shown)} more')
        return '\n'.join(lines)
