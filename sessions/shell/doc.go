// Package shell keeps a bash shell alive in an Azure Container Apps shell
// session, and moves whole directory trees in and out of sessions.
//
// # Persistent shells
//
// Every execution of a shell pool starts from nothing: a cd, an export or a
// function defined in one command is gone in the next. A [Shell] is one
// bash that lives in the session between commands, as the shell of a
// terminal does, and as the bash tools AI agents are trained on expect:
//
//	sh, err := shell.Open(ctx, s, nil) // s is a *sessions.SessionClient
//	// handle err
//	defer sh.Close(ctx)
//	sh.Exec(ctx, "cd /tmp && export MODE=fast && f() { echo hi; }", nil)
//	res, err := sh.Exec(ctx, `pwd; echo "$MODE"; f`, nil)
//	// res.Stdout is "/tmp\nfast\nhi\n", res.ExitCode 0
//
// [Shell.Exec] returns the command's exact stdout, stderr and exit status,
// at any size: the service's silent 4,096-byte cut, its occasionally lost
// final write and its 128 KiB argument limit are all handled, and output
// can be streamed to writers as it is written. Working directory,
// variables, functions, aliases, set and shopt options and background jobs
// persist. [ExecOptions].Timeout and a cancelled context stop the command
// as Ctrl-C would, then kill whatever it started; the shell and its state
// stay. A command that ends the shell (exit, exec, a signal) returns an
// [*ExitedError]; [Shell.Restart] starts a fresh shell with the same ID.
//
// A shell's state lives in the session. [Shell.ID] names it, and [Attach]
// reaches it from another client, program or replica. Calls on one Shell
// run one at a time in the order they were made; shells in one session are
// independent. Exec("true") costs one request.
//
// How it works: [Open] starts an interactive bash in the background of the
// session (in a process group of its own, ignoring SIGHUP), reading
// commands from a named pipe in the session's file root, /mnt/data. Each
// Exec writes the script to a file there, queues a line that sources it
// with its output going to files, waits on a reply pipe for the end, and
// reports the output inline with its length and checksum (or names the
// file to download when it is larger, or did not arrive intact). A
// timeout sends SIGINT to the shell's process group: bash abandons the
// command line, even a loop of builtins, and reads the next one; the
// processes the command started carry SHELLPOOL_SHELL_CMD in their
// environment and are then killed through /proc (Linux). A command that
// ignores SIGINT in the shell itself is ended with the shell. The session
// needs bash 4.4 or later, mkfifo, tail, cksum, wc and, on Linux, grep.
//
// # Directory trees
//
// The live file API is flat: one file per request, bare names only.
// [UploadDir] and [DownloadDir] move a whole tree as one tar archive,
// written and read with archive/tar, streamed through the files API, and
// unpacked or packed by the session's tar in one execution, so the number
// of requests does not depend on the number of files. Modes, empty
// directories and symbolic links inside the tree survive:
//
//	_, err := shell.UploadDir(ctx, s, os.DirFS("./repo"), "repo", nil)
//	// ... build in the session ...
//	_, err = shell.DownloadDir(ctx, s, "repo/out", "./out", nil)
//
// Entries that could write outside the tree (absolute names, "..", links
// leading out) and device files, pipes and sockets are refused with an
// [*UnsafeEntryError] before anything is sent or written; a download is
// written through an os.Root, so it never writes outside its destination.
package shell
