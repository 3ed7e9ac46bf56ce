package sessions

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ErrSessionClosed is returned by the methods of a SessionClient whose Close
// has succeeded. Get a new one with Client.NewSessionClient, passing
// NewSessionID() for a new session or a known identifier.
var ErrSessionClosed = errors.New("sessions: session client is closed; get another with Client.NewSessionClient(sessions.NewSessionID()) for a new session, or with the identifier of an existing one")

// CloseTimeout bounds the delete that SessionClient.Close sends, whatever the
// state of the context passed to Close. 30 seconds covers azcore's default
// retries of a slow or throttled delete; a session that cannot be deleted
// within it is released by the pool at the end of its cooldown.
const CloseTimeout = 30 * time.Second

// unreachableCloseTimeout bounds Close's single try when the client's last
// request could not reach the pool.
const unreachableCloseTimeout = 5 * time.Second

// SessionClient is a handle on one session of the pool: each of its methods
// is the Client method of the same name with the session identifier filled
// in, and Close deletes the session when you are done, so that it stops
// counting against the pool's maxConcurrentSessions:
//
//	s := client.NewSessionClient(sessions.NewSessionID()) // sends nothing
//	defer s.Close(ctx)
//
// Deferring Close with the call's own ctx is safe even when that ctx has
// expired by then (a command that hit the caller's deadline): Close's delete
// ignores the cancellation of ctx and is bounded by CloseTimeout instead.
//
// A SessionClient is safe for concurrent use. Creating one sends nothing: the
// service allocates the session on its first request. Its String method
// redacts the identifier, so a SessionClient can be logged.
type SessionClient struct {
	c  *Client
	id string

	closed  atomic.Bool
	closeMu sync.Mutex // serialises Close
}

// NewSessionClient returns a handle on the session with identifier id
// (NewSessionID makes a fresh one); it sends nothing. The
// identifier is checked by the handle's first call, which fails with an
// *ArgumentError if it is invalid (see ValidateSessionID).
func (c *Client) NewSessionClient(id string) *SessionClient { return &SessionClient{c: c, id: id} }

// ID returns the session identifier. Treat it as a secret: whoever knows it
// can use the session.
func (s *SessionClient) ID() string { return s.id }

// String returns a loggable description with the identifier redacted.
func (s *SessionClient) String() string {
	state := ""
	if s.closed.Load() {
		state = ", closed"
	}
	return "sessions.SessionClient(" + RedactSessionID(s.id) + state + ")"
}

// GoString is String, so that %#v does not print the identifier either.
func (s *SessionClient) GoString() string { return s.String() }

func (s *SessionClient) check() error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	return nil
}

// Execute runs cmd in the session; see Client.Execute.
func (s *SessionClient) Execute(ctx context.Context, cmd Command, options *ExecuteOptions) (ExecuteResponse, error) {
	if err := s.check(); err != nil {
		return ExecuteResponse{}, err
	}
	return s.c.Execute(ctx, s.id, cmd, options)
}

// BeginExecute starts cmd in the session and returns a poller for its
// result; see Client.BeginExecute.
func (s *SessionClient) BeginExecute(ctx context.Context, cmd Command, options *BeginExecuteOptions) (*runtime.Poller[ExecuteResponse], error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.c.BeginExecute(ctx, s.id, cmd, options)
}

// GetExecution reads the execution executionID of the session; see
// Client.GetExecution.
func (s *SessionClient) GetExecution(ctx context.Context, executionID string, options *GetExecutionOptions) (GetExecutionResponse, error) {
	if err := s.check(); err != nil {
		return GetExecutionResponse{}, err
	}
	return s.c.GetExecution(ctx, s.id, executionID, options)
}

// UploadFile uploads body to the session as name; see Client.UploadFile.
func (s *SessionClient) UploadFile(ctx context.Context, name string, body io.Reader, options *UploadFileOptions) (UploadFileResponse, error) {
	if err := s.check(); err != nil {
		return UploadFileResponse{}, err
	}
	return s.c.UploadFile(ctx, s.id, name, body, options)
}

// DownloadFile opens a file of the session for reading; see
// Client.DownloadFile. Close the response's Body.
func (s *SessionClient) DownloadFile(ctx context.Context, name string, options *DownloadFileOptions) (DownloadFileResponse, error) {
	if err := s.check(); err != nil {
		return DownloadFileResponse{}, err
	}
	return s.c.DownloadFile(ctx, s.id, name, options)
}

// DownloadFileTo writes a file of the session to w; see
// Client.DownloadFileTo.
func (s *SessionClient) DownloadFileTo(ctx context.Context, name string, w io.Writer, options *DownloadFileToOptions) (DownloadFileToResponse, error) {
	if err := s.check(); err != nil {
		return DownloadFileToResponse{}, err
	}
	return s.c.DownloadFileTo(ctx, s.id, name, w, options)
}

// DownloadFileToPath writes a file of the session to localPath; see
// Client.DownloadFileToPath.
func (s *SessionClient) DownloadFileToPath(ctx context.Context, name, localPath string, options *DownloadFileToPathOptions) (DownloadFileToResponse, error) {
	if err := s.check(); err != nil {
		return DownloadFileToResponse{}, err
	}
	return s.c.DownloadFileToPath(ctx, s.id, name, localPath, options)
}

// GetFile returns a file's metadata; see Client.GetFile.
func (s *SessionClient) GetFile(ctx context.Context, name string, options *GetFileOptions) (GetFileResponse, error) {
	if err := s.check(); err != nil {
		return GetFileResponse{}, err
	}
	return s.c.GetFile(ctx, s.id, name, options)
}

// DeleteFile deletes a file of the session; see Client.DeleteFile.
func (s *SessionClient) DeleteFile(ctx context.Context, name string, options *DeleteFileOptions) (DeleteFileResponse, error) {
	if err := s.check(); err != nil {
		return DeleteFileResponse{}, err
	}
	return s.c.DeleteFile(ctx, s.id, name, options)
}

// NewListFilesPager lists the session's files; see Client.NewListFilesPager.
// On a closed handle, the first NextPage returns ErrSessionClosed.
func (s *SessionClient) NewListFilesPager(options *ListFilesOptions) *runtime.Pager[ListFilesResponse] {
	if s.closed.Load() {
		return runtime.NewPager(runtime.PagingHandler[ListFilesResponse]{
			More: func(ListFilesResponse) bool { return false },
			Fetcher: func(context.Context, *ListFilesResponse) (ListFilesResponse, error) {
				return ListFilesResponse{}, ErrSessionClosed
			},
		})
	}
	return s.c.NewListFilesPager(s.id, options)
}

// GetSession returns the session's state; see Client.GetSession.
func (s *SessionClient) GetSession(ctx context.Context, options *GetSessionOptions) (GetSessionResponse, error) {
	if err := s.check(); err != nil {
		return GetSessionResponse{}, err
	}
	return s.c.GetSession(ctx, s.id, options)
}

// Close deletes the session and everything in it, freeing its place in the
// pool. It is idempotent and safe to defer: once it has succeeded, later
// calls return nil and send nothing, and other methods return
// ErrSessionClosed. A session the service no longer knows (deleted
// elsewhere, expired, or never used) counts as closed. If the delete fails,
// the handle stays open and Close can be called again.
//
// The delete is sent with a context that keeps ctx's values (tracing,
// per-call policy options) but not its cancellation or deadline, bounded by
// CloseTimeout: a session must be deleted precisely when the caller's work
// was cut short, or it holds a pool slot until its cooldown ends. Close
// therefore returns within about CloseTimeout (plus the retry policy's
// last delay) even when ctx is already done. When the client's last request
// could not reach the pool (connection refused, DNS, TLS), Close tries once,
// for at most 5 seconds, and returns that failure: a deferred Close does not
// hold up the exit of a program that could not reach its pool. Failures that
// cannot succeed (an untrusted certificate, a host that does not exist) are
// never retried.
//
// If the service fails it returns an *azcore.ResponseError.
func (s *SessionClient) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Load() {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	timeout := CloseTimeout
	if s.c.health.unreachable.Load() {
		// The client's last request never reached the pool: one try,
		// briefly, instead of the retry policy's delays at every exit.
		timeout = unreachableCloseTimeout
		ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if _, err := s.c.DeleteSession(ctx, s.id, nil); err != nil && !errors.Is(err, ErrSessionNotFound) {
		return err
	}
	s.closed.Store(true)
	return nil
}
