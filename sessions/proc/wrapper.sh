# shellcheck shell=bash
#
# The session side of package proc: the bash that runs a command as a
# process whose exit status and output survive the service's cuts and losses.
#
# The client sends, as the shellCommand of one execution: a prologue of
# variable assignments, this file's top-level code, then for each call the
# functions it needs (those it names, transitively) and the call, with
# comment lines and indentation removed: one call of a main_* function, or
# for a command "run_start" then "main_run" (so that the command starts
# before bash reads what waits and reports). The prologue always sets
#   ID    the process ID, 24 hex digits
#   N     a nonce for this request (record tag, chunk file names)
#   KEEP  seconds the process's files stay after its end was first reported
#   IB    the inline budget: most bytes of a stream a report prints inline
#   RM    (array) names of chunk files the client has read, to remove
# and for main_run the command:
#   K     a: argv in A; s: script in S; f: script uploaded as $P.sh
#   A S   argv (array) / script
#   E     (array) NAME=value pairs for env(1); empty for none
#   D     the working directory; empty for the session's default
#   SI    stdin: 0 none, 1 inline in IN, 2 uploaded as $P.in
#   DF    1 when E, D, A, S and IN were uploaded as $P.def instead
#   TO    the timeout in seconds (decimal), empty for none
#   WDC   WaitDelay in centiseconds, -1 for none
#   CB    1 when stderr goes to the stdout file (CombinedOutput)
#
# Files of a process, named shellpool-proc-ID.KIND in the files root F:
#   .out .err  the command's stdout and stderr, exactly as written
#   .in        its stdin;  .sh .def  an uploaded script / definition
#   .pid       "PGID SUPERVISOR-PID", written once the command started
#   .rc        the completion record "EXIT TIMEDOUT T0 T1 WAITDELAY end"
#   .to .kill .rel  markers: the timeout fired / kill / release requested
#   .nodir     D could not be entered (the command did not run)
#   .c*        a snapshot of new output for one read
#   .xEPOCH    the files may be removed after EPOCH (seconds); alone, a
#              tombstone left by Release
# and one file for all: shellpool-proc-sweep, the time of the next sweep.
#
# Needs bash 4.4 or later (mapfile -d, {var} descriptors, printf %(%s)T) and
# the POSIX tools cat, wc, tail, cksum, rm and env. No sleep, timeout, setsid
# or ps: waits are read -t on a pipe, process groups come from job control.

# shellcheck disable=SC2154 # ID, N, KEEP, IB and the command come from the prologue
IFS=$' \t\n'
unset CDPATH
NAPFD=
# The files root: the directory the files API serves. The emulator names
# it in SHELLPOOL_FILES_ROOT when it is not /mnt/data; never the host's.
F=${SHELLPOOL_FILES_ROOT:-/mnt/data}
[ -d "$F" ] || F=$PWD
P="$F/shellpool-proc-$ID"
M="@@shellpool-rec:$N"
G="$F/shellpool-proc-sweep"
SWEEPGAP=5

# nap SECONDS sleeps without a fork per call: read -t on a pipe this script
# opened itself, read-write, so that it never delivers. The descriptor is
# allocated by bash ({NAPFD}), never one inherited from the session.
nap() {
  [ -n "$NAPFD" ] || exec {NAPFD}<> <(:)
  read -r -t "$1" -u "$NAPFD" _
}

# epoch VAR sets VAR to the current time in seconds: EPOCHSECONDS (bash 5),
# else printf's clock (which loads the time zone, a little slower).
epoch() {
  if [ -n "${EPOCHSECONDS:-}" ]; then printf -v "$1" %s "$EPOCHSECONDS"
  else printf -v "$1" '%(%s)T' -1; fi
}

# sweep removes the files of every process whose keep time has passed, and
# the chunk files in RM. Finding them lists the whole files root (a glob
# reads every entry, about a millisecond per thousand files), so the gate
# file $G holds the earliest time a listing can find something to remove:
# until then a call only reads it. A sweep sets it to the earliest keep
# time left, but at least SWEEPGAP seconds ahead, so that a busy session
# lists its files once every few seconds rather than at every call. A
# missing gate means "unknown": the next call lists.
sweep() {
  local now m t nx='' lo='' old=()
  [ ${#RM[@]} -eq 0 ] || old+=("${RM[@]/#/$F/}")
  epoch now
  [ -e "$G" ] && read -r nx <"$G"
  case $nx in '' | *[!0-9]*) nx=0 ;; esac
  if [ "$now" -ge "$nx" ]; then
    for m in "$F"/shellpool-proc-*.x*; do
      t=${m##*.x}
      case $t in '' | *[!0-9]*) continue ;; esac
      if [ "$t" -le "$now" ]; then old+=("${m%.x*}".*)
      elif [ -z "$lo" ] || [ "$t" -lt "$lo" ]; then lo=$t; fi
    done
    if [ -z "$lo" ]; then
      [ -e "$G" ] && old+=("$G")
    else
      [ "$lo" -ge $((now + SWEEPGAP)) ] || lo=$((now + SWEEPGAP))
      echo "$lo" >"$G"
    fi
  fi
  [ ${#old[@]} -eq 0 ] || rm -f -- "${old[@]}" 2>/dev/null
}

# mark starts the keep time of the process's files: the marker $P.xEPOCH
# names when they may be removed; the gate is lowered to it when later.
mark() {
  local now nx=''
  epoch now
  now=$((now + KEEP))
  : >"$P.x$now"
  [ -e "$G" ] && read -r nx <"$G"
  case $nx in '' | *[!0-9]*) return 0 ;; esac
  [ "$now" -ge "$nx" ] || echo "$now" >"$G"
}

# killtree SIGNAL PGID signals the command's process group and every process
# whose environment carries this process's mark (SHELLPOOL_PROCESS=ID):
# children that left the group, with setsid for example.
killtree() {
  local d v
  kill -"$1" -- "-$2" 2>/dev/null
  for d in /proc/[0-9]*; do
    mapfile -t -d '' v 2>/dev/null <"$d/environ" || continue
    case " ${v[*]} " in *" SHELLPOOL_PROCESS=$ID "*) kill -"$1" "${d#/proc/}" 2>/dev/null ;; esac
  done
}

# writers PGID: does a process of the command's group still hold its stdout
# or stderr file open? Without /proc, any live member counts.
writers() {
  local f
  kill -0 -- "-$1" 2>/dev/null || return 1
  [ -d /proc/self/fd ] || return 0
  for f in /proc/[0-9]*/fd/*; do
    if [ "$f" -ef "$P.out" ] || [ "$f" -ef "$P.err" ]; then return 0; fi
  done 2>/dev/null
  return 1
}

# child runs the command (in the background, in its own process group).
child() {
  if [ -n "$D" ]; then
    # "./" keeps "-" a name and CDPATH out of it.
    case $D in /*) ;; *) D=./$D ;; esac
    cd -- "$D" 2>/dev/null || { : >"$P.nodir"; exit 126; }
  fi
  case $K in
    s) set -- "$BASH" -c "$S" bash ;;
    f) set -- "$BASH" "$P.sh" ;;
    *) set -- "${A[@]}" ;;
  esac
  if [ ${#E[@]} -eq 0 ]; then
    export SHELLPOOL_PROCESS="$ID"
    exec -- "$@"
  fi
  # env(1) sets the variables, so no name or value can change what runs;
  # a program named like an assignment goes through bash's exec.
  case $1 in *=*) set -- "$BASH" -c 'exec -- "$@"' bash "$@" ;; esac
  exec env -- "${E[@]}" "SHELLPOOL_PROCESS=$ID" "$@"
}

# sup ANNOUNCE supervises the command: starts it, arms the timeout, waits
# for it and for the other writers of its output (bounded by WDC), records
# the end. It prints "s" once the command started (when ANNOUNCE is 1) and
# "d" once the end is recorded.
sup() {
  local pg wd='' rc to=0 t0 t1 w=0 n=0 in=/dev/null
  [ "$SI" = 0 ] || in=$P.in
  t0=${EPOCHREALTIME/,/.}
  set -m
  if [ "$CB" = 1 ]; then child <"$in" >"$P.out" 2>&1 &
  else child <"$in" >"$P.out" 2>"$P.err" & fi
  pg=$!
  set +m
  if [ -n "$TO" ]; then
    (
      nap "$TO"
      : >"$P.to"
      killtree TERM "$pg"
      # Up to 2 s of grace for the group, then KILL for what is left.
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$pg" 2>/dev/null || break; nap 0.2; done
      killtree KILL "$pg"
    ) </dev/null >/dev/null 2>&1 &
    wd=$!
  fi
  echo "$pg $BASHPID" >"$P.pid"
  [ -e "$P.kill" ] && killtree KILL "$pg"
  [ "$1" = 1 ] && echo s
  wait "$pg"
  rc=$?
  t1=${EPOCHREALTIME/,/.}
  # A timeout that fired must finish killing everything the command started.
  [ -n "$wd" ] && [ -e "$P.to" ] && wait "$wd"
  # Like os/exec's Wait: wait until no one else writes the output.
  while writers "$pg"; do
    if [ "$WDC" -ge 0 ] && [ "$n" -ge "$WDC" ]; then w=1; break; fi
    nap 0.05
    n=$((n + 5))
  done
  [ -n "$wd" ] && kill -KILL "$wd" 2>/dev/null
  [ -e "$P.to" ] && { to=1; rc=124; }
  printf '%s %s %s %s %s end\n' "$rc" "$to" "${t0:--}" "${t1:--}" "$w" >"$P.rc"
  [ -e "$P.rel" ] && rm -f -- "$P".*
  echo d
}

# seg FILE OFFSET DONE TAG describes one stream's content from OFFSET (-1:
# skip; -2: from 0, once DONE) in S_m (n nothing, i inline, d download),
# S_l (length, -1: to the end of a finished file), S_k (cksum), S_n (the
# file to download) and S_v (the inline bytes, when bash can hold them).
seg() {
  local f=$1 off=$2 src c=''
  S_m=n S_l=0 S_k=0 S_n=- S_v=
  if [ "$off" = -2 ]; then [ "$3" = 1 ] || return 0; off=0; fi
  [ "$off" -ge 0 ] && [ -s "$f" ] || return 0
  if [ "$3" = 1 ] && [ "$off" = 0 ]; then src=$f
  else
    # A running stream grows: copy what is there now, for a stable read.
    c="$P.c$N$4"
    if ! tail -c "+$((off + 1))" -- "$f" >"$c" 2>/dev/null || [ ! -s "$c" ]; then rm -f -- "$c"; return 0; fi
    src=$c
  fi
  S_n=${src##*/}
  IFS= read -r -d '' -N "$((IB + 1))" S_v <"$src"
  if [ "${#S_v}" -le "$IB" ]; then
    read -r S_k S_l _ <<<"$(cksum <"$src")"
    S_m=i
    [ "$S_l" -le "$IB" ] || S_m=d
  elif [ "$src" = "$f" ]; then S_l=-1 S_m=d
  else S_l=$(wc -c <"$src"); S_l=$((S_l)) S_m=d; fi
}

# put NAME LENGTH prints an inline stream: S_v when it holds every byte.
put() { if [ "${#S_v}" = "$2" ]; then printf '%s' "$S_v"; else cat -- "$F/$1"; fi; }

# rep OOFF EOFF [NEW] reports the process's state and the streams from the
# given offsets (NEW=1: this call started the process): inline content, then on both stdout and stderr the record line,
# so that a lost final write or a cut stream loses no record.
rep() {
  local st=running rc=- to=0 t0=- t1=- w=0 e='' pg sp x=0 xs LC_ALL=C
  if [ -e "$P.rc" ]; then read -r rc to t0 t1 w e <"$P.rc"; [ "$e" = end ] && st='done'; fi
  if [ -e "$P.nodir" ]; then st=nodir
  elif [ "$st" != "done" ]; then
    if [ -e "$P.pid" ]; then
      read -r pg sp <"$P.pid"
      if ! kill -0 "$sp" 2>/dev/null; then
        # The supervisor is gone: its record may have just been written.
        nap 0.05
        [ -e "$P.rc" ] && read -r rc to t0 t1 w e <"$P.rc"
        if [ "$e" = end ]; then st='done'; else st=lost; fi
      fi
    else
      # No process, or only the tombstone Release leaves: gone.
      st=unknown
      xs=("$P".x*)
      [ -e "${xs[0]}" ] && st=gone
    fi
  fi
  case $st in
    done | lost | nodir)
      x=1
      # The first report of the end starts the keep time. The call that
      # started the process (NEW=1) knows it is the first: no listing.
      if [ "$3" = 1 ]; then mark
      else
        xs=("$P".x*)
        [ -e "${xs[0]}" ] || mark
      fi ;;
  esac
  [ "$st" = "done" ] || x=0
  seg "$P.out" "$1" $x o; local om=$S_m ol=$S_l ok=$S_k on=$S_n ov=$S_v
  seg "$P.err" "$2" $x e; local em=$S_m el=$S_l ek=$S_k en=$S_n ev=$S_v
  S_v=$ov; [ "$om" = i ] && put "$on" "$ol"
  S_v=$ev; [ "$em" = i ] && put "$en" "$el" >&2
  local r="$M st=$st rc=$rc to=$to wd=$w t0=$t0 t1=$t1 om=$om ol=$ol ok=$ok on=$on em=$em el=$el ek=$ek en=$en"
  printf '\n%s\n' "$r"
  printf '\n%s\n' "$r" >&2
}

# newer OOFF EOFF: has a watched stream grown past its offset?
newer() {
  local s
  if [ "$1" -ge 0 ] && [ -s "$P.out" ]; then s=$(wc -c <"$P.out"); [ $((s)) -gt "$1" ] && return 0; fi
  if [ "$2" -ge 0 ] && [ -s "$P.err" ]; then s=$(wc -c <"$P.err"); [ $((s)) -gt "$2" ] && return 0; fi
  return 1
}

# settle gives a burst of output up to half a second to end, or the
# process to finish, so that one report carries it.
settle() {
  local i=0
  while [ ! -e "$P.rc" ] && [ $i -lt 10 ]; do nap 0.05; i=$((i + 1)); done
}

# waitfor CENTISECONDS OOFF EOFF waits for the end or for new output on a
# watched stream, polling fast at first (10 ms) and every 200 ms later.
waitfor() {
  local lim=$1 d=1 s sp
  while [ ! -e "$P.rc" ] && [ "$lim" -gt 0 ]; do
    if newer "$2" "$3"; then settle; return; fi
    [ -e "$P.pid" ] || return
    read -r s sp <"$P.pid"
    kill -0 "$sp" 2>/dev/null || return
    case $d in 1) nap 0.01; d=2 ;; 2) nap 0.02; d=5 ;; 5) nap 0.05; d=10 ;; 10) nap 0.1; d=20 ;; *) nap 0.2 ;; esac
    lim=$((lim - d))
  done
}

# run_start WAIT prepares the command (its uploaded definition, its stdin,
# its directory) and starts its supervisor, whose pipe is fd 3; RS says
# "nodir" when the directory cannot be entered (nothing started). The
# request calls it before the functions that wait and report (main_run and
# what it uses) are even sent, so that the command starts while bash reads
# them, and the supervisor forks from a smaller shell.
run_start() {
  local s
  RS=
  # shellcheck source=/dev/null
  [ "$DF" = 1 ] && . "$P.def"
  [ "$SI" = 1 ] && printf '%s' "$IN" >"$P.in"
  # A directory that cannot be entered fails here, before anything starts.
  if [ -n "$D" ]; then
    s=$D
    case $s in /*) ;; *) s=./$s ;; esac
    if [ ! -d "$s" ] || [ ! -x "$s" ]; then : >"$P.nodir"; RS=nodir; return; fi
  fi
  if [ "$1" = 0 ]; then s=1; else s=0; fi
  exec 3< <(exec </dev/null 2>/dev/null; sup $s)
}

# main_run WAIT OOFF EOFF, after run_start, removes expired files while the
# command runs, waits up to WAIT seconds for its end (or, when a stream is
# watched from offset 0, for its first output), then reports.
main_run() {
  local s i=0
  sweep
  [ "$RS" = nodir ] && { rep -1 -1 1; return; }
  if [ "$1" = 0 ]; then
    # Start: wait only until the command has started.
    read -r -t 10 -u 3 _
  elif [ "$2" = 0 ] || [ "$3" = 0 ]; then
    # Stream: a read of the supervisor's pipe ends at its "d" (status 0),
    # its death (EOF, status 1) or the time-out (status > 128).
    s=0.01
    while [ $i -lt "$(( ${1%.*} * 100 ))" ]; do
      read -r -t $s -u 3 _
      [ $? -gt 128 ] || break
      if newer "$2" "$3"; then read -r -t 0.5 -u 3 _; break; fi
      case $s in 0.01) s=0.02; i=$((i + 1)) ;; 0.02) s=0.05; i=$((i + 2)) ;; 0.05) s=0.1; i=$((i + 5)) ;; 0.1) s=0.2; i=$((i + 10)) ;; *) i=$((i + 20)) ;; esac
    done
  else
    read -r -t "$1" -u 3 _
  fi
  exec 3<&-
  rep "$2" "$3" 1
}

# main_poll OOFF EOFF CENTISECONDS waits for news (see waitfor), then reports.
main_poll() {
  sweep
  waitfor "$3" "$1" "$2"
  rep "$1" "$2"
}

# main_kill OOFF EOFF kills the process and everything it started, waits up
# to 3 s for the supervisor's record, then reports.
main_kill() {
  local pg sp n=0 z
  sweep
  if [ -e "$P.pid" ] && [ ! -e "$P.rc" ]; then
    : >"$P.kill"
    read -r pg sp <"$P.pid"
    killtree STOP "$pg"
    killtree KILL "$pg"
    killtree KILL "$pg"
    while [ ! -e "$P.rc" ] && [ $n -lt 300 ]; do nap 0.01; n=$((n + 1)); done
    n=0
    while kill -0 "$sp" 2>/dev/null && [ $n -lt 100 ]; do
      z=
      [ -r "/proc/$sp/stat" ] && read -r _ _ z _ <"/proc/$sp/stat" 2>/dev/null
      [ "$z" = Z ] && break
      nap 0.01
      n=$((n + 1))
    done
  fi
  rep "$1" "$2"
}

# main_release removes the process's files now, or once it has ended.
main_release() {
  local pg sp
  sweep
  if [ -e "$P.pid" ] && [ ! -e "$P.rc" ] && [ ! -e "$P.nodir" ]; then
    read -r pg sp <"$P.pid"
    if kill -0 "$sp" 2>/dev/null; then
      : >"$P.rel"
      # The supervisor may have finished in between.
      [ -e "$P.rc" ] || { printf '\n%s st=running\n' "$M"; return; }
    fi
  fi
  rm -f -- "$P".*
  # A tombstone, removed like the files after KEEP: reports say "gone".
  mark
  printf '\n%s st=released\n' "$M"
}
