"""`fastprod bench --plot FILE.png`: one panel per scenario, a bar per client at its median rate
with min-max error bars, labelled with the machine, the versions and the scenario."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

from fastprod.bench.scenarios import family

COLOURS = {"fastprod": "#d1495b", "other": "#00798c", "native": "#8d96a3", "java": "#edae49"}


def check_available() -> None:
    if importlib.util.find_spec("matplotlib") is None:
        raise SystemExit("--plot needs matplotlib (pip install matplotlib)")


def write(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [(name, e) for name, e in result["scenarios"].items()
                 if any(c["status"] == "ok" for c in e["clients"].values())]
    if not scenarios:
        raise SystemExit("--plot: no scenario has results to draw")
    columns = min(2, len(scenarios))
    rows = math.ceil(len(scenarios) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(7.5 * columns, 0.55 * 7 * rows + 1.6),
                             squeeze=False)
    for ax in axes.flat[len(scenarios):]:
        ax.set_visible(False)
    for ax, (name, entry) in zip(axes.flat, scenarios):
        ok = [(c, e) for c, e in entry["clients"].items() if e["status"] == "ok"]
        medians = [e["msgs_per_s"]["median"] for _, e in ok]
        low = [m - e["msgs_per_s"]["min"] for m, (_, e) in zip(medians, ok)]
        high = [e["msgs_per_s"]["max"] - m for m, (_, e) in zip(medians, ok)]
        y = range(len(ok))
        ax.barh(list(y), medians, xerr=[low, high], capsize=3,
                color=[COLOURS.get(family(c), "#8d96a3") for c, _ in ok])
        ax.set_yticks(list(y), [e["label"] for _, e in ok], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{name}: {entry['title']}\n{entry['records']:,} records per run",
                     fontsize=9)
        ax.set_xlabel("records acknowledged per second (median, min-max)", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        for i, m in enumerate(medians):
            ax.text(m, i, f" {m:,.0f}", va="center", fontsize=7)
        ax.set_xlim(0, max(e["msgs_per_s"]["max"] for _, e in ok) * 1.25)
    m, v = result["machine"], result["versions"]
    versions = ", ".join(f"{k} {val}" for k, val in v.items() if val and k != "java")
    fig.suptitle(f"fastprod bench: {m['arch']}, {m['cpus']} CPUs, {m['memory_gib']} GiB; "
                 f"{result['runs']} runs per client\n{versions}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
