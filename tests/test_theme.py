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


def test_built_in_templates_are_compiled_once_per_user(tmp_path, monkeypatch):
    """A second process (here: a fresh environment) loads the default theme's
    compiled templates from the user's cache instead of compiling them, and
    renders the same."""
    import os
    import stat

    from reportgen.render import site
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path / "cache"))
    theme = THEMES_DIR / "default"
    first = site._new_env(theme)
    assert first.bytecode_cache is not None
    page = first.get_template("top.html.j2")
    (made,) = (tmp_path / "cache").iterdir()
    assert stat.S_IMODE(os.lstat(made).st_mode) == 0o700 and any(made.iterdir())
    second = site._new_env(theme)
    compiled = []
    monkeypatch.setattr(second, "compile", lambda *a, **k: compiled.append(a))
    again = second.get_template("top.html.j2")
    assert compiled == []
    assert again.filename == page.filename
    # A changed cache entry is compiled again (Jinja2 checks the source's sha1 and
    # its own format), never half-loaded.
    for entry in made.iterdir():
        entry.write_bytes(entry.read_bytes()[:20])
    third = site._new_env(theme)
    third.get_template("top.html.j2")


def test_no_template_cache_for_other_themes_or_unsafe_directories(tmp_path, monkeypatch):
    import os

    from reportgen.render.site import template_cache
    theme = THEMES_DIR / "default"
    copied = tmp_path / "theme"
    shutil.copytree(theme, copied)
    assert template_cache(copied, base=str(tmp_path / "c1")) is None   # the user's theme
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", "")
    assert template_cache(theme) is None                                # turned off
    shared = tmp_path / "shared"
    assert template_cache(theme, base=str(shared)) is not None
    (made,) = shared.iterdir()
    os.chmod(made, 0o777)                  # others could plant code there
    assert template_cache(theme, base=str(shared)) is None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    shutil.rmtree(made)
    made.symlink_to(elsewhere)              # a link to a directory: not ours to trust
    assert template_cache(theme, base=str(shared)) is None
    unwritable = tmp_path / "file"
    unwritable.write_text("x")
    assert template_cache(theme, base=str(unwritable / "sub")) is None  # cannot be made
