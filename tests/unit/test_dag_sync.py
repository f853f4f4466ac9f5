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
    assert first == {"downloaded": 2, "removed": 0, "unchanged": 0}
    assert (tmp_path / "lib" / "b.py").read_text() == "b = 1\n" and not (tmp_path / "other.py").exists()
    assert dag_sync.sync_once(s3, "dags", "dags", tmp_path) == {"downloaded": 0, "removed": 0, "unchanged": 2}
    s3.put_object(Bucket="dags", Key="dags/a.py", Body=b"a = 2\n")
    s3.delete_object(Bucket="dags", Key="dags/lib/b.py")
    assert dag_sync.sync_once(s3, "dags", "dags", tmp_path) == {"downloaded": 1, "removed": 1, "unchanged": 0}
    assert (tmp_path / "a.py").read_text() == "a = 2\n" and not (tmp_path / "lib" / "b.py").exists()
    assert not list(tmp_path.rglob("*.partial"))


def test_a_one_shot_sync_fails_loudly(s3, tmp_path):
    with pytest.raises(Exception):
        dag_sync.main(["--bucket", "no-such-bucket", "--dest", str(tmp_path)])
