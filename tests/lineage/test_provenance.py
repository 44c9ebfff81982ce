import subprocess

from micro_expression.lineage import code_version, environment_versions


def test_code_version_reads_the_commit(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f.txt").write_text("x")
    subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        cwd=tmp_path, check=True,
    )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert code_version(tmp_path) == {"git_commit": head, "git_dirty": "false"}
    (tmp_path / "f.txt").write_text("y")
    assert code_version(tmp_path)["git_dirty"] == "true"


def test_code_version_outside_git_is_unknown(tmp_path):
    assert code_version(tmp_path)["git_commit"] == "unknown"


def test_environment_versions_name_the_stack():
    versions = environment_versions()
    assert versions["kedro"].startswith("1.7")
    assert versions["micro_expression"] != "not installed"


def test_changes_under_data_do_not_make_the_code_dirty(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "data" / "03_primary").mkdir(parents=True)
    (tmp_path / "data" / "03_primary" / ".gitkeep").write_text("")
    (tmp_path / "conf.yml").write_text("a: 1")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        cwd=tmp_path, check=True,
    )
    (tmp_path / "data" / "03_primary" / ".gitkeep").unlink()
    assert code_version(tmp_path)["git_dirty"] == "false"
    (tmp_path / "conf.yml").write_text("a: 2")
    assert code_version(tmp_path)["git_dirty"] == "true"
