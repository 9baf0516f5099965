#!/usr/bin/env python3
"""test_openapi.py - the daemon's route table (kxld --print-routes) and docs/api/openapi.yaml
name the same routes, method for method; every operation in the spec answers errors with the
Error schema and its success with a declared status; every $ref resolves. Fails naming each
route that only one side has.

    test_openapi.py KXLD_BINARY OPENAPI_YAML
"""
import subprocess
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


def daemon_routes(kxld):
    r = subprocess.run([kxld, "--print-routes"], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL, check=True)
    routes = set()
    for line in r.stdout.splitlines():
        route = line.split("\t")[0]
        method, path = route.split(" ", 1)
        routes.add((method, path))
    return routes


def spec_routes(spec):
    return {(m.upper(), path) for path, item in spec["paths"].items() for m in item
            if m in METHODS}


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def resolve(spec, ref):
    assert ref.startswith("#/"), ref
    node = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def problems(kxld, spec):
    found = []
    daemon, documented = daemon_routes(kxld), spec_routes(spec)
    for method, path in sorted(daemon - documented):
        found.append(f"{method} {path}: in kxld's route table, not in the spec")
    for method, path in sorted(documented - daemon):
        found.append(f"{method} {path}: in the spec, not in kxld's route table")
    for path, item in spec["paths"].items():
        for m in METHODS:
            op = item.get(m)
            if op is None:
                continue
            responses = op.get("responses", {})
            if responses.get("default", {}).get("$ref") != "#/components/responses/Error":
                found.append(f"{m.upper()} {path}: no default Error response")
            # a WebSocket's success is its upgrade
            if not any(str(s).startswith("2") or str(s) == "101" for s in responses):
                found.append(f"{m.upper()} {path}: no success status")
    for ref in set(refs(spec)):
        try:
            resolve(spec, ref)
        except (KeyError, AssertionError):
            found.append(f"$ref {ref} does not resolve")
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[2]) as f:
        spec = yaml.safe_load(f)
    found = problems(sys.argv[1], spec)
    for p in found:
        print(f"openapi: {p}")
    n = len(daemon_routes(sys.argv[1]))
    print(f"openapi: {n} routes compared; {len(found)} problem(s)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
