# Helpers shared by the service scripts. Sourced by scripts/test.

wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 10))); do
    "$@" && return 0
    sleep 0.1
  done
  echo "FAILED: $what (waited ${seconds}s)" >&2
  return 1
}
