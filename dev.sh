#!/usr/bin/env bash
# The two commands a new user needs on a fresh machine:
#   ./dev.sh start   build and run the platform (with its own PostgreSQL unless DATABASE_URL is set)
#   ./dev.sh test    run every test (the suite starts a throwaway PostgreSQL itself,
#                    and drives the console in headless Chromium)
# Both first install what the project needs: the pinned Rust toolchain with
# the wasm32-wasip2 target, the PostgreSQL server binaries and the console's
# chart library (npm ci in host/console); `test` also the API fuzzing tools
# (tools/api-fuzz/requirements.txt) into .tools/venv, and Chromium with
# ChromeDriver for the browser tests.
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

# Debian packages are installed (as root, where apt-get exists) with one
# `apt-get update` per run of this script, however many are missing.
APT_UPDATED=
apt_install() {
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 0
    echo "Installing $* (apt-get install)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$APT_UPDATED" ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
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
    apt_install postgresql
    postgres_bin_dir >/dev/null && return 0
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
        apt_install python3 python3-venv
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

ensure_console_assets() {
    # The console (host/console) embeds Apache ECharts from npm; `npm ci`
    # runs only when package-lock.json changed since the last install.
    local dir=host/console
    local stamp=$dir/node_modules/.lock.sha256
    local hash
    hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ -f "$dir/node_modules/echarts/dist/echarts.min.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
        if ! command -v npm >/dev/null 2>&1; then
            echo "npm is needed to fetch the console's chart library: install Node.js (https://nodejs.org)" >&2
            exit 1
        fi
    fi
    echo "Installing the console's chart library ($dir/package-lock.json)..." >&2
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$hash" >"$stamp"
}

ensure_browser() {
    # The console's browser tests (host/tests/api/console) drive Debian's
    # Chromium through chromedriver. Where they cannot be installed the tests
    # skip with a message; once installed, MMM_REQUIRE_BROWSER makes a
    # missing browser a failure rather than a skip.
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        apt_install chromium chromium-driver fonts-dejavu-core
    fi
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        export MMM_REQUIRE_BROWSER=1
    else
        echo "No Chromium here: the console's browser tests will skip (install chromium and chromium-driver to run them)." >&2
    fi
}

command=${1:-}
shift || true
case "$command" in
    start)
        ensure_toolchain
        ensure_postgres start
        ensure_console_assets
        exec cargo run --quiet -p mmm-host --bin mmm -- serve "$@"
        ;;
    test)
        ensure_toolchain
        # The test tools (PostgreSQL, Python tools, chart library, Chromium)
        # install in the background while the tests compile, which they do
        # not need for; their output is shown once the compile is done.
        install_log=$(mktemp)
        (ensure_postgres test && ensure_api_fuzz_tools && ensure_console_assets && ensure_browser) \
            >"$install_log" 2>&1 &
        installer=$!
        trap 'kill "$installer" 2>/dev/null || true; rm -f "$install_log"' EXIT
        # Libraries, binaries and test targets, not the examples (which
        # `cargo test` would build and never run); then the doc tests.
        cargo test --workspace --lib --bins --tests --no-run "$@"
        installed=0
        wait "$installer" || installed=$?
        cat "$install_log" >&2
        [ "$installed" -eq 0 ] || exit "$installed"
        # Already installed: these only export where the tools are.
        ensure_api_fuzz_tools
        ensure_browser
        cargo test --workspace --lib --bins --tests "$@"
        cargo test --workspace --doc "$@"
        ;;
    *)
        echo "usage: ./dev.sh start [serve options] | ./dev.sh test [cargo test options]" >&2
        exit 2
        ;;
esac
