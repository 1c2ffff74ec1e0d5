"""Algorithm versions: the numbers of every versioned component on fixed synthetic input against a stored
reference (``tests/data/algorithm_versions.json``, made by ``scripts/make_version_reference.py``).

A change of numbers must bump the component's version (so stored results computed by the old code are
recomputed, not reused); a changed version must come with a regenerated reference; a new component needs
its entry.  Statistics are compared at ``rtol = 1e-6``: above cross-machine rounding, below any change of
an algorithm."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "algorithm_versions.json"


def _script():
    spec = importlib.util.spec_from_file_location("make_version_reference", ROOT / "scripts" / "make_version_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _script()
STORED = json.loads(REFERENCE.read_text())["components"]
COMPONENTS = REF.components()


def test_every_registered_component_has_a_stored_entry():
    missing = [k for k in COMPONENTS if k not in STORED]
    assert not missing, (f"no stored entry for {', '.join(missing)} in tests/data/algorithm_versions.json: run "
                         f"scripts/make_version_reference.py")
    stale = [k for k in STORED if k not in COMPONENTS]
    assert not stale, f"stored entries of unregistered components {stale}: regenerate the reference"


def test_component_versions_of_a_result_come_from_the_same_places():
    from mssoracle.experiment.identity import component_versions

    got = component_versions("irm2", "stft:2048:512", ["bssv4"])
    assert got == {"loader": COMPONENTS["loader"][0], "transform:stft": COMPONENTS["transform:stft"][0],
                   "oracle:irm": COMPONENTS["oracle:irm"][0], "bsseval": COMPONENTS["bsseval"][0],
                   "metric:bssv4": COMPONENTS["metric:bssv4"][0]}
    assert set(component_versions("wiener3", "slicq:bark:262:32.9", [])) == {"loader", "transform:slicq",
                                                                             "oracle:wiener"}


@pytest.mark.parametrize("key", sorted(COMPONENTS))
def test_numbers_match_the_reference_or_the_version_was_bumped(key):
    version, where = COMPONENTS[key]
    stored = dict(STORED)
    if key == "loader" and key in stored:
        entry = json.loads(json.dumps(stored[key]))
        now = REF.loader_numbers(preview="stem-preview" in entry["numbers"])
        if "stem-preview" not in now:  # the stempeg preview cannot be read here: the WAV part still counts
            entry["numbers"].pop("stem-preview", None)
        stored[key] = entry
        current = now
    else:
        current = lambda: REF.numbers(key)  # noqa: E731 - computed only when the versions agree
    message = REF.check_component(stored, key, version, where, current)
    assert message is None, message


# -- the checks themselves, on made-up entries ----------------------------------------------------------------

def _entry(version, l1=10.0, dot=1.0):
    return {"version": version, "numbers": {"x": {"shape": [3], "nonfinite": 0, "l1": l1, "l2": 6.0,
                                                  "max": 4.0, "dot": dot}}}


def test_a_change_of_numbers_without_a_new_version_fails():
    stored = {"oracle:toy": _entry(1)}
    where = "register_oracle('toy', version=...) in tests"
    assert REF.check_component(stored, "oracle:toy", 1, where, _entry(1)["numbers"]) is None
    # rounding-sized differences pass
    assert REF.check_component(stored, "oracle:toy", 1, where, _entry(1, l1=10.0 + 1e-9)["numbers"]) is None
    msg = REF.check_component(stored, "oracle:toy", 1, where, _entry(1, dot=1.001)["numbers"])
    assert msg.startswith("numbers of oracle:toy changed (x.dot: 1.0 -> 1.001): bump its version "
                          "(register_oracle('toy', version=...) in tests) and run scripts/make_version_reference.py")
    msg = REF.check_component(stored, "oracle:toy", 1, where, _entry(1, l1=10.001)["numbers"])
    assert "numbers of oracle:toy changed (x.l1" in msg


def test_a_new_version_without_a_new_reference_fails():
    msg = REF.check_component({"oracle:toy": _entry(1)}, "oracle:toy", 2, "here", lambda: pytest.fail("computed"))
    assert msg.startswith("the version of oracle:toy is 2 (here) but the reference has 1: regenerate the reference")


def test_a_component_without_an_entry_fails():
    msg = REF.check_component({}, "metric:toy", 1, "here", {})
    assert msg.startswith("metric:toy has no stored entry in tests/data/algorithm_versions.json: run "
                          "scripts/make_version_reference.py")


def test_versions_are_validated_and_stored_in_the_registries():
    from mssoracle.errors import ParameterError
    from mssoracle.metrics import METRICS, register_metric
    from mssoracle.oracles import ORACLE_REGISTRY, register_oracle
    from mssoracle.transforms import TRANSFORMS

    for bad in (0, -1, 1.5, True, "2", None):
        with pytest.raises(ParameterError, match="version must be an integer >= 1"):
            register_metric("toyv", outputs=("V",), framewise=False, version=bad)(lambda ctx: {})
    assert "toyv" not in METRICS
    register_oracle("toyv", lambda X, S: S, description="a toy", version=3)
    try:
        assert ORACLE_REGISTRY.info("toyv")["version"] == 3
    finally:
        ORACLE_REGISTRY.unregister("toyv")
    assert all(TRANSFORMS.info(k)["version"] >= 1 for k in TRANSFORMS)
    assert all(METRICS.info(k)["version"] >= 1 for k in METRICS)
