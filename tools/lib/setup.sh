# Sourced by tools/test and tools/demo: install missing Debian packages, configure, build.
# The CUDA toolkit (NVRTC, driver API headers, cuBLAS for the benchmark) is expected at
# $CUDA_HOME or /usr/local/cuda; it is not a Debian package.

JITGEMM_PACKAGES=(cmake g++ make libfmt-dev doctest-dev libxxhash-dev nlohmann-json3-dev libcli11-dev)

ensure_packages() {
  local missing=()
  for p in "${JITGEMM_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing missing packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  local cuda="${CUDA_HOME:-/usr/local/cuda}"
  if [[ ! -f "$cuda/include/nvrtc.h" ]]; then
    echo "error: no CUDA toolkit at $cuda (set CUDA_HOME): NVRTC is required" >&2
    exit 1
  fi
  export PATH="$cuda/bin:$PATH"
}

# configure_and_build <build dir> [cmake args...]
configure_and_build() {
  local dir="$1"
  shift
  echo "== configuring $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  echo "== building ($(nproc) jobs)"
  cmake --build "$dir" -j"$(nproc)"
}
