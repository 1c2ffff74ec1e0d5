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
                     digit="g", listed=("toygain1", "toygain2"), description="g / nsrc times the mixture (a toy)")
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
    assert "toygain1" in listed and "toygain2" in listed and "toygainN = toygain[g=N]" in listed["toygain1"]
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
        register_oracle("toyd", f, options=[Option.integer("n", 1)], digit="k", description="x")
    with pytest.raises(ParameterError, match="must be a class"):
        register_oracle("toyp", f, passes=2, description="x")
    with pytest.raises(ParameterError, match="one non-empty line"):
        register_oracle("toyq", f, description="")
    assert "toyd" not in ORACLE_REGISTRY and "toyp" not in ORACLE_REGISTRY


@pytest.mark.parametrize("spec,needle", [("irm3", None), ("ibm3", None), ("wiener0", None), ("irm03", "leading zero"),
                                         ("mix2", "takes no number suffix"), ("wiener1.5", "unknown oracle")])
def test_digit_grammar(spec, needle):
    """irm3, ibm3, wiener0 are documented specs (the digit grammar, listed by `mssoracle oracles`)."""
    if needle is None:
        o = get_oracle(spec)
        assert o.name == spec
        assert get_oracle(spec.rstrip("0123456789") + f"[{ {'irm': 'alpha', 'ibm': 'alpha'}.get(o.base, 'iterations')}="
                          f"{spec[len(o.base):]}]") == o
    else:
        with pytest.raises(ParameterError, match=needle):
            get_oracle(spec)
