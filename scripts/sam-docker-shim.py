"""A Docker API socket for `sam local` on a machine whose dockerd has no bridge network.

    python3 scripts/sam-docker-shim.py LISTEN_SOCKET DOCKER_SOCKET ENV_FILE RUN_ID

Where dockerd runs with `--bridge=none --iptables=false` (no bridge can be made here), a
container gets only its own loopback: SAM could neither reach the RIE it publishes on a host
port, nor could the function reach DynamoDB Local and moto on the host. SAM cannot ask for the
host network (its `--docker-network host` only skips connecting a network), so this socket
passes every Docker API call through unchanged except the creation of a SAM Lambda container
(entrypoint /var/rapid/aws-lambda-rie), which it creates on the host network with:
  - the RIE listening where SAM will call it (the host port SAM asked to publish 8080 on), and
    its Runtime API on a free loopback port (the default, 9001, would clash between containers);
  - the lines of ENV_FILE (NAME=value) added to its environment: the stand-ins' endpoints,
    which SAM does not pass because the template does not declare them (deployed functions use
    AWS's and Google's);
  - the label halobestie.sam-local=RUN_ID, so the script can remove what a killed SAM left.
Every other request is forwarded as it is, one request per connection.
"""

import json
import os
import re
import socket
import sys
import threading

CREATE = re.compile(rb"^POST (/v[0-9.]+)?/containers/create[ ?]")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.split(b"\r\n"), rest


def header(lines, name):
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def without(lines, *names):
    return [lines[0]] + [l for l in lines[1:] if l.partition(b":")[0].strip().lower() not in names]


def on_host_network(body, extra_env, run_id):
    spec = json.loads(body)
    entrypoint = spec.get("Entrypoint") or []
    if not entrypoint or not entrypoint[0].endswith("/aws-lambda-rie"):
        return body
    host = spec.setdefault("HostConfig", {})
    port = host.get("PortBindings", {}).get("8080/tcp", [{}])[0].get("HostPort")
    if not port:
        return body
    host["NetworkMode"] = "host"
    host.pop("PortBindings", None)
    spec.pop("ExposedPorts", None)
    spec["Entrypoint"] = entrypoint + [
        "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
        "--runtime-api-address", f"127.0.0.1:{free_port()}",
    ]
    spec["Env"] = (spec.get("Env") or []) + extra_env
    spec["Labels"] = {**(spec.get("Labels") or {}), "halobestie.sam-local": run_id}
    return json.dumps(spec).encode()


def pipe(src, dst):
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client, docker_socket, extra_env, run_id):
    upstream = socket.socket(socket.AF_UNIX)
    try:
        lines, rest = read_head(client)
        if lines is None:
            return
        upstream.connect(docker_socket)
        if header(lines, b"upgrade") is None:
            # One request per connection, so every create passes through here.
            lines = without(lines, b"connection") + [b"Connection: close"]
            length = header(lines, b"content-length")
            if CREATE.match(lines[0]) and length is not None:
                while len(rest) < int(length):
                    rest += client.recv(65536)
                rest = on_host_network(rest, extra_env, run_id)
                lines = without(lines, b"content-length") + [b"Content-Length: %d" % len(rest)]
        upstream.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + rest)
        # The rest of a request body (an image build's context) and an attach's input go up;
        # the answer comes back until dockerd closes the connection.
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        pipe(upstream, client)
    except OSError:
        pass
    finally:
        upstream.close()
        client.close()


def main():
    listen, docker_socket, env_file, run_id = sys.argv[1:5]
    extra_env = [line.strip() for line in open(env_file) if "=" in line]
    if os.path.exists(listen):
        os.unlink(listen)
    server = socket.socket(socket.AF_UNIX)
    server.bind(listen)
    server.listen(64)
    while True:
        client, _ = server.accept()
        threading.Thread(target=serve, args=(client, docker_socket, extra_env, run_id), daemon=True).start()


if __name__ == "__main__":
    main()
