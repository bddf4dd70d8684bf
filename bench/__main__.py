"""`python -m bench <scenario>...|all [--quick]`: run, clean up, print one JSON line.

A scenario that fails is reported as its error; the others still run and print."""

import argparse
import asyncio
import json
import signal
import sys
import time
import traceback
from typing import Any

from bench.harness import cleanup, log
from bench.scenarios import SCENARIOS


def _interrupt(signum: int, frame: Any) -> None:
    # Raised straight out of the event loop. asyncio.run's own Ctrl-C handling only
    # cancels the main task, and a cancellation swallowed anywhere would keep us running.
    raise KeyboardInterrupt


async def run(names: list[str], quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in names:
        started = time.monotonic()
        log(f"== {name}{' (quick)' if quick else ''}")
        try:
            results[name] = await SCENARIOS[name](quick)
        except Exception as error:  # noqa: BLE001  (reported, and the next one runs)
            log(traceback.format_exc())
            results[name] = {"error": repr(error)}
        results[name]["seconds"] = round(time.monotonic() - started, 1)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("scenario", nargs="+", choices=[*SCENARIOS, "all"])
    parser.add_argument("--quick", action="store_true", help="each scenario in under a minute")
    args = parser.parse_args()
    names = list(SCENARIOS) if "all" in args.scenario else args.scenario
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = asyncio.run(run(names, args.quick))
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        cleanup()
    line = {"scenario": " ".join(args.scenario), "quick": args.quick}
    line.update(results if len(names) > 1 else results[names[0]])
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
