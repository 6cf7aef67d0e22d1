"""A theme is data: its templates render in Jinja2's sandbox, so a theme from
anywhere cannot run Python at build time; a broken one is one error line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.manifest import THEMES_DIR

# Classic template-injection routes from a template to os.system.
PAYLOADS = [
    "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ joiner.__init__.__globals__['os'].system('touch PWNED') }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
    "{{ c(['touch', 'PWNED']) }}{% endif %}{% endfor %}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ namespace.__init__.__globals__['sys'].modules['os'].system('touch PWNED') }}",
    "{{ site.pages.append.__self__.__class__.__base__.__subclasses__() }}",
    "{{ (1).__class__.__mro__[1].__subclasses__() }}",
]


@pytest.fixture
def project(tmp_path, monkeypatch):
    from profiles import basic_builder
    basic_builder().write(tmp_path / "p.pb.gz")
    shutil.copytree(THEMES_DIR / "default", tmp_path / "evil")
    (tmp_path / "site.yml").write_text("theme: ./evil\nprofiles:\n  p: {path: p.pb.gz}\n")
    monkeypatch.chdir(tmp_path)   # where `touch PWNED` would land
    return tmp_path


@pytest.mark.parametrize("payload", PAYLOADS)
def test_theme_templates_cannot_run_code(project, payload, capsys):
    index = project / "evil" / "index.html.j2"
    index.write_text(index.read_text().replace("{% block main %}", "{% block main %}" + payload))
    code = main(["build", str(project / "site.yml"), "-o", str(project / "out")])
    err = capsys.readouterr().err
    assert not (project / "PWNED").exists()
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "theme template error" in err and "index.html.j2" in err
    assert not (project / "out").exists()


def test_theme_syntax_error_names_file_and_line(project, capsys):
    (project / "evil" / "top.html.j2").write_text("line 1\n{% if %}\n")
    (project / "site.yml").write_text("theme: ./evil\nprofiles:\n  p: {path: p.pb.gz}\n"
                                      "analyses:\n  - {kind: top, profile: p}\n")
    assert main(["build", "site.yml", "-o", "out"]) == 2
    err = capsys.readouterr().err.strip()
    assert "top.html.j2:2: theme template error" in err and "\n" not in err


def test_a_copied_theme_builds_like_the_default(project, capsys):
    assert main(["build", "site.yml", "-o", "out"]) == 0
    assert (Path(project) / "out" / "index.html").is_file()


def test_writers_of_one_theme_share_its_compiled_templates(project):
    from reportgen.render.site import SiteWriter
    a = SiteWriter(project / "evil", "a")
    b = SiteWriter(project / "evil" / ".." / "evil", "b")   # another spelling, same directory
    assert a.env is b.env
    assert a.env.get_template("index.html.j2") is b.env.get_template("index.html.j2")
    assert SiteWriter(THEMES_DIR / "default", "c").env is not a.env


@pytest.mark.parametrize("same_mtime", [False, True])
def test_a_theme_edited_between_two_builds_in_one_process_is_not_served_stale(
        project, capsys, same_mtime):
    import os
    assert main(["build", "site.yml", "-o", "out1"]) == 0
    # the page's own template, and the one it extends (checked on its own)
    edited = project / "evil" / ("index.html.j2" if same_mtime else "base.html.j2")
    before = edited.stat()
    text = edited.read_text()
    if same_mtime:   # rewritten within the file system's timestamp tick: the size tells
        edited.write_text(text.replace("{% block main %}", "{% block main %}EDITED-THEME"))
        os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    else:            # the same size: the mtime tells
        edited.write_text(text.replace("<html", "<HTML", 1))
        os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert main(["build", "site.yml", "-o", "out2"]) == 0
    first, page = ((project / d / "index.html").read_text() for d in ("out1", "out2"))
    assert "EDITED-THEME" not in first and "<HTML" not in first
    assert ("EDITED-THEME" in page) if same_mtime else ("<HTML" in page)
