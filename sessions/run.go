package sessions

import (
	"context"
	"io"
	"time"
)

// RunOptions contains the optional parameters of Client.Run.
type RunOptions struct {
	// Stdout, when set, receives the command's standard output as it is
	// fetched (while the command runs, for commands that run longer than
	// one request), instead of RunResponse.Stdout. Use it for large output:
	// it is streamed from the session's files, never held in memory.
	Stdout io.Writer
	// Stderr is Stdout for standard error.
	Stderr io.Writer
}

// RunResponse is the true result of a command run by Client.Run or waited
// for with Process.Wait. Output is never cut.
type RunResponse struct {
	// ExitCode is the command's exit status: 0 to 255; 128+N when a signal
	// N killed it (137 after Process.Kill); 124 when cmd.Timeout expired.
	ExitCode int
	// Stdout is the command's standard output, byte for byte (empty when
	// it went to RunOptions.Stdout or a reader).
	Stdout []byte
	// Stderr is the command's standard error, byte for byte (empty when it
	// went to RunOptions.Stderr or a reader).
	Stderr []byte
	// TimedOut is true when cmd.Timeout expired and the command was
	// killed; Stdout and Stderr hold what it wrote until then.
	TimedOut bool
	// Duration is how long the command ran, measured in the session (or by
	// the client when the session's bash cannot tell).
	Duration time.Duration
	// ProcessID is the ID of the process that ran the command (see
	// Process.ID): the name of its files, useful in logs.
	ProcessID string
	// Recovered is true when the service lost or cut part of a report (a
	// lost final write, the 4,096-byte cap) and the layer recovered the
	// bytes from the session's files. The result is exact either way.
	Recovered bool
}

// Run runs cmd in the session sessionID and returns its true result: the
// exit code, and stdout and stderr exactly as written, of any size (in
// memory, or streamed to options.Stdout/Stderr), with cmd.Env applied, in
// cmd.Dir, with cmd.Stdin. Execute, by contrast, returns the service's
// answer as is: cut at 4,096 bytes, sometimes missing the last write,
// limited to scripts under 128 KiB, without env, working directory or
// cancellation.
//
// Run wraps cmd in a small bash script that runs it under a supervisor with
// its output in files named ProcessFilePrefix+ID+".*" in /mnt/data, waits
// for it up to 40 s in the same request and reports what fits inline with
// sizes and checksums, so that anything the service cut or lost is detected
// and fetched from the files (DownloadFile). A command that fits inline
// costs one request; the clean-up of its files rides on a later Run, Start
// or read in the session (one rm for every eight such results, see
// ProcessFilePrefix). Large output costs one download per stream, and its
// files are removed by the session's next Run, Start or read; a longer
// command is polled (each poll waits up to 20 s in the session). A script over 32 KiB and stdin over 16 KiB are uploaded
// first, so neither has a size limit.
//
// cmd.Timeout kills the command (its process group) after that long; the
// result then has TimedOut, ExitCode 124 and the output written until then.
// Cancelling ctx kills the command in the session (best effort, within
// 5 s) and Run returns ctx.Err(). A non-zero exit code is a result, not an
// error.
//
// Errors: an *ArgumentError for invalid input, before anything is sent
// (cmd.OutputLimit must be zero; names in cmd.Env must be valid; no NUL
// bytes in Shell, Args, Env or Dir); ErrDirNotFound when cmd.Dir cannot be
// entered (the command did not run); ErrOutputLost when the service lost a
// report and the files could not make up for it; and the errors of
// Execute, DownloadFile and UploadFile. Run is as non-idempotent as the
// command: the request that starts it is only retried where Execute
// retries (failures after which it cannot have run); its polls, downloads
// and clean-ups are idempotent and retried. Errors never contain the
// session identifier.
func (c *Client) Run(ctx context.Context, sessionID string, cmd Command, options *RunOptions) (resp RunResponse, err error) {
	if options == nil {
		options = &RunOptions{}
	}
	ctx, endSpan := c.startSpan(ctx, "Client.Run")
	defer func() { endSpan(err) }()
	start := time.Now()
	wait := runWaitMax
	if cmd.Timeout > 0 && cmd.Timeout+2500*time.Millisecond < wait {
		// The timeout fires, TERM, then KILL two seconds later at most.
		wait = cmd.Timeout + 2500*time.Millisecond
	}
	p, rec, err := c.startProcess(ctx, sessionID, cmd, wait)
	if err != nil {
		return RunResponse{}, redactError(err, sessionID)
	}
	var first *record
	if rec.state == stateDone {
		first = &rec
	} else if options.Stdout != nil || options.Stderr != nil {
		// Streaming starts from offset 0, which the first report skipped.
		first = nil
	}
	resp, err = p.waitAndCollect(ctx, first, options.Stdout, options.Stderr, start)
	if err != nil {
		if ctx.Err() != nil {
			p.killBestEffort(ctx)
			p.c.layer().add(sessionID, p.id)
			return RunResponse{}, ctx.Err()
		}
		return RunResponse{}, redactError(err, sessionID)
	}
	return resp, nil
}

// Run runs cmd in the session and returns its exact result; see
// Client.Run.
func (s *SessionClient) Run(ctx context.Context, cmd Command, options *RunOptions) (RunResponse, error) {
	if err := s.check(); err != nil {
		return RunResponse{}, err
	}
	return s.c.Run(ctx, s.id, cmd, options)
}

// Start starts cmd in the background in the session; see Client.Start.
func (s *SessionClient) Start(ctx context.Context, cmd Command, options *StartOptions) (*Process, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.c.Start(ctx, s.id, cmd, options)
}

// AttachProcess returns the process processID of the session; see
// Client.AttachProcess.
func (s *SessionClient) AttachProcess(processID string) (*Process, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.c.AttachProcess(s.id, processID)
}
