#!/usr/bin/env bash
# The two commands a new user needs on a fresh machine:
#   ./dev.sh start   build and run the platform (with its own PostgreSQL unless DATABASE_URL is set)
#   ./dev.sh test    run every test (the suite starts a throwaway PostgreSQL itself)
# Both first install what the project needs: the pinned Rust toolchain with
# the wasm32-wasip2 target, and the PostgreSQL server binaries.
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
        exec cargo test --workspace "$@"
        ;;
    *)
        echo "usage: ./dev.sh start [serve options] | ./dev.sh test [cargo test options]" >&2
        exit 2
        ;;
esac
