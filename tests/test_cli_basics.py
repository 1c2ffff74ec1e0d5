import pytest

from mssoracle import cli


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert "mssoracle" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_oracles_lists_every_registered_oracle(capsys):
    from mssoracle.oracles import available_oracles

    assert cli.main(["oracles"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines()]
    assert names == list(available_oracles())
    assert {"irm1", "irm2", "ibm1", "ibm2", "mpi", "mwf", "mix", "psm", "cirm", "gt"} <= set(names)


def test_user_error_is_one_line_without_traceback(capsys, tmp_path):
    assert cli.main(["eval", "--root", str(tmp_path / "missing"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "missing" in err
