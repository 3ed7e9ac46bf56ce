package sessionstest

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/azname"
)

// TestClientKeepsAConnectionPerConcurrentCaller: after a round of 128
// concurrent requests, a second round reuses the connections instead of
// opening new TLS ones (the transport used to keep 16).
func TestClientKeepsAConnectionPerConcurrentCaller(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	tok := s.Token(azname.SessionsAudience, s.PrincipalID())
	const callers = 128
	round := func() (fresh int64) {
		var n atomic.Int64
		var start, wg sync.WaitGroup
		start.Add(1)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
					if !i.Reused {
						n.Add(1)
					}
				}}
				req, err := http.NewRequest(http.MethodGet, s.PoolEndpoint()+"/metadata?api-version="+apiVersion, nil)
				if err != nil {
					return
				}
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
				req.Header.Set("Authorization", "Bearer "+tok)
				start.Wait()
				resp, err := s.Client().Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		start.Done()
		wg.Wait()
		return n.Load()
	}
	first := round()
	require.Positive(t, first)
	assert.Zero(t, round(), "the second round opened new connections (the first opened %d)", first)
}
