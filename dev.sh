#!/usr/bin/env bash
# The two commands a new user needs on a fresh machine:
#   ./dev.sh start   build and run the platform (with its own PostgreSQL unless DATABASE_URL is set)
#   ./dev.sh test    run every test (the suite starts a throwaway PostgreSQL itself)
# Both first install what the project needs: the pinned Rust toolchain with
# the wasm32-wasip2 target, and the PostgreSQL server binaries; `test` also
# the API fuzzing tools (tools/api-fuzz/requirements.txt) into .tools/venv.
set -euo pipefail
cd "$(dirname "$0")"

ensure_toolchain() {
    # rust-toolchain.toml pins the toolchain and the wasm32-wasip2 target.
    local channel
    channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
    if ! rustup toolchain list | grep -q "^$channel"; then
        rustup toolchain install "$channel" --profile minimal --component rustfmt,clippy
    fi
    if ! rustup target list --installed | grep -qx wasm32-wasip2; then
        rustup target add wasm32-wasip2
    fi
}

postgres_bin_dir() {
    local dir
    if dir=$(dirname "$(command -v initdb 2>/dev/null)" 2>/dev/null) && [ -x "$dir/initdb" ]; then
        echo "$dir"; return 0
    fi
    if command -v pg_config >/dev/null 2>&1 && dir=$(pg_config --bindir) && [ -x "$dir/initdb" ]; then
        echo "$dir"; return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ] && [ "${1:-}" = start ]; then
        return 0
    fi
    if postgres_bin_dir >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing the PostgreSQL server binaries (apt-get install postgresql)..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        postgres_bin_dir >/dev/null && return 0
    fi
    echo "PostgreSQL server binaries (initdb, pg_ctl) are needed: install them, e.g." >&2
    echo "  sudo apt-get install postgresql      (Debian/Ubuntu)" >&2
    echo "  brew install postgresql@15           (macOS)" >&2
    echo "or set DATABASE_URL to an existing server." >&2
    exit 1
}

ensure_api_fuzz_tools() {
    # The API contract test (host/tests/api/contract.rs) runs Schemathesis and
    # openapi-spec-validator from a virtual environment: MMM_API_FUZZ_VENV,
    # by default .tools/venv. It is (re)installed only when
    # tools/api-fuzz/requirements.txt changed since the last install.
    local venv=${MMM_API_FUZZ_VENV:-$PWD/.tools/venv}
    local requirements=tools/api-fuzz/requirements.txt
    local stamp=$venv/.requirements.sha256
    local hash
    hash=$(sha256sum "$requirements" | cut -d' ' -f1)
    export MMM_API_FUZZ_VENV=$venv
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
        return 0
    fi
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "Installing Python's venv module (apt-get install python3-venv)..." >&2
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
        fi
        if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
            echo "Python 3 with its venv module is needed for the API contract test:" >&2
            echo "  sudo apt-get install python3-venv   (Debian/Ubuntu)" >&2
            exit 1
        fi
    fi
    echo "Installing the API fuzzing tools ($requirements) into $venv..." >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$hash" >"$stamp"
}

command=${1:-}
shift || true
case "$command" in
    start)
        ensure_toolchain
        ensure_postgres start
        exec cargo run --quiet -p mmm-host --bin mmm -- serve "$@"
        ;;
    test)
        ensure_toolchain
        ensure_postgres test
        ensure_api_fuzz_tools
        exec cargo test --workspace "$@"
        ;;
    *)
        echo "usage: ./dev.sh start [serve options] | ./dev.sh test [cargo test options]" >&2
        exit 2
        ;;
esac
