"""Process entry points: `python -m scenarist_<service>` runs one service (distributed mode).

    raise SystemExit(run_services(["orchestrator"]))

Settings come from the environment (`SCENARIST_*`, see settings.py) with `service_name` set to
the hosted service. SIGTERM/SIGINT start the drain (a second signal stops waiting for it). The
exit code is 0 only after a signal-initiated stop whose in-flight work drained in time; a failed
start, a service that stopped itself (e.g. a crashed consumer loop) or a forced/late drain exit 1,
so a supervisor sees the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from scenarist_observability.logging import configure_logging
from scenarist_observability.metrics import set_build_info
from scenarist_observability.tracing import configure_tracing, shutdown_tracing

from scenarist_runtime.gc_tuning import settle_gc
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.malloc import pin_mmap_threshold
from scenarist_runtime.settings import ServiceSettings, load_settings

__all__ = ["host_services", "run_services", "settings_for"]

log = logging.getLogger("scenarist.main")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def settings_for(names: Sequence[str]) -> ServiceSettings:
    """Settings from the environment, named after the hosted service(s)."""
    return load_settings(ServiceSettings, overrides={"service_name": "+".join(names)})


def _install_signals(lifecycle: Lifecycle) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, lifecycle.on_signal, sig.name)
        except (NotImplementedError, RuntimeError):  # not the main thread
            continue
        installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


async def host_services(
    names: Sequence[str],
    settings: ServiceSettings,
    lifecycle: Lifecycle | None = None,
    *,
    after_start: Callable[[], object] | None = None,
) -> int:
    """Host `names` until stopped, drain, and return the process exit code. `after_start`
    runs once everything started (the process entry point settles the garbage collector)."""
    lc = lifecycle or Lifecycle(settings)
    remove_signals = _install_signals(lc)
    started = False
    try:
        await start_host(names, settings, lc)
        started = True
        if after_start is not None:
            after_start()
        await lc.stopping.wait()
    except Exception:
        log.exception("services failed to start", extra={"services": list(names)})
    finally:
        drained = await lc.shutdown()
        remove_signals()
    by_signal = lc.stop_reason in {sig.name for sig in STOP_SIGNALS}
    return 0 if started and drained and by_signal and not lc.forced else 1


def run_services(names: list[str], settings: ServiceSettings | None = None) -> int:
    """Configure logging/tracing, host `names` on uvloop until SIGTERM; return the exit code."""
    try:
        resolved = settings or settings_for(names)
    except ValueError as exc:  # SettingsError names the offending variables
        print(f"scenarist: {exc}", file=sys.stderr)  # logging is not configured yet
        return 2
    pin_mmap_threshold()
    configure_logging(resolved.service_name, resolved.log_level)
    configure_tracing(resolved.service_name, version=resolved.version)
    set_build_info(resolved.service_name, resolved.version)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop  # noqa: PLC0415 - optional accelerator

        loop_factory = uvloop.new_event_loop
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(host_services(names, resolved, after_start=settle_gc))
    finally:
        shutdown_tracing()
