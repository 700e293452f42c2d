#!/usr/bin/env bash
# Bring up a real single-node SLURM cluster on localhost (Debian/Ubuntu, root,
# no systemd required). Idempotent: re-running it is harmless; it only
# installs / (re)starts what is missing or what changed.
#
#   sudo bash .ci/slurm/up.sh     # install + configure + start, print sinfo
#   sudo bash .ci/slurm/down.sh   # stop the daemons again
#
# Tested on Debian 12 (Slurm 22.05.8, munge 0.5.15). Accounting is disabled
# (no slurmdbd), so `sacct` does NOT work; run Snakemake's SLURM executor with
#   --slurm-status-command squeue
# (see profiles/slurm/config.yaml), otherwise it polls sacct forever.
#
# Every wait is bounded; on failure the script exits non-zero with the reason
# and the tail of the relevant log.
#
# Env overrides: SLURM_UP_TIMEOUT (seconds to wait for the node, default 60),
#                SLURM_APT_TIMEOUT (seconds per apt-get call, default 600),
#                SLURM_PARTITION (default "debug"),
#                SLURM_ACCOUNTING=1: also install MariaDB + slurmdbd so that
#                  'sacct'/'sacctmgr' work (account "ci"); then the plugin's
#                  defaults (status via sacct, slurm_account=ci validated) work.
set -euo pipefail

TIMEOUT="${SLURM_UP_TIMEOUT:-60}"
APT_TIMEOUT="${SLURM_APT_TIMEOUT:-600}"
PARTITION="${SLURM_PARTITION:-debug}"
ACCOUNTING="${SLURM_ACCOUNTING:-0}"
CONF_DIR=/etc/slurm            # Debian's slurm binaries read /etc/slurm/slurm.conf
CONF="$CONF_DIR/slurm.conf"
LOG_DIR=/var/log/slurm

die() { echo "slurm up.sh: ERROR: $*" >&2; exit 1; }
log() { echo "slurm up.sh: $*"; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

# ---------------------------------------------------------------- install ---
# slurmctld (controller), slurmd (compute daemon), slurm-client (sbatch,
# squeue, sinfo, sacct...), munge (authentication). The "slurm-wlm"
# metapackage would pull in ~25 extra plugin/-dev packages we don't need.
apt_lists_empty() { ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }

apt_install() {  # apt_install PKG... -- bounded, non-interactive, one retry
  command -v apt-get >/dev/null \
    || die "apt-get not found: this script needs Debian/Ubuntu (install $* by hand)"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting daemons (there is
  # no systemd; this script starts them itself with its own config).
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 0755 "$policy"; added_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT   # also if interrupted
  fi
  local apt=(timeout "$APT_TIMEOUT" apt-get -q -o DPkg::Lock::Timeout=120)
  local rc=0
  if apt_lists_empty; then
    log "package lists are empty: apt-get update"
    "${apt[@]}" update -qq || rc=$?
  fi
  if [ "$rc" -eq 0 ]; then
    "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
      # Stale lists (404 on a superseded .deb) or a missing package: refresh once.
      log "apt-get install failed (exit $rc): apt-get update and retry"
      rc=0
      "${apt[@]}" update -qq || rc=$?
      [ "$rc" -eq 0 ] && { "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?; }
    fi
  fi
  if [ "$added_policy" -eq 1 ]; then rm -f "$policy"; trap - EXIT; fi
  [ "$rc" -eq 124 ] && die "apt-get timed out after ${APT_TIMEOUT}s (SLURM_APT_TIMEOUT) installing: $*"
  [ "$rc" -eq 0 ] || die "apt-get failed (exit $rc) installing: $* (run 'apt-get install $*' to see why)"
}

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurmctld slurmd slurm-client munge via apt-get ..."
  apt_install slurmctld slurmd slurm-client munge
fi
if [ "$ACCOUNTING" = 1 ] && { ! command -v slurmdbd >/dev/null || ! command -v mysqld_safe >/dev/null; }; then
  log "installing slurmdbd mariadb-server via apt-get ..."
  apt_install slurmdbd mariadb-server
fi
id slurm >/dev/null 2>&1 || die "user 'slurm' missing (the slurmctld package creates it)"
id munge >/dev/null 2>&1 || die "user 'munge' missing (the munge package creates it)"

# ------------------------------------------------------------------ munge ---
# The munge package normally generates /etc/munge/munge.key on install;
# create one if it is missing (e.g. package installed with a different tool).
if [ ! -s /etc/munge/munge.key ]; then
  log "creating munge key"
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile=/etc/munge/munge.key --force
  else
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
# /run is a tmpfs: the socket directory has to be recreated after each boot.
install -d -o munge -g munge -m 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "starting munged"
  # munged refuses to be useful as root; run it as the 'munge' user.
  # It daemonizes itself and writes /run/munge/munged.pid.
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 20); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.5
  done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 \
    || die "munged is not answering after 10s (see /var/log/munge/munged.log)"
fi

# ------------------------------------------------------------- slurm.conf ---
# Short host name: slurmd identifies its node by it (NodeName must match).
HOST="$(hostname -s 2>/dev/null || uname -n)"; HOST="${HOST%%.*}"
[ -n "$HOST" ] || die "cannot determine the host name"
CPUS="$(nproc)"
MEM_TOTAL=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
# Leave headroom for the OS / daemons: 10 % but at least 256 MB. If
# RealMemory exceeded what slurmd detects, the node would be set INVALID.
MARGIN=$(( MEM_TOTAL / 10 )); [ "$MARGIN" -lt 256 ] && MARGIN=256
REALMEM=$(( MEM_TOTAL - MARGIN )); [ "$REALMEM" -lt 500 ] && REALMEM=500

mkdir -p "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
chown slurm:slurm "$LOG_DIR" /var/spool/slurmctld

if [ "$ACCOUNTING" = 1 ]; then
  # Optional: job records go to slurmdbd (MariaDB backend) -> sacct works.
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1"
else
  ACCT_LINES="AccountingStorageType=accounting_storage/none"
fi

NEW_CONF="$(mktemp)"
cat >"$NEW_CONF" <<EOF
# Generated by .ci/slurm/up.sh -- single-node localhost test cluster.
ClusterName=localcluster
# Controller runs here; the explicit address avoids relying on the hostname
# resolving via DNS//etc/hosts (often not the case in CI containers).
SlurmctldHost=${HOST}(127.0.0.1)
# Authentication between client commands and daemons (needs munged).
AuthType=auth/munge
# slurmctld drops privileges to 'slurm' (user created by the Debian package);
# slurmd must stay root so it can launch jobs as the submitting user.
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
# PID files are what down.sh uses to stop the daemons.
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd.log
# Track job processes via /proc parent/child links: no cgroups needed
# (works in containers/VMs without a delegated cgroup hierarchy, and no
# cgroup.conf is required).
ProctrackType=proctrack/linuxproc
# No CPU binding/affinity plugin (also cgroup-free). Side effect: harmless
# "srun: cluster configuration lacks support for cpu binding" warnings.
TaskPlugin=task/none
# Consumable resources: allocate individual CPUs and memory so several
# 1-CPU jobs can share the node (the default select/linear would give each
# job the whole node) and --mem requests are honoured.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# No per-job resource sampling and no accounting database (slurmdbd).
# Consequence: 'sacct' answers "Slurm accounting storage is disabled"
# (exit 1) -> use Snakemake's '--slurm-status-command squeue'.
# (accounting_storage/filetxt no longer exists in Slurm >= 17.x.)
JobAcctGatherType=jobacct_gather/none
${ACCT_LINES}
JobCompType=jobcomp/none
# Keep finished jobs visible to 'squeue --states=all' for 10 min. The
# Snakemake SLURM plugin needs MinJobAge >= 3 * init_seconds_before_status_checks
# (120 s by default) for squeue-based status polling.
MinJobAge=600
# A node that was DOWN (e.g. after down.sh/up.sh) returns to service as soon
# as slurmd registers with a valid configuration.
ReturnToService=2
# Quick detection of slurmd restarts; short scheduling intervals for tests.
SlurmdTimeout=30
SchedulerParameters=sched_min_interval=100000
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${REALMEM} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF

CONF_CHANGED=0
if ! cmp -s "$NEW_CONF" "$CONF"; then
  log "writing $CONF (node ${HOST}: CPUs=${CPUS} RealMemory=${REALMEM})"
  install -m 0644 "$NEW_CONF" "$CONF"
  CONF_CHANGED=1
fi
rm -f "$NEW_CONF"

# ---------------------------------------------------------------- daemons ---
# Alive = the pid file names a running process of that daemon (a stale pid
# file may name a pid reused by something else): /run/slurmd.pid -> slurmd.
pid_alive() {
  local pid; pid="$(cat "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$(basename "$1" .pid)" ]
}

stop_pidfile() {  # stop one daemon by its pid file (no broad pkill)
  local pf="$1" pid
  pid_alive "$pf" || return 0
  pid="$(cat "$pf")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

if [ "$CONF_CHANGED" -eq 1 ]; then
  # Node definitions cannot be changed with 'scontrol reconfigure'; restart.
  stop_pidfile /run/slurmd.pid
  stop_pidfile /run/slurmctld.pid
fi

if [ "$ACCOUNTING" = 1 ]; then
  # MariaDB (started without systemd; mysqld_safe daemonizes with setsid).
  install -d -o mysql -g mysql /run/mysqld
  if ! timeout 10 mysqladmin ping >/dev/null 2>&1; then
    log "starting mariadb"
    setsid mysqld_safe --bind-address=127.0.0.1 >/var/log/slurm/mysqld_safe.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do timeout 10 mysqladmin ping >/dev/null 2>&1 && break; sleep 0.5; done
    timeout 10 mysqladmin ping >/dev/null 2>&1 \
      || die "mariadb did not start within 30s (see /var/log/slurm/mysqld_safe.log)"
  fi
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm-ci';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  DBD_NEW="$(mktemp)"
  cat >"$DBD_NEW" <<EOF
# Generated by .ci/slurm/up.sh (SLURM_ACCOUNTING=1)
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
PidFile=/run/slurmdbd.pid
LogFile=${LOG_DIR}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm-ci
StorageLoc=slurm_acct_db
EOF
  if ! cmp -s "$DBD_NEW" "$CONF_DIR/slurmdbd.conf"; then
    # slurmdbd refuses a config readable by others (it contains a password).
    install -o slurm -g slurm -m 0600 "$DBD_NEW" "$CONF_DIR/slurmdbd.conf"
    stop_pidfile /run/slurmdbd.pid
  fi
  rm -f "$DBD_NEW"
  if ! pid_alive /run/slurmdbd.pid; then
    log "starting slurmdbd"
    slurmdbd || die "slurmdbd failed to start, see $LOG_DIR/slurmdbd.log"
  fi
  for _ in $(seq 1 30); do timeout 10 sacctmgr -n show cluster >/dev/null 2>&1 && break; sleep 0.5; done
  timeout 10 sacctmgr -n show cluster >/dev/null 2>&1 \
    || die "slurmdbd is not answering (see $LOG_DIR/slurmdbd.log)"
  # Register cluster, an account "ci" and root in it (idempotent).
  sacctmgr -n show cluster format=cluster%50 | grep -qw localcluster \
    || sacctmgr -i add cluster localcluster >/dev/null
  sacctmgr -n show account format=account%50 | grep -qw ci \
    || sacctmgr -i add account ci cluster=localcluster >/dev/null
  sacctmgr -n show assoc where user=root account=ci format=user%20 | grep -qw root \
    || sacctmgr -i add user root account=ci cluster=localcluster >/dev/null
fi

if ! pid_alive /run/slurmctld.pid; then
  log "starting slurmctld"
  # Daemonizes itself (no -D); log in $LOG_DIR/slurmctld.log.
  slurmctld || { tail -n 20 "$LOG_DIR/slurmctld.log" >&2 2>/dev/null; die "slurmctld failed to start, see $LOG_DIR/slurmctld.log"; }
fi
if ! pid_alive /run/slurmd.pid; then
  log "starting slurmd"
  slurmd || { tail -n 20 "$LOG_DIR/slurmd.log" >&2 2>/dev/null; die "slurmd failed to start, see $LOG_DIR/slurmd.log"; }
fi

# ------------------------------------------------------ wait for the node ---
deadline=$(( $(date +%s) + TIMEOUT ))
state=""
while :; do
  # client commands retry for MessageTimeout (10 s) when slurmctld is not up yet
  state="$(timeout 15 sinfo -h -n "$HOST" -o '%t' 2>/dev/null | head -n1 || true)"
  case "$state" in
    idle|mix|alloc) break ;;
    down*|drain*|drng*|inval*)
      # e.g. left DOWN from a previous unclean shutdown
      timeout 15 scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "slurm up.sh: ERROR: node '$HOST' not ready after ${TIMEOUT}s (state: '${state:-no answer from slurmctld}')" >&2
    timeout 15 scontrol show node "$HOST" >&2 2>/dev/null || true
    echo "--- tail $LOG_DIR/slurmctld.log" >&2; tail -n 20 "$LOG_DIR/slurmctld.log" >&2 || true
    echo "--- tail $LOG_DIR/slurmd.log" >&2;    tail -n 20 "$LOG_DIR/slurmd.log" >&2 || true
    exit 1
  fi
  sleep 1
done

log "cluster is up (node ${HOST} is ${state}, partition ${PARTITION})"
timeout 15 sinfo
