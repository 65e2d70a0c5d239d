"""A worker of the Python implementation (keakon/delayed) on one queue, for Invoke-PythonInterop.ps1.

Usage: python3 python_worker.py <redis port> <queue name> [<path that holds the delayed package>]
Its task, interop_tasks:record, appends the task's number to python-ran.log in this folder. Only warnings and errors are
logged (to stderr): a failed claim logs "Failed to dequeue task."
"""
import logging
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])

import redis  # noqa: E402
from delayed.logger import setup_logger  # noqa: E402
from delayed.queue import Queue  # noqa: E402
from delayed.worker import Worker  # noqa: E402

setup_logger(log_level=logging.WARNING)
Worker(queue=Queue(name=sys.argv[2], conn=redis.Redis(port=int(sys.argv[1])), dequeue_timeout=0.05)).run()
