package sessions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// recordingCredential hands out the tokens of another credential and
// remembers every one, so a test can look for them, and counts fetches.
type recordingCredential struct {
	next    azcore.TokenCredential
	mu      sync.Mutex
	tokens  []string
	fetches atomic.Int32
}

func (c *recordingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.fetches.Add(1)
	tok, err := c.next.GetToken(ctx, o)
	if err == nil {
		c.mu.Lock()
		c.tokens = append(c.tokens, tok.Token)
		c.mu.Unlock()
	}
	return tok, err
}

func (c *recordingCredential) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.tokens...)
}

// logCollector receives every azcore log event while a test runs.
type logCollector struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCollector) add(ev log.Event, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, string(ev)+": "+msg)
	l.mu.Unlock()
}

func (l *logCollector) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// leakChecker collects everything a user could print or store and reports
// any that holds a secret.
type leakChecker struct {
	t       *testing.T
	secrets func() []string
}

// text checks one string.
func (c leakChecker) text(what, s string) {
	c.t.Helper()
	for _, secret := range c.secrets() {
		if secret == "" {
			continue
		}
		if strings.Contains(s, secret) || strings.Contains(s, url.QueryEscape(secret)) {
			c.t.Errorf("%s holds a secret (%.4s…):\n%s", what, secret, s)
		}
	}
}

// value checks v in every form a user may log or serialise it.
func (c leakChecker) value(what string, v any) {
	c.t.Helper()
	if v == nil {
		return
	}
	c.text(what+" %v", fmt.Sprintf("%v", v))
	c.text(what+" %+v", fmt.Sprintf("%+v", v))
	c.text(what+" %#v", fmt.Sprintf("%#v", v))
	c.text(what+" %s", fmt.Sprintf("%s", v))
	if err, ok := v.(error); ok {
		c.text(what+" Error()", err.Error())
		return
	}
	if b, err := json.Marshal(v); err == nil {
		c.text(what+" JSON", string(b))
	}
}

// TestSecretsNeverLeak runs every operation of the client against the
// emulator, once without faults and once with each fault kind the emulator
// offers (an error status whose body echoes the identifier, 503 with
// Retry-After, a slow answer that outlives the caller's deadline, a dropped
// connection, a connection dropped after the request ran), with azcore
// logging every event. Neither the bearer token nor the session identifier
// may appear in any log line, error, or %v, %+v, %#v, %s or JSON form of a
// returned value.
func TestSecretsNeverLeak(t *testing.T) {
	logs := &logCollector{}
	log.SetEvents() // all events
	log.SetListener(logs.add)
	t.Cleanup(func() { log.SetListener(nil) })

	faults := []struct {
		name  string
		fault func(sessionID string) *sessionstest.Fault
		// ctxTimeout bounds each call, for the Delay fault.
		ctxTimeout time.Duration
	}{
		{name: "none"},
		{name: "status with the identifier in the body", fault: func(id string) *sessionstest.Fault {
			return &sessionstest.Fault{Status: http.StatusBadRequest, Body: `{"error":{"code":"Bad","message":"session ` + id + ` refused"}}`}
		}},
		{name: "503 with Retry-After", fault: func(string) *sessionstest.Fault {
			return &sessionstest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Millisecond}
		}},
		{name: "delay past the deadline", ctxTimeout: 100 * time.Millisecond, fault: func(string) *sessionstest.Fault {
			return &sessionstest.Fault{Delay: 400 * time.Millisecond}
		}},
		{name: "drop", fault: func(string) *sessionstest.Fault { return &sessionstest.Fault{Drop: true} }},
		{name: "drop after run", fault: func(string) *sessionstest.Fault { return &sessionstest.Fault{DropAfterRun: true} }},
	}
	// The cases run at the same time; each checks every log line so far
	// (its own among them) for its own secrets.
	for _, fc := range faults {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := sessionstest.Start(&sessionstest.Options{TB: t})
			require.NoError(t, err)
			t.Cleanup(srv.Close)
			cred := &recordingCredential{next: srv.Credential()}
			opts := srv.ClientOptions()
			opts.Retry = policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}
			// Logging.IncludeBody stays off: bodies are logged verbatim and
			// carry identifiers (the package doc says so).
			client, err := sessions.NewClient(srv.PoolEndpoint(), cred, &sessions.ClientOptions{ClientOptions: opts})
			require.NoError(t, err)

			id := sessions.NewSessionID()
			check := leakChecker{t: t, secrets: func() []string { return append(cred.seen(), id) }}
			dir := t.TempDir()
			execID := "missing-execution"
			var failures int
			// run runs one operation. An operation on the pool (poolLevel)
			// sends no identifier, so a service error cannot echo one.
			run := func(name string, op func(ctx context.Context) (any, error), poolLevel ...bool) {
				if fc.fault != nil {
					echo := id
					if len(poolLevel) > 0 {
						echo = "none"
					}
					srv.InjectFault(*fc.fault(echo))
				}
				ctx := t.Context()
				if fc.ctxTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, fc.ctxTimeout)
					defer cancel()
				}
				v, err := op(ctx)
				if fc.fault == nil {
					assert.NoError(t, err, name)
				}
				if err != nil {
					failures++
				}
				check.value(name+" result", v)
				check.value(name+" error", err)
			}
			s := client.NewSessionClient(id)
			run("UploadFile", func(ctx context.Context) (any, error) {
				return client.UploadFile(ctx, id, "a.txt", strings.NewReader("data"), nil)
			})
			run("UploadFile from a pipe", func(ctx context.Context) (any, error) {
				pr, pw := io.Pipe()
				go func() { _, _ = io.WriteString(pw, "piped"); _ = pw.Close() }()
				defer pr.Close()
				return client.UploadFile(ctx, id, "b.txt", pr, nil)
			})
			run("Execute", func(ctx context.Context) (any, error) {
				r, err := client.Execute(ctx, id, sessions.ShellCommand("echo hi"), nil)
				if err == nil {
					execID = r.ID
				}
				return r, err
			})
			run("BeginExecute", func(ctx context.Context) (any, error) {
				p, err := client.BeginExecute(ctx, id, sessions.ShellCommand("echo hi"), nil)
				if err != nil {
					return p, err
				}
				return p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond})
			})
			run("GetExecution", func(ctx context.Context) (any, error) {
				return client.GetExecution(ctx, id, execID, nil)
			})
			run("GetFile", func(ctx context.Context) (any, error) { return client.GetFile(ctx, id, "a.txt", nil) })
			run("DownloadFile", func(ctx context.Context) (any, error) {
				r, err := client.DownloadFile(ctx, id, "a.txt", nil)
				if err == nil {
					_, _ = io.Copy(io.Discard, r.Body)
					_ = r.Body.Close()
				}
				return r, err
			})
			run("DownloadFileTo", func(ctx context.Context) (any, error) {
				return client.DownloadFileTo(ctx, id, "a.txt", io.Discard, nil)
			})
			run("DownloadFileToPath", func(ctx context.Context) (any, error) {
				return client.DownloadFileToPath(ctx, id, "a.txt", filepath.Join(dir, "a.txt"), nil)
			})
			run("NewListFilesPager", func(ctx context.Context) (any, error) {
				return client.NewListFilesPager(id, nil).NextPage(ctx)
			})
			run("NewListSessionsPager", func(ctx context.Context) (any, error) {
				return client.NewListSessionsPager(nil).NextPage(ctx)
			}, true)
			run("GetSession", func(ctx context.Context) (any, error) { return client.GetSession(ctx, id, nil) })
			run("GetMetadata", func(ctx context.Context) (any, error) { return client.GetMetadata(ctx, nil) }, true)
			run("DeleteFile", func(ctx context.Context) (any, error) { return client.DeleteFile(ctx, id, "a.txt", nil) })
			run("DeleteSession", func(ctx context.Context) (any, error) { return client.DeleteSession(ctx, id, nil) })
			run("SessionClient.Close", func(ctx context.Context) (any, error) { return s, s.Close(ctx) })
			if fc.fault != nil {
				assert.NotZero(t, failures, "the fault must make some operation fail, or this case tests nothing")
			}

			lines := logs.all()
			require.NotEmpty(t, lines, "azcore logged nothing: the listener is not wired")
			sawRedactedQuery := false
			for _, line := range lines {
				check.text("log line", line)
				sawRedactedQuery = sawRedactedQuery || strings.Contains(line, "identifier=REDACTED")
			}
			assert.True(t, sawRedactedQuery, "the log shows requests with their identifier redacted")
		})
	}
}
