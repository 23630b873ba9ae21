#!/usr/bin/env bash
# What AI4OS's OSCAR service runs for each input file, written anew from the behaviour of the
# public script (ai4os/ai4-papi, etc/oscar.yaml, `script:`): the platform gives INPUT_FILE_PATH
# (a JSON file of arguments) and TMP_OUTPUT_DIR, and uploads whatever lands in TMP_OUTPUT_DIR.
# Kept to what that script relies on: the bare version on deepaas-cli's last line, options
# before the method with every value as text and files as paths, and the log line
# "... New output is PATH" whose fifth space-separated field is where the result went.
echo "[*] DEEPaaS version: $(deepaas-run --version)"
stem=$(basename "$INPUT_FILE_PATH" | cut -f 1 -d '.')
result="$TMP_OUTPUT_DIR/$stem"
python > service.log 2>&1 <<'PY'
import base64, json, os, random, string, subprocess, sys

def scratch(extension):
    name = "tmp-file-" + "".join(random.choice(string.ascii_lowercase) for _ in range(5))
    if not extension:  # the output: named without an extension, in the output folder
        return os.path.join(os.environ["TMP_OUTPUT_DIR"], name)
    return name + "." + extension

found = subprocess.run(["deepaas-cli", "--version"], stdout=subprocess.PIPE, check=False)
version = found.stdout.decode().strip().split("\n")[-1].split("-")[0]
if tuple(int(part) for part in version.split(".")) < (2, 5, 0):
    print("DEEPaaS too old:", version)
    sys.exit(1)

path = os.environ["INPUT_FILE_PATH"]
with open(path) as handle:
    params = json.load(handle)
command = ["deepaas-cli", "--deepaas_method_output", scratch(""), "predict"]
for key, value in params.items():
    if key == "oscar-files":
        for item in value:
            name = scratch(item["file_format"])
            with open(name, "wb") as handle:
                handle.write(base64.b64decode(item["data"]))
            command += ["--" + item["key"], name]
        continue
    if isinstance(value, (int, float)):  # booleans too: True becomes "True"
        value = str(value)
    command += ["--" + key, value]
print("[*] command:", " ".join(command))
subprocess.run(command, check=False)
PY
if grep -q 'New output is' service.log; then
    produced=$(grep 'New output is' service.log | cut -f 5 -d ' ')
    mv "$produced" "$result.json"
fi
mv service.log "$result.log"
