# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154
# The bash the shell package sends. Go fills in the variables every request
# sets first (see script in protocol.go):
#   F  the file root (/mnt/data, or $SHELLPOOL_FILES_ROOT)
#   P  the shell's file stem, "$F/shellpool-sh-<ID>"
#   C  the command's ID (hex), or "" outside Exec
#   W  the caller's reply FIFO, "$P.w<hex>"
#   M  the record tag, with a per-request nonce; N the nonce alone
#   IL the most bytes of one stream a report prints inline
#
# Files of a shell (all under $F, so the files API can fetch them by name):
#   $P.fifo  the shell's input: one line per command, any writer
#   $P.init  the shell's rcfile (the INIT part below)
#   $P.pid   "SHELL-PID SUPERVISOR-PID"; the shell leads its process group
#   $P.exit  the shell's exit status, written by the supervisor
#   $P.w*    reply FIFOs: "<C>" when command C ends, "exit" when the shell does
#   $P.C.sh  the command's script; .in its stdin; .out/.err its output;
#            .rc its exit status (the command ended); .to/.kill markers of a
#            timeout or a cancel, .stopped once that stop is complete; .wd
#            the timeout watchdog's PID

# nap SECONDS sleeps without a process: a read that times out on a pipe
# this bash holds both ends of (opened on first use).
nap() {
  if [ -z "${NAPFD-}" ]; then exec {NAPFD}<> <(:) || NAPFD=x; fi
  if [ "$NAPFD" = x ]; then sleep "$1"; else read -r -t "$1" -u "$NAPFD" _; fi
}

# seg FILE OFFSET DONE TAG describes the bytes of FILE from OFFSET (-2: all
# of it, once DONE is 1) in S_m (n nothing, i inline, d download), S_l
# (length; -1 to the end), S_k (POSIX cksum), S_n (bare name to download)
# and S_v (the content, for inline). A growing file is copied first, so that
# length, checksum and content describe the same bytes.
seg() {
  local f=$1 off=$2 src c=
  S_m=n S_l=0 S_k=0 S_n=- S_v=
  if [ "$off" = -2 ]; then [ "$3" = 1 ] || return 0; off=0; fi
  { [ "$off" -ge 0 ] && [ -s "$f" ]; } || return 0
  src=$f
  if [ "$off" -gt 0 ] || [ "$3" != 1 ]; then
    c="$f.$4$N"
    tail -c "+$((off + 1))" -- "$f" >| "$c" 2>/dev/null || { rm -f -- "$c"; return 0; }
    [ -s "$c" ] || { rm -f -- "$c"; return 0; }
    src=$c
  fi
  S_n=${src##*/}
  IFS= read -r -d '' -N $((IL + 1)) S_v < "$src"
  if [ "${#S_v}" -le "$IL" ]; then
    # shellcheck disable=SC2046
    set -- $(cksum < "$src"); S_k=$1 S_l=$2 S_m=i
    [ "$S_l" -le "$IL" ] || S_m=d
  elif [ -z "$c" ]; then S_l=-1 S_m=d
  else S_l=$(wc -c < "$src"); S_l=$((S_l)) S_m=d
  fi
}

# put LENGTH prints inline content: from S_v when it holds every byte (no
# NUL was dropped), else from the file.
put() { if [ "${#S_v}" = "$1" ]; then printf '%s' "$S_v"; else cat -- "$F/$S_n"; fi; }

# readrec VAR FILE reads the first line of a record file into VAR. Records
# are written with one printf, but a reader can open the file between its
# creation and the write: an empty read is retried for up to 1 s.
readrec() {
  local n=0 v=
  while :; do
    { IFS= read -r v < "$2"; } 2>/dev/null
    if [ -n "$v" ] || [ $n -ge 100 ]; then break; fi
    nap 0.01; n=$((n + 1))
  done
  printf -v "$1" '%s' "$v"
}

# state sets st (done, running, exited, lost, noshell), rc, to, x (the
# shell's exit status) and sd (1 once the command started).
state() {
  st=running rc=- to=0 x=- sd=0
  [ -e "$P.$C.out" ] && sd=1
  if [ -e "$P.$C.rc" ] && { [ ! -e "$P.$C.to" ] || [ -e "$P.$C.stopped" ]; }; then
    readrec rc "$P.$C.rc"; st='done'
    [ -e "$P.$C.to" ] && to=1
  elif [ -e "$P.$C.rc" ]; then :  # the timeout is still stopping what C started
  elif [ -e "$P.exit" ]; then readrec x "$P.exit"; st=exited
  elif ! { read -r sp sv < "$P.pid"; } 2>/dev/null; then st=noshell
  elif ! kill -0 "$sp" 2>/dev/null; then
    nap 0.05
    if [ -e "$P.exit" ]; then readrec x "$P.exit"; st=exited; else st=lost; fi
  fi
}

# rep OOFF EOFF prints the report: inline content of each stream, then the
# record line on both streams (a final write may be lost on one).
rep() {
  local st rc to x sd sp sv d=0 om ol ok on ov em el ek en ev r
  state
  [ "$st" = running ] || d=1
  LC_ALL=C
  seg "$P.$C.out" "$1" $d o; om=$S_m ol=$S_l ok=$S_k on=$S_n ov=$S_v
  seg "$P.$C.err" "$2" $d e; em=$S_m el=$S_l ek=$S_k en=$S_n ev=$S_v
  if [ "$om" = i ]; then S_v=$ov S_n=$on; put "$ol"; fi
  if [ "$em" = i ]; then S_v=$ev S_n=$en; put "$el" >&2; fi
  r="$M st=$st rc=$rc to=$to x=$x sd=$sd om=$om ol=$ol ok=$ok on=$on em=$em el=$el ek=$ek en=$en"
  printf '\n%s\n' "$r"
  printf '\n%s\n' "$r" >&2
}

# waitdone SECONDS waits for command C to end (or the shell to) on the reply
# FIFO, fd 3; it returns 1 when the time is up.
waitdone() {
  local m t=$(($1 * 50))
  if [ ! -e "$P.$C.rc" ]; then
    while read -r -t "$1" -u 3 m; do
      [ "$m" = "$C" ] || [ "$m" = exit ] && break
    done
  fi
  # A command the timeout stopped is done once everything it started is.
  while [ -e "$P.$C.rc" ] && [ -e "$P.$C.to" ] && [ ! -e "$P.$C.stopped" ] && [ $t -gt 0 ]; do nap 0.02; t=$((t - 1)); done
}

# waitout SECONDS OOFF EOFF waits, polling with growing pauses, until C ends
# or a stream grows past its offset (streaming callers).
waitout() {
  local t=$1 d=1 s m
  while [ "$t" -gt 0 ]; do
    if [ -e "$P.$C.rc" ] && { [ ! -e "$P.$C.to" ] || [ -e "$P.$C.stopped" ]; }; then return 0; fi
    if [ -s "$P.$C.out" ]; then s=$(wc -c < "$P.$C.out"); [ $((s)) -gt "$2" ] && break; fi
    if [ -s "$P.$C.err" ]; then s=$(wc -c < "$P.$C.err"); [ $((s)) -gt "$3" ] && break; fi
    if read -r -t "0.0$d" -u 3 m; then
      [ "$m" = "$C" ] || [ "$m" = exit ] && return 0
    fi
    t=$((t - d)); [ $d -lt 9 ] && d=$((d + 2))
  done
  # Let a burst of output settle into one read.
  [ -e "$P.$C.rc" ] || nap 0.02
}

# waitrc TICKS waits up to TICKS hundredths of a second for C's record.
waitrc() {
  local n=$1
  while [ ! -e "$P.$C.rc" ] && [ ! -e "$P.exit" ] && [ "$n" -gt 0 ]; do nap 0.01; n=$((n - 1)); done
  [ -e "$P.$C.rc" ]
}

# killmarked NAME=VALUE kills, with SIGKILL, every process whose initial
# environment holds NAME=VALUE (Linux /proc; elsewhere nothing).
killmarked() {
  local f files pids=()
  mapfile -t files < <(grep -s -l -a -F -z -x -e "$1" /proc/[0-9]*/environ 2>/dev/null)
  for f in "${files[@]}"; do
    f=${f#/proc/}; pids+=("${f%%/*}")
  done
  [ ${#pids[@]} -eq 0 ] || kill -KILL "${pids[@]}" 2>/dev/null
}

# stop MARK stops command C as Ctrl-C at a terminal would: SIGINT to the
# shell's process group (the shell abandons the command line, its foreground
# processes die; background jobs ignore SIGINT). Then, once the line is
# abandoned or after 2 s, every process the command started (marked
# SHELLPOOL_SHELL_CMD=C), background jobs included, is killed; after 1 s
# more, a command still running is the shell itself ignoring SIGINT, and the
# shell is killed. MARK (to or kill) records why. A command that has not
# started is skipped by the shell.
stop() {
  [ -e "$P.$C.rc" ] && return 0
  [ -e "$P.pid" ] || return 0 # the shell was closed
  : >| "$P.$C.$1"
  stop1
  : >| "$P.$C.stopped"
}
stop1() {
  local sp sv
  [ -e "$P.$C.out" ] || return 0
  { read -r sp sv < "$P.pid"; } 2>/dev/null || return 0
  [ -e "$P.$C.rc" ] || kill -INT -- "-$sp" 2>/dev/null
  waitrc 200
  killmarked "SHELLPOOL_SHELL_CMD=$C"
  waitrc 100 && return 0
  [ -e "$P.exit" ] || kill -KILL "$sp" 2>/dev/null
  waitrc 100
}

# killshell ends the timeout watchdogs, the shell, its supervisor and
# everything the shell started (marked SHELLPOOL_SHELL=<ID>).
killshell() {
  local sp sv f w
  for f in "$P".*.wd; do
    if [ -e "$f" ]; then read -r w < "$f"; kill "$w" 2>/dev/null; fi
  done
  if { read -r sp sv < "$P.pid"; } 2>/dev/null; then
    kill -KILL "$sv" 2>/dev/null
    kill -KILL -- "-$sp" 2>/dev/null
  fi
  killmarked "SHELLPOOL_SHELL=$ID"
}

# start launches the shell: a supervisor (in this execution's process
# group) starts an interactive bash in a process group of its own, reading
# commands from $P.fifo (opened read-write, so it never sees end of file),
# and records its exit status. SIGHUP is ignored, so the end of the
# execution or a terminal cannot end it.
start() {
  mkfifo -- "$P.fifo" || return 1
  printf '__shellpool_P=%q\n%s' "$P" "$INIT" >| "$P.init" || return 1
  ( exec </dev/null >/dev/null 2>&1 3>&- 4>&-
    trap '' HUP
    set -m
    SHELLPOOL_SHELL=$ID "$BASH" --rcfile "$P.init" --noediting -i 0<> "$P.fifo" &
    s=$!
    printf '%s %s\n' "$s" "$BASHPID" >| "$P.pid"
    wait "$s"
    printf '%s\n' "$?" >| "$P.exit"
    for w in "$P".w*; do
      if [ -p "$w" ]; then exec 4<> "$w"; echo exit >&4; exec 4>&-; fi
    done
  ) &
}

# ---- INIT: the shell's rcfile (everything below is run by the shell) ----
PS1='' PS2='' PS3='' PS0=''
unset HISTFILE MAIL MAILCHECK MAILPATH
set +o history +H
__shellpool_s=0 __shellpool_c='' __shellpool_w='' __shellpool_src=''
# __shellpool_pre C W prepares command C; the line that follows sources
# $__shellpool_src at the top level (so declare, local-free assignments and
# aliases land in the shell itself) and reads $__shellpool_in. It returns
# the previous command's status, so the command sees it in $?.
__shellpool_pre() {
  __shellpool_c=$1 __shellpool_w=$2
  __shellpool_src="$__shellpool_P.$1.sh" __shellpool_in=/dev/null
  if [ -e "$__shellpool_P.$1.to" ] || [ -e "$__shellpool_P.$1.kill" ]; then __shellpool_src=/dev/null; fi
  if [ -e "$__shellpool_P.$1.in" ]; then __shellpool_in="$__shellpool_P.$1.in"; fi
  export SHELLPOOL_SHELL_CMD="$1"
  return "$__shellpool_s"
}
# __shellpool_end STATUS records the end of the current command and tells
# its caller. PROMPT_COMMAND calls it too, for a command line that SIGINT
# abandoned.
__shellpool_end() {
  __shellpool_s=$1
  if [ -z "$__shellpool_c" ]; then return "$1"; fi
  local p="$__shellpool_P.$__shellpool_c" w fd
  printf '%s\n' "$1" >| "$p.rc"
  # The timeout's watchdog is no longer needed, unless it is stopping C.
  if [ -e "$p.wd" ] && [ ! -e "$p.to" ]; then read -r w < "$p.wd"; kill "$w" 2>/dev/null; fi
  if [ -p "$__shellpool_w" ]; then
    exec {fd}<> "$__shellpool_w"; printf '%s\n' "$__shellpool_c" >&"$fd"; exec {fd}>&-
  fi
  __shellpool_c=''
  return "$1"
}
PROMPT_COMMAND='__shellpool_end "$?"'
# __shellpool_hello W answers Open: the shell is reading commands.
__shellpool_hello() { local fd; exec {fd}<> "$1"; echo ready >&"$fd"; exec {fd}>&-; }
