"""Runs a Python Lambda handler file (`handler(event, context)`) under `runtime_loop.py`, for
scripts/bench-runtime: used for the peer awslabs/aws-lambda-deploy, whose code is not in this
repository (scripts/bench-runtime says how to get it).
"""

import importlib.util
import sys

import runtime_loop

spec = importlib.util.spec_from_file_location("peer", sys.argv[1])
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)
runtime_loop.serve(peer.handler)
