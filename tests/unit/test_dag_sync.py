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
    real = s3.download_file

    def flaky(bucket, key, path):
        if key.endswith("a.py"):
            raise RuntimeError("AccessDenied")
        return real(bucket, key, path)

    monkeypatch.setattr(s3, "download_file", flaky)
    counts = dag_sync.sync_once(s3, "dags", "dags", tmp_path)
    assert counts["failed"] == 1 and counts["downloaded"] == 1 and (tmp_path / "b.py").exists()
    assert (tmp_path / dag_sync.STATE_FILE).exists()
