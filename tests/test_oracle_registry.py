"""Registering oracles from outside the package: one function (or pass class) plus ``register_oracle``."""

import numpy as np
import pytest

from mssoracle import cli
from mssoracle.errors import ParameterError
from mssoracle.oracles import ORACLE_REGISTRY, Option, available_oracles, get_oracle, register_oracle

from test_oracle_passes import _blocks, _data, run_passes


@pytest.fixture
def toys():
    """A pointwise toy with a digit option and a two-pass toy, registered here and removed afterwards."""

    @register_oracle("toygain", options=[Option.number("g", 1.0, minimum=0), Option.boolean("flip", False)],
                     digit="g", digits=(1, 2), listed=("toygain1", "toygain2"),
                     description="g / nsrc times the mixture (a toy)")
    def toygain(X, S, *, g, flip):
        sign = -1.0 if flip else 1.0
        return [sign * g / s.shape[0] * np.repeat(x[None], s.shape[0], axis=0) for x, s in zip(X, S)]

    @register_oracle("toyenergy", passes=2, description="mixture scaled by each source's share of energy per bin")
    class ToyEnergy:
        """Pass 0 sums |S_j|^2 and |X|^2 over frames, per bin; pass 1 applies the ratio."""

        def __init__(self):
            pass

        def start(self):
            return {"num": None, "den": None}

        def accumulate(self, st, p, X, S):
            num = [np.sum(np.abs(s) ** 2, axis=-1) for s in S]
            den = [np.sum(np.abs(x) ** 2, axis=-1) for x in X]
            st["num"] = num if st["num"] is None else [a + b for a, b in zip(st["num"], num)]
            st["den"] = den if st["den"] is None else [a + b for a, b in zip(st["den"], den)]

        def end_pass(self, st, p):
            st["gain"] = [np.sqrt(n / d[None]) for n, d in zip(st["num"], st["den"])]

        def apply(self, st, X, S):
            return [(g[..., None] * x[None]).astype(x.dtype) for g, x in zip(st["gain"], X)]

    yield
    for name in ("toygain", "toyenergy"):
        ORACLE_REGISTRY.unregister(name)


def test_toy_pointwise_oracle_runs_through_get_oracle(toys):
    X, S = _data(np.float64)
    o = get_oracle("toygain2")
    assert o.name == "toygain2" and o.options == {"g": 2.0, "flip": False} and o.passes == 1
    assert get_oracle("toygain[g=0.5,flip=true]").name == "toygain[g=0.5,flip=true]"
    y = o(X, S)
    for yg, xg, sg in zip(y, X, S):
        np.testing.assert_allclose(yg.sum(0), 2 * xg)
    got = run_passes(o, _blocks(X, S, [0.3, 0.7]))
    assert all(np.array_equal(a, b) for a, b in zip(y, got))
    listed = available_oracles()
    assert "toygain1" in listed and "toygain2" in listed
    assert "toygainN = toygain[g=N] for N = 1, 2 (toygain1, toygain2)" in listed["toygain1"]
    assert get_oracle("toygain[g=3]").name == "toygain[g=3]"
    with pytest.raises(ParameterError, match=r"^toygain3 is not an oracle name; toygain takes the digits 1, 2 "
                                             r"\(toygain1, toygain2\); write toygain\[g=3\]$"):
        get_oracle("toygain3")
    with pytest.raises(ParameterError, match=r"^oracle toygain\[g=-1\]: option g must be a finite number >= 0"):
        get_oracle("toygain[g=-1]")


def test_toy_multipass_oracle_runs_over_blocks(toys):
    X, S = _data(np.float64)
    o = get_oracle("toyenergy")
    assert o.passes == 2
    whole = o(X, S)
    got = run_passes(o, _blocks(X, S, [0.25, 0.25, 0.5]))
    for a, b in zip(whole, got):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_cli_lists_registered_toys(toys, capsys):
    assert cli.main(["oracles"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(available_oracles()) and "toygain2" in names and "toyenergy" in names


def test_registration_errors():
    def f(X, S):
        return S

    with pytest.raises(ParameterError, match="already registered"):
        register_oracle("irm", f, description="again")
    with pytest.raises(ParameterError, match="without digits"):
        register_oracle("toy2", f, description="x")
    with pytest.raises(ParameterError, match="digit option 'k'"):
        register_oracle("toyd", f, options=[Option.integer("n", 1)], digit="k", digits=(1,), description="x")
    with pytest.raises(ParameterError, match="needs digits="):
        register_oracle("toyd", f, options=[Option.integer("n", 1)], digit="n", description="x")
    with pytest.raises(ParameterError, match="without digit="):
        register_oracle("toyd", f, options=[Option.integer("n", 1)], digits=(1,), description="x")
    with pytest.raises(ParameterError, match="digits must be"):
        register_oracle("toyd", f, options=[Option.integer("n", 1)], digit="n", digits=(1, -1), description="x")
    with pytest.raises(ParameterError, match="toyd: digit 0 of option n"):
        register_oracle("toyd", f, options=[Option.integer("n", 1, minimum=1)], digit="n", digits=(0, 1),
                        description="x")
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ParameterError, match="version must be an integer >= 1"):
            register_oracle("toyv", f, description="x", version=bad)
    with pytest.raises(ParameterError, match="must be a class"):
        register_oracle("toyp", f, passes=2, description="x")
    with pytest.raises(ParameterError, match="one non-empty line"):
        register_oracle("toyq", f, description="")
    assert "toyd" not in ORACLE_REGISTRY and "toyp" not in ORACLE_REGISTRY and "toyv" not in ORACLE_REGISTRY


@pytest.mark.parametrize("spec,needle", [
    ("irm3", "irm3 is not an oracle name; irm takes the digits 1, 2 (irm1, irm2); write irm[alpha=3]"),
    ("ibm3", "ibm3 is not an oracle name; ibm takes the digits 1, 2 (ibm1, ibm2); write ibm[alpha=3]"),
    ("ibm3[theta=0.3]", "write ibm[alpha=3,theta=0.3]"),
    ("wiener0", "wiener0 is not an oracle name; wiener takes the digits N >= 1 (wiener1, wiener2, ...); "
                "write wiener[iterations=0]"),
    ("irm03", "leading zero"), ("mix2", "takes no number suffix"), ("wiener1.5", "unknown oracle")])
def test_only_declared_digit_forms_are_names(spec, needle):
    """irm3, ibm3, wiener0 are not names: each oracle declares its digits; the message names the bracket form."""
    with pytest.raises(ParameterError) as info:
        get_oracle(spec)
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("spec,name", [("irm[alpha=3]", "irm[alpha=3]"), ("irm[alpha=2]", "irm2"), ("irm2", "irm2"),
                                       ("ibm[alpha=2.0]", "ibm2"), ("ibm[alpha=3]", "ibm[alpha=3]"),
                                       ("wiener[iterations=0]", "wiener[iterations=0]"), ("wiener7", "wiener7"),
                                       ("wiener[iterations=7]", "wiener7"), ("irm[alpha=2.5]", "irm[alpha=2.5]")])
def test_canonical_names_parse_back(spec, name):
    o = get_oracle(spec)
    assert o.name == name and get_oracle(o.name) == o and get_oracle(o.name).options == o.options


def test_every_listed_oracle_and_digit_round_trips():
    from mssoracle.oracles.registry import ORACLE_REGISTRY as reg

    for base, entry in reg.items():
        assert reg.info(base)["version"] >= 1
        specs = list(entry.listed)
        if entry.digit is not None:
            specs += [f"{base}{k}" for k in range(0, 12) if entry.accepts_digit(k)]
            specs += [f"{base}[{entry.digit}={k}]" for k in range(1, 12)]
        for spec in specs:
            o = get_oracle(spec)
            assert get_oracle(o.name) == o and get_oracle(o.name).name == o.name, spec
