"""`agentterm serve` as a process: it announces its port, answers, and SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx2 as httpx


def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path, db_path, config_path, store):
    token, _ = store.create_token("root")
    port_file = tmp_path / "port"
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
    proc = subprocess.Popen([sys.executable, "-m", "agentterm", "serve", "--port", "0", "--port-file",
                             str(port_file)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if port_file.exists() and port_file.read_text():
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        answer = httpx.get(f"http://127.0.0.1:{port_file.read_text()}/v1/models",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert answer.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_binding_beyond_loopback_warns(tmp_path, db_path, config_path):
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
    proc = subprocess.Popen([sys.executable, "-m", "agentterm", "serve", "--host", "0.0.0.0", "--port", "0",
                             "--port-file", str(tmp_path / "port")], env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "warning" in line and "0.0.0.0" in line and "TLS" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
