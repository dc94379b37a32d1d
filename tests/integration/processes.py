"""Running `claimflow` commands as separate processes, the way operators do."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

from shared.settings import Settings


class Workers:
    """`claimflow worker NAME` processes, stopped (or killed) at the end of the test."""

    def __init__(self, env, tmp_path):
        self.env, self.tmp_path, self.procs = env, tmp_path, {}

    def start(self, name: str, metrics_port: int = 0) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}-{len(self.procs)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "services.cli", "worker", name,
                                 "--metrics-port", str(metrics_port)],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[f"{name}-{len(self.procs)}"] = proc
        return proc

    def stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def settings_from(env) -> Settings:
    return Settings(**{k[len("CLAIMFLOW_"):].lower(): v for k, v in env.items() if k.startswith("CLAIMFLOW_")})


def replay(env, path, timeout=240) -> dict:
    done = subprocess.run([sys.executable, "-m", "services.cli", "replay", str(path), "--timeout", str(timeout)],
                          env=env, capture_output=True, text=True, timeout=timeout + 30)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def export(env) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "services.cli", "claims", "export"], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


