"""Under an address-space limit (as in a container), running out of memory is a coded error, never a signal.

durable_rules' C core grew its pools with `p = realloc(p, ...)`: when realloc failed, the pool pointer became NULL
and the clean-up that followed wrote through it (SIGSEGV). The vendored core keeps the old block and returns
ERR_OUT_OF_MEMORY (vendor/durable_rules/PATCHES.md), and the engine stays usable after it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from nea_policy import Engine, NeaPolicyError
    from nea_policy.model.facts import load_scenario
    from nea_policy.model.limits import SizeLimits

    # Past the size limits that refuse such a scenario before the core sees it: this test is about the core itself.
    limits = SizeLimits(max_flows=40_000, max_entries=50_000, max_nodes=10_000_000, max_facts=790_000, max_firings=10_000_000)
    engine = Engine(limits=limits)
    small = load_scenario(sys.argv[1])
    expected = engine.evaluate(small).to_json()
    flows = [
        {"id": f"f{i}", "name": f"Flow {i}", "origin": "KP", "destination": "CN", "legal_status": "unclear",
         "fear_of_exposure": "high", "abuse": "high", "has_work_and_shelter": True}
        for i in range(30_000)
    ]
    big = load_scenario({"title": "big", "countries": [{"code": "KP", "name": "North Korea"}, {"code": "CN", "name": "China"}], "flows": flows}, limits=limits)
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    # Room for the scenario's facts in Python, not for the core's session of 30,000 flows.
    resource.setrlimit(resource.RLIMIT_AS, (size + 96 * 2**20, resource.RLIM_INFINITY))
    for attempt in range(2):
        try:
            engine.evaluate(big)
            print("no error")
        except NeaPolicyError as error:
            print(error.code)
    print("usable after:", engine.evaluate(small).to_json() == expected)
    """
)


def test_running_out_of_memory_in_the_core_is_a_coded_error_and_the_engine_stays_usable() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "examples" / "russians-in-japan.yaml")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the process ended with {result.returncode}: {result.stderr[-2000:]}"
    lines = result.stdout.split()
    assert lines[:2] and all(code in ("engine_out_of_memory", "out_of_memory") for code in lines[:2]), result.stdout
    assert "usable after: True" in result.stdout
