"""Reads cargo's --message-format=json messages on stdin and prints the path of the
executable built (or found up to date) for the target named in argv[1]; exits 1 if none."""
import json
import sys

name = sys.argv[1]
path = ""
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == name and message.get("executable"):
        path = message["executable"]
if not path:
    sys.exit(f"cargo built no executable named {name}")
print(path)
