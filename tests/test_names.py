"""Names that parse back: oracle names (only declared digit forms), transform names (``from_name``) and method
names (``experiment.names``): every canonical name parses back to an equal configuration, and anything else is
a one-line ParameterError that says what to write."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mssoracle.errors import ParameterError
from mssoracle.experiment.names import (DEFAULT_QUALIFIERS, QUALIFIER_ORDER, MethodConfig, method_name,
                                        parse_method_name)
from mssoracle.oracles import ORACLE_REGISTRY, available_oracles, get_oracle
from mssoracle.transforms import SCALE_KINDS, TRANSFORMS, from_name, from_spec, register_transform

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RATES = [8000, 16000, 22050, 44100, 48000, 96000]


# -- oracle names ------------------------------------------------------------------------------------------

@SETTINGS
@given(base=st.sampled_from(["irm", "ibm"]),
       alpha=st.one_of(st.integers(1, 20), st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)),
       theta=st.one_of(st.none(), st.floats(0, 10, allow_nan=False)))
def test_every_canonical_oracle_name_parses_back(base, alpha, theta):
    opts = f"alpha={alpha!r}" + (f",theta={theta!r}" if theta is not None and base == "ibm" else "")
    o = get_oracle(f"{base}[{opts}]")
    back = get_oracle(o.name)
    assert back == o and back.options == o.options and back.name == o.name
    digit_form = float(alpha) in (1.0, 2.0)
    assert o.name.startswith(f"{base}{int(alpha)}" if digit_form else f"{base}[alpha=")


@pytest.mark.parametrize("spec", ["irm3", "ibm3", "wiener0", "irm4", "ibm10", "irm0"])
def test_undeclared_digit_forms_are_not_names(spec):
    with pytest.raises(ParameterError, match=rf"^{spec} is not an oracle name; "):
        get_oracle(spec)


def test_every_registered_digit_form_is_documented():
    for base, entry in ORACLE_REGISTRY.items():
        if entry.digit is None:
            continue
        grammar = f"{base}N = {base}[{entry.digit}=N] for"
        listed = [text for spec, text in available_oracles().items() if get_oracle(spec).base == base]
        assert listed and all(grammar in text for text in listed), base


# -- transform names ---------------------------------------------------------------------------------------

_WINDOWS = st.one_of(st.sampled_from(["hann", "hamming", "blackman", "boxcar", "nuttall", "bartlett", "cosine"]),
                     st.floats(0.5, 14, allow_nan=False).map(lambda b: f"kaiser-{b!r}"),
                     st.floats(0.05, 0.95, allow_nan=False).map(lambda a: f"tukey-{a!r}"),
                     st.sampled_from(["kaiser-8.6", "general_gaussian-1.5-300", "dpss-3", "gaussian-512"]))


@st.composite
def stft_transforms(draw):
    n_fft = draw(st.integers(8, 4096))
    hop = draw(st.one_of(st.none(), st.integers(1, n_fft)))
    window, center, sr = draw(_WINDOWS), draw(st.booleans()), draw(st.sampled_from(RATES))
    try:
        return from_spec(f"stft:n_fft={n_fft},{'' if hop is None else f'hop={hop},'}window={window},"
                         f"center={str(center).lower()}", sample_rate=sr)
    except ParameterError:  # NOLA fails, a window scipy refuses
        assume(False)


@st.composite
def nsgt_transforms(draw):
    kind = draw(st.sampled_from(["nsgt", "slicq"]))
    scale = draw(st.sampled_from([s for s in SCALE_KINDS.names() if s in ("oct", "log", "lin", "mel", "bark", "vqlog")]))
    sr = draw(st.sampled_from(RATES))
    bins = draw(st.integers(1, 24) if scale == "oct" else st.integers(2, 300))
    fmin = draw(st.one_of(st.sampled_from([32.9, 20.0, 40.0, 100.0]), st.floats(10, 500, allow_nan=False)))
    items = [f"scale={scale}", f"bins={bins}", f"fmin={fmin!r}"]
    if draw(st.booleans()):
        items.append(f"fmax={draw(st.floats(fmin * 2, sr / 2, allow_nan=False))!r}")
    if scale == "vqlog" and draw(st.booleans()):
        items.append(f"gamma={draw(st.floats(0, 50, allow_nan=False))!r}")
    if draw(st.booleans()):
        items.append("form=matrix")
    try:
        t = from_spec(f"{kind}:" + ",".join(items), sample_rate=sr)
        if kind == "slicq" and draw(st.booleans()):  # explicit, non-default slice and transition lengths
            t = from_spec(f"{kind}:" + ",".join(items + [f"sllen={t.sllen * 2}", f"trlen={t.trlen // 2 * 2}"]),
                          sample_rate=sr)
    except ParameterError:  # degenerate band tables
        assume(False)
    return t


@SETTINGS
@given(t=st.one_of(stft_transforms(), nsgt_transforms()))
def test_transform_names_parse_back(t):
    back = from_name(t.name, sample_rate=t.sample_rate)
    assert back.spec == t.spec and back.name == t.name and back.sample_rate == t.sample_rate
    assert type(back) is type(t)
    if "-sr" in t.name or (t.sample_rate == 44100 and not t.name.startswith("stft")):
        assert from_name(t.name).sample_rate == t.sample_rate  # the name fixes its rate


def test_every_registered_kind_reads_its_names_back():
    examples = {k: TRANSFORMS.info(k).get("example") or k for k in TRANSFORMS}
    for kind, spec in examples.items():
        assert TRANSFORMS.info(kind).get("from_name") is not None, kind
        assert TRANSFORMS.info(kind)["version"] >= 1
        t = from_spec(spec)
        assert from_name(t.name).spec == t.spec


@pytest.mark.parametrize("name,needle", [
    ("", "non-empty string"),
    ("fft-2048-512", "unknown kind 'fft'"),
    ("stft-2048", "is not an STFT name"),
    ("stft-2048-512-hann", "is not canonical; write stft-2048-512"),
    ("STFT-2048-512", "is not an STFT name"),
    ("stft-2048-512-nowindow", "window"),
    ("stft-2048-4096", "hop"),
    ("nsgt-bark-262-32.9-sr44100", "is not canonical; write nsgt-bark-262-32.9"),
    ("nsgt-foo-262-32.9", "SCALE one of"),
    ("slicq-bark-262-32.9", "is not a slicq name"),
    ("nsgt-bark-262-32.9-sllen18060-trlen4516", "is not a nsgt name"),
    ("nsgt-bark-262-32.9-fmax30000", "fmax"),
])
def test_bad_transform_names(name, needle):
    with pytest.raises(ParameterError) as info:
        from_name(name)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_name_that_fixes_its_rate_must_agree_with_the_given_rate():
    with pytest.raises(ParameterError, match=r"is a transform at 44100 Hz, not 48000 Hz \(at 48000 Hz its name "
                                             r"would be nsgt-bark-262-32.9-sr48000\)"):
        from_name("nsgt-bark-262-32.9", sample_rate=48000)
    with pytest.raises(ParameterError, match="at 48000 Hz, not 44100 Hz"):
        from_name("nsgt-bark-262-32.9-sr48000", sample_rate=44100)
    assert from_name("stft-2048-512", sample_rate=48000).sample_rate == 48000  # the STFT's name has no rate
    assert from_name("nsgt-bark-262-32.9-fmax16000", sample_rate=48000).sample_rate == 48000


def test_a_kind_without_a_name_parser_says_so():
    register_transform("toyident", lambda spec, *, sample_rate=44100: None, description="x", example="toyident")
    try:
        with pytest.raises(ParameterError, match="registers no name parser"):
            from_name("toyident-1")
    finally:
        TRANSFORMS.unregister("toyident")
    with pytest.raises(ParameterError, match="version must be an integer >= 1"):
        register_transform("toyv", lambda spec, *, sample_rate=44100: None, version=0)
    assert "toyv" not in TRANSFORMS


# -- method names ------------------------------------------------------------------------------------------

_ORACLES = ["irm1", "irm2", "irm[alpha=3]", "irm[alpha=1.5]", "ibm1[theta=0.3]", "ibm[alpha=3]", "mpi",
            "mpi[phase=sum]", "mwf", "mwf[norm=bin]", "mix", "psm[clip=false]", "cirm", "gt", "wiener1", "wiener3",
            "wiener[iterations=0]"]
_QUALIFIER_VALUES = {
    "mixture": st.sampled_from(["file", "sum"]), "precision": st.sampled_from(["float32", "float64"]),
    "win": st.one_of(st.sampled_from([1, 1.0, 2, 0.5]), st.floats(0.01, 100, allow_nan=False)),
    "hop": st.one_of(st.sampled_from([1, 1.0, 0.5, 0.25]), st.floats(0.01, 100, allow_nan=False)),
    "mode": st.sampled_from(["v4", "v3"]), "filters": st.sampled_from([512, 256, 1024, 1]),
    "sources": st.sampled_from(["images", "sources"]),
}


@SETTINGS
@given(oracle=st.sampled_from(_ORACLES), t=st.one_of(stft_transforms(), nsgt_transforms()),
       quals=st.fixed_dictionaries({}, optional=_QUALIFIER_VALUES))
def test_method_names_round_trip(oracle, t, quals):
    o = get_oracle(oracle)
    name = method_name(o, t, **quals)
    cfg = parse_method_name(name, sample_rate=t.sample_rate)
    assert isinstance(cfg, MethodConfig)
    assert cfg.oracle == o and cfg.transform.spec == t.spec and cfg.transform.sample_rate == t.sample_rate
    assert set(cfg.qualifiers) == set(QUALIFIER_ORDER)
    for k, v in quals.items():
        assert cfg.qualifiers[k] == v
    assert method_name(cfg.oracle, cfg.transform, **cfg.qualifiers) == name == cfg.name
    nondefault = {k: v for k, v in cfg.qualifiers.items() if v != DEFAULT_QUALIFIERS[k]}
    assert method_name(cfg.oracle, cfg.transform, **nondefault) == name
    assert [k for k in QUALIFIER_ORDER if f"+{k}=" in name] == [k for k in QUALIFIER_ORDER if k in nondefault]


@pytest.mark.parametrize("oracle,spec,quals,name", [
    ("irm1", "stft:2048:512", {}, "irm1-stft-2048-512"),
    ("irm[alpha=3]", "stft:4096:1024", {"precision": "float64"}, "irm[alpha=3]-stft-4096-1024+precision=float64"),
    ("mpi", "slicq:bark:262:32.9", {"mixture": "sum", "win": 2, "hop": 0.5},
     "mpi-slicq-bark-262-32.9-sllen18060-trlen4516+mixture=sum+win=2+hop=0.5"),
    ("wiener[iterations=0]", "stft:2048:512", {"mode": "v3", "filters": 256, "sources": "sources", "win": 1.0},
     "wiener[iterations=0]-stft-2048-512+mode=v3+filters=256+sources=sources"),
    ("irm2", "stft:2048:512", dict(DEFAULT_QUALIFIERS), "irm2-stft-2048-512"),
])
def test_method_name_examples(oracle, spec, quals, name):
    assert method_name(get_oracle(oracle), from_spec(spec), **quals) == name
    cfg = parse_method_name(name)
    assert cfg.oracle == get_oracle(oracle) and cfg.transform.spec == from_spec(spec).spec


@pytest.mark.parametrize("name,needle", [
    ("irm3-stft-2048-512", "irm3 is not an oracle name; irm takes the digits 1, 2 (irm1, irm2); write irm[alpha=3]"),
    ("wiener0-stft-2048-512", "write wiener[iterations=0]"),
    ("irm-stft-2048-512", "oracle 'irm' is not written canonically; write irm1"),
    ("irm[alpha=2]-stft-2048-512", "write irm2"),
    ("irm1-stft-2048-512-hann", "write stft-2048-512"),
    ("irm1-stft-2048-512+win=1", "is not canonical"),
    ("irm1-stft-2048-512+hop=2+win=2", "write irm1-stft-2048-512+win=2+hop=2"),
    ("irm1-stft-2048-512+win=2.0", "write irm1-stft-2048-512+win=2"),
    ("irm1-stft-2048-512+mixture=sum+mixture=sum", "qualifier mixture given twice"),
    ("irm1-stft-2048-512+precision=float16", "qualifier precision must be one of float32, float64"),
    ("irm1-stft-2048-512+filters=0", "filters (BSS Eval filter length) must be an integer >= 1"),
    ("irm1-stft-2048-512+win=-1", "win (seconds) must be"),
    ("irm1-stft-2048-512+foo=1", "is not an STFT name"),
    ("irm1", "is not <oracle>-<transform name>"),
    ("", "non-empty string"),
    ("irm1-nsgt-bark-262-32.9", "at 44100 Hz, not 48000 Hz"),
])
def test_bad_method_names(name, needle):
    with pytest.raises(ParameterError) as info:
        parse_method_name(name, sample_rate=48000 if "nsgt" in name else None)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_method_name_refuses_unknown_qualifiers():
    with pytest.raises(ParameterError, match="unknown qualifier 'targets'"):
        method_name(get_oracle("irm1"), from_spec("stft:2048:512"), targets="vocals")
    with pytest.raises(ParameterError, match="mixture must be one of file, sum"):
        method_name(get_oracle("irm1"), from_spec("stft:2048:512"), mixture="mean")


def test_rate_of_a_method_name():
    cfg = parse_method_name("irm1-nsgt-bark-262-32.9-sr48000")
    assert cfg.transform.sample_rate == 48000
    assert parse_method_name("irm1-stft-2048-512", sample_rate=22050).transform.sample_rate == 22050


def test_eps_option_in_name_and_identity():
    """irm/mpi eps= (issue 10): in the method name when not default; a stored result without it is the default's."""
    from mssoracle.experiment.identity import differences, same_result

    eps32 = "1.1920928955078125e-07"
    assert method_name(f"irm1[eps={eps32}]", "stft:2048:1536") == f"irm1[eps={eps32}]-stft-2048-1536"
    assert method_name("irm1", "stft:2048") == "irm1-stft-2048-512"
    name = method_name(f"mpi[phase=sum,eps={eps32}]", "stft:4096:3072")
    assert parse_method_name(name).name == name
    old = {"method": "irm1-stft-2048-512", "oracle": "irm1", "oracle_options": {"alpha": 1.0}}
    new = dict(old, oracle_options={"alpha": 1.0, "eps": float(np.finfo(np.float64).eps)})
    assert same_result(old, new)
    seed = dict(old, oracle=f"irm1[eps={eps32}]", oracle_options={"alpha": 1.0, "eps": float(eps32)})
    assert not same_result(old, seed) and "oracle_options" in differences(old, seed)
