# Shared by scripts/test-all, scripts/dev and scripts/bench: build and start the emulator.
# shellcheck shell=bash

EMULATOR_BIN=${EMULATOR_BIN:-target/debug/wxmedia-emulator}

build_emulator() {
  cargo build --quiet -p wxmedia-emulator
}

# start_emulator [ARGS...]: starts the emulator on a free loopback port, sets EMULATOR_URL,
# EMULATOR_CDN_URL (its video CDN listener) and EMULATOR_PID, and stops it when the calling script exits.
start_emulator() {
  local out
  out=$(mktemp)
  "$EMULATOR_BIN" --listen 127.0.0.1:0 "$@" >"$out" 2> >(sed 's/^/[emulator] /' >&2) &
  EMULATOR_PID=$!
  trap stop_emulator EXIT
  local line="" cdn=""
  for _ in $(seq 100); do
    line=$(head -n1 "$out" 2>/dev/null)
    cdn=$(sed -n 2p "$out" 2>/dev/null)
    # Both lines read, in order: the first may have been read before anything was written.
    case $line/$cdn in "listening on "*/"video CDN on "*) break ;; esac
    kill -0 "$EMULATOR_PID" 2>/dev/null || break
    sleep 0.1
  done
  case $line/$cdn in
    "listening on "*/"video CDN on "*)
      EMULATOR_URL=${line#listening on }
      EMULATOR_CDN_URL=${cdn#video CDN on } ;;
    *) echo "the emulator did not start" >&2; return 1 ;;
  esac
  export EMULATOR_URL EMULATOR_CDN_URL EMULATOR_PID
}

# stop_emulator: stops the emulator started by start_emulator, and waits for it.
stop_emulator() {
  if [ -n "${EMULATOR_PID:-}" ]; then
    kill "$EMULATOR_PID" 2>/dev/null
    wait "$EMULATOR_PID" 2>/dev/null
    EMULATOR_PID=""
  fi
}

# make_quietly LOG TARGET...: runs `make TARGET...` with its output in LOG, shown only if it fails.
make_quietly() {
  local log=$1; shift
  mkdir -p "$(dirname "$log")"
  make --no-print-directory -s "$@" >"$log" 2>&1 || { cat "$log"; return 1; }
}
