#!/usr/bin/env python3
"""A second, independent api-service client: Python stubs generated from proto/v1alpha/api.proto
at run time (grpc_tools, Debian's python3-grpc-tools), then ListPods and GetLogs. Prints one line
per pod ("pod <id> <STATE> <app>,<app>...") and per log line ("log <line>"). Used by
api_e2e_test to show wire compatibility beyond comet's own C++ stubs."""

import argparse
import importlib
import os
import sys
import tempfile


def generate_stubs(proto_dir, out_dir):
    from grpc_tools import protoc  # pylint: disable=import-outside-toplevel

    code = protoc.main([
        "grpc_tools.protoc",
        "-I" + proto_dir,
        "--python_out=" + out_dir,
        "--grpc_python_out=" + out_dir,
        "v1alpha/api.proto",
    ])
    if code != 0:
        sys.exit("client.py: protoc failed with %d" % code)
    sys.path.insert(0, out_dir)
    return (importlib.import_module("v1alpha.api_pb2"),
            importlib.import_module("v1alpha.api_pb2_grpc"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--address", required=True, help="host:port or unix:/path")
    parser.add_argument("--pod", help="pod whose logs to read (default: every pod)")
    args = parser.parse_args()

    import grpc  # pylint: disable=import-outside-toplevel

    with tempfile.TemporaryDirectory(prefix="comet-api-client-") as out_dir:
        api_pb2, api_pb2_grpc = generate_stubs(args.proto_dir, out_dir)
        # gRPC honours http_proxy even for loopback addresses: not here.
        channel = grpc.insecure_channel(args.address, options=[("grpc.enable_http_proxy", 0)])
        stub = api_pb2_grpc.PublicAPIStub(channel)
        pods = stub.ListPods(api_pb2.ListPodsRequest(detail=True), timeout=30).pods
        for pod in pods:
            apps = ",".join(app.name for app in pod.apps)
            print("pod %s %s %s" % (pod.id, api_pb2.PodState.Name(pod.state), apps))
        for pod in pods:
            if args.pod and pod.id != args.pod:
                continue
            for response in stub.GetLogs(api_pb2.GetLogsRequest(pod_id=pod.id), timeout=30):
                for line in response.lines:
                    print("log %s" % line)
        channel.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    sys.exit(main())
