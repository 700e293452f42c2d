#!/usr/bin/env bash
# Stop the single-node SLURM cluster started by .ci/slurm/up.sh.
# Cancels any remaining jobs, then stops slurmd, slurmctld and munged via
# their PID files (never by process name). Safe to run when nothing runs,
# and when SLURM was never installed. Every wait is bounded (~10 s a daemon);
# exits non-zero only if a daemon is still alive at the end.
set -uo pipefail

[ "$(id -u)" -eq 0 ] || { echo "slurm down.sh: must run as root" >&2; exit 1; }

FAILED=""

# pid file -> pid, only if that process is alive AND is the expected daemon
# (a stale pid file may name a pid since reused by an unrelated process).
daemon_pid() {
  local name="$1" pf="$2" pid
  [ -s "$pf" ] || return 1
  pid="$(cat "$pf")"
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  echo "$pid"
}

stop_pidfile() {  # stop_pidfile COMM PIDFILE
  local name="$1" pf="$2" pid
  if pid="$(daemon_pid "$name" "$pf")"; then
    echo "slurm down.sh: stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "slurm down.sh: $name did not stop within 10s: SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
      sleep 0.5
    fi
    if kill -0 "$pid" 2>/dev/null; then
      FAILED="$FAILED $name"
      return 0
    fi
  fi
  rm -f "$pf"
}

# Cancel leftover jobs so no slurmstepd/job processes linger.
if daemon_pid slurmctld /run/slurmctld.pid >/dev/null && command -v squeue >/dev/null; then
  jobs="$(timeout 15 squeue -h -o %i 2>/dev/null)"
  if [ -n "$jobs" ]; then
    echo "slurm down.sh: cancelling remaining jobs:" $jobs
    # shellcheck disable=SC2086
    timeout 15 scancel --full $jobs 2>/dev/null || true
    for _ in $(seq 1 20); do   # up to ~10 s for them to leave the queue
      [ -z "$(timeout 15 squeue -h -t R,CG -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
fi

stop_pidfile slurmd    /run/slurmd.pid
stop_pidfile slurmctld /run/slurmctld.pid
stop_pidfile slurmdbd  /run/slurmdbd.pid      # only with SLURM_ACCOUNTING=1
if daemon_pid mariadbd /run/mysqld/mysqld.pid >/dev/null; then
  echo "slurm down.sh: stopping mariadb"
  timeout 30 mysqladmin shutdown 2>/dev/null || stop_pidfile mariadbd /run/mysqld/mysqld.pid
fi
stop_pidfile munged    /run/munge/munged.pid

if [ -n "$FAILED" ]; then
  echo "slurm down.sh: ERROR: still running:$FAILED" >&2
  exit 1
fi
echo "slurm down.sh: stopped"
