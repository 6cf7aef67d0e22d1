"""The committed generated module matches reportgen/proto/profile.proto."""

import subprocess
import sys
from pathlib import Path

import pytest

PROTO_DIR = Path(__file__).resolve().parent.parent / "reportgen" / "proto"


def test_generated_module_is_up_to_date(tmp_path):
    pytest.importorskip("grpc_tools")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}",
                    f"--python_out={tmp_path}", "profile.proto"], check=True)
    assert (tmp_path / "profile_pb2.py").read_text() == (PROTO_DIR / "profile_pb2.py").read_text()
