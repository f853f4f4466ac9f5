"""docker/dag_sync.py against moto's S3: it mirrors the prefix, downloads only what changed, removes what is gone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "dag_sync.py"
spec = importlib.util.spec_from_file_location("dag_sync", SCRIPT)
dag_sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dag_sync)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket="dags", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def test_mirrors_changes_and_removals(s3, tmp_path):
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 1\n")
    s3.put_object(Bucket="dags", Key="dags/lib/b.py", Body=b"b = 1\n")
    s3.put_object(Bucket="dags", Key="plugins/other.py", Body=b"not a dag\n")
    first = dag_sync.sync_once(s3, "dags", "dags", tmp_path)
    assert first == {"downloaded": 2, "removed": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    assert (tmp_path / "lib" / "b.py").read_text() == "b = 1\n" and not (tmp_path / "other.py").exists()
    assert dag_sync.sync_once(s3, "dags", "dags", tmp_path)["unchanged"] == 2
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 2\n")
    s3.delete_object(Bucket="dags", Key="dags/lib/b.py")
    assert dag_sync.sync_once(s3, "dags", "dags", tmp_path) == {"downloaded": 1, "removed": 1, "unchanged": 0, "skipped": 0, "failed": 0}
    assert (tmp_path / "a.py").read_text() == "a = 2\n" and not (tmp_path / "lib" / "b.py").exists()
    assert not list(tmp_path.rglob("*.partial"))


def test_a_one_shot_sync_fails_loudly(s3, tmp_path):
    with pytest.raises(Exception):
        dag_sync.main(["--bucket", "no-such-bucket", "--dest", str(tmp_path)])


def test_keys_that_leave_the_dag_folder_are_skipped(s3, tmp_path):
    dest = tmp_path / "dags"
    for key in ("dags/../webserver_config.py", "dags//etc/passwd", "dags/./x.py", "dags/ok.py"):
        s3.put_object(Bucket="dags", Key=key, Body=b"print('x')\n")
    counts = dag_sync.sync_once(s3, "dags", "dags", dest)
    assert counts["downloaded"] == 1 and counts["skipped"] == 3
    assert sorted(p.name for p in tmp_path.rglob("*.py")) == ["ok.py"]


def test_a_corrupt_state_file_means_a_full_sync(s3, tmp_path):
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 1\n")
    (tmp_path / dag_sync.STATE_FILE).write_text('{"a.py": "cut sho')
    assert dag_sync.sync_once(s3, "dags", "dags", tmp_path)["downloaded"] == 1


def test_one_unreadable_object_does_not_stop_the_others(s3, tmp_path, monkeypatch):
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 1\n")
    s3.put_object(Bucket="dags", Key="dags/b.py", Body=b"b = 1\n")
    real = s3.get_object

    def flaky(Bucket, Key):  # noqa: N803 - boto3's keyword names
        if Key.endswith("a.py"):
            raise RuntimeError("AccessDenied")
        return real(Bucket=Bucket, Key=Key)

    monkeypatch.setattr(s3, "get_object", flaky)
    counts = dag_sync.sync_once(s3, "dags", "dags", tmp_path)
    assert counts["failed"] == 1 and counts["downloaded"] == 1 and (tmp_path / "b.py").exists()
    assert (tmp_path / dag_sync.STATE_FILE).exists()


def _zip(entries: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_worker_fetches_the_folder_as_one_archive(s3, tmp_path):
    from components.shared.plugins_archive import build_folder_zip
    from k8s.spec import DAG_ARCHIVE_KEY

    source = tmp_path / "src"
    (source / "lib").mkdir(parents=True)
    (source / "a.py").write_text("a = 1\n")
    (source / "lib" / "b.py").write_text("b = 1\n")
    s3.put_object(Bucket="dags", Key=DAG_ARCHIVE_KEY, Body=build_folder_zip(source))
    # No files under dags/: what the worker has can only have come from the archive.
    counts = dag_sync.sync_worker(s3, "dags", "dags", DAG_ARCHIVE_KEY, tmp_path / "worker")
    assert counts["downloaded"] == 2 and counts["failed"] == 0
    assert (tmp_path / "worker" / "lib" / "b.py").read_text() == "b = 1\n"
    assert not list((tmp_path / "worker").rglob("*.partial"))


def test_a_worker_without_the_archive_fetches_the_files(s3, tmp_path):
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 1\n")
    counts = dag_sync.sync_worker(s3, "dags", "dags", "dag-archive/dags.zip", tmp_path)
    assert counts["downloaded"] == 1 and (tmp_path / "a.py").read_text() == "a = 1\n"


def test_an_archive_entry_that_leaves_the_folder_is_skipped(s3, tmp_path):
    s3.put_object(Bucket="dags", Key="dag-archive/dags.zip", Body=_zip({"ok.py": b"x = 1\n", "../escape.py": b"bad\n"}))
    counts = dag_sync.sync_worker(s3, "dags", "dags", "dag-archive/dags.zip", tmp_path / "dest")
    assert counts["skipped"] == 1 and counts["downloaded"] == 1
    assert (tmp_path / "dest" / "ok.py").exists() and not (tmp_path / "escape.py").exists()


def test_the_worker_pod_template_syncs_from_the_archive_and_the_sidecars_from_the_files():
    from k8s import pod_template, workloads
    from k8s.spec import DAG_ARCHIVE_KEY
    from tests.unit.test_k8s_objects import SPEC

    worker_init = pod_template.worker_pod_template(SPEC)["spec"]["initContainers"][0]
    assert worker_init["args"][-2:] == ["--archive", DAG_ARCHIVE_KEY]
    scheduler = workloads.scheduler(SPEC)["spec"]["template"]["spec"]
    for container in scheduler["initContainers"][:1] + scheduler["containers"][1:]:
        assert "--archive" not in container["args"], container["name"]


def test_a_corrupt_archive_falls_back_to_the_files(s3, tmp_path):
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 1\n")
    s3.put_object(Bucket="dags", Key="dag-archive/dags.zip", Body=b"not a zip")
    counts = dag_sync.sync_worker(s3, "dags", "dags", "dag-archive/dags.zip", tmp_path)
    assert counts["downloaded"] == 1 and (tmp_path / "a.py").read_text() == "a = 1\n"
    assert not list(tmp_path.glob(".*.partial"))


def test_a_file_that_becomes_a_folder_does_not_wedge_the_sidecar(s3, tmp_path):
    s3.put_object(Bucket="dags", Key="dags/x", Body=b"a file\n")
    dag_sync.sync_once(s3, "dags", "dags", tmp_path)
    s3.delete_object(Bucket="dags", Key="dags/x")
    s3.put_object(Bucket="dags", Key="dags/x/inside.py", Body=b"now a folder\n")
    counts = dag_sync.sync_once(s3, "dags", "dags", tmp_path)
    assert counts["removed"] == 1 and counts["downloaded"] == 1 and counts["failed"] == 0
    assert (tmp_path / "x" / "inside.py").read_text() == "now a folder\n"
