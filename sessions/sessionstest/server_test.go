package sessionstest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/armemu"
	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/jwt"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	other := setup(t, nil)
	expired := jwt.Sign(s.key, jwt.Claims{Audience: azname.SessionsAudience, ObjectID: "x", ExpiresAt: time.Now().Add(-time.Minute)})
	cases := []struct {
		name   string
		header string
		want   string
	}{
		{"no header", "", "no Authorization header"},
		{"basic auth", "Basic dXNlcjpwYXNz", "not a bearer token"},
		{"not a JWT", "Bearer not-a-jwt", "not issued by this emulator"},
		{"another server's token", "Bearer " + other.Token(azname.SessionsAudience, "x"), "not issued by this emulator"},
		{"ARM audience", "Bearer " + s.Token(azname.ARMAudience, "x"), `"https://management.azure.com"`},
		{"expired", "Bearer " + expired, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newRaw(t, s)
			c.token = ""
			hdr := map[string]string{}
			if tc.header != "" {
				hdr["Authorization"] = tc.header
			}
			r := c.do(http.MethodGet, "/metadata", "", nil, nil, hdr)
			require.Equal(t, http.StatusUnauthorized, r.status)
			assert.Equal(t, "InvalidAuthenticationToken", r.errorCode(t))
			assert.Equal(t, "InvalidAuthenticationToken", r.header.Get("x-ms-error-code"))
			assert.Contains(t, r.errorMessage(t), tc.want)
			if tok, ok := strings.CutPrefix(tc.header, "Bearer "); ok && len(tok) > 10 {
				assert.NotContains(t, string(r.body), tok, "the token must never be echoed")
			}
		})
	}
	t.Run("trailing slash audience accepted", func(t *testing.T) {
		t.Parallel()
		c := newRaw(t, s)
		c.token = s.Token(azname.SessionsAudience+"/", "x")
		assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
	})
}

func TestCredential(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	before := time.Now()
	tok, err := s.Credential().GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{azname.SessionsAudience + "/.default"}})
	after := time.Now()
	require.NoError(t, err)
	c, err := jwt.Verify(s.key, tok.Token)
	require.NoError(t, err)
	assert.Equal(t, azname.SessionsAudience, c.Audience)
	assert.Equal(t, s.PrincipalID(), c.ObjectID)
	assert.Equal(t, DefaultTenantID, c.TenantID)
	// Valid for an hour from when it was minted (bounds, not a tolerance).
	assert.False(t, tok.ExpiresOn.Before(before.Add(time.Hour).Truncate(time.Second)), "expires %v", tok.ExpiresOn)
	assert.False(t, tok.ExpiresOn.After(after.Add(time.Hour)), "expires %v", tok.ExpiresOn)

	tok, err = s.CredentialFor("someone").GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com//.default"}})
	require.NoError(t, err)
	c, err = jwt.Verify(s.key, tok.Token)
	require.NoError(t, err)
	assert.Equal(t, "someone", c.ObjectID)

	_, err = s.Credential().GetToken(context.Background(), policy.TokenRequestOptions{})
	assert.Error(t, err)
}

func TestRBAC(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{RBAC: true})
	c := newRaw(t, s)
	const who = "11111111-0000-0000-0000-000000000001"
	c.token = s.Token(azname.SessionsAudience, who)

	r := c.do(http.MethodGet, "/metadata", "", nil, nil, nil)
	require.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "PermissionDenied", r.errorCode(t))
	assert.Contains(t, r.errorMessage(t), "Session Executor")
	assert.Contains(t, r.errorMessage(t), azname.SessionExecutorRoleID)

	sub, rg := s.SubscriptionID(), s.ResourceGroup()
	poolID := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.App/sessionPools/" + DefaultPoolName
	readerRole := "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
	executor := "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + azname.SessionExecutorRoleID
	cases := []struct {
		name  string
		scope string
		role  string
		who   string
		want  int
	}{
		{"other role on the pool", poolID, readerRole, who, http.StatusForbidden},
		{"executor for someone else", poolID, executor, "someone-else", http.StatusForbidden},
		{"executor on a pool whose name is a prefix", strings.TrimSuffix(poolID, "pool"), executor, who, http.StatusForbidden},
		{"executor on another group", "/subscriptions/" + sub + "/resourceGroups/other", executor, who, http.StatusForbidden},
		{"executor on the resource group (case differs)", strings.ToUpper("/subscriptions/" + sub + "/resourceGroups/" + rg), executor, who, http.StatusOK},
	}
	for i, tc := range cases {
		id, err := s.engine.AssignRole(armemu.RoleGrant{Scope: tc.scope, Role: tc.role, PrincipalID: tc.who})
		require.NoError(t, err, "case %d: %s", i, tc.name)
		r := c.do(http.MethodGet, "/metadata", "", nil, nil, nil)
		assert.Equal(t, tc.want, r.status, tc.name)
		assert.True(t, s.engine.DeleteRoleAssignment(id), tc.name)
	}
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodGet, "/metadata", "", nil, nil, nil).status, "revoked")

	s.GrantSessionExecutor(who, DefaultPoolName)
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
	assert.Equal(t, "0", c.sh(newSID(), "true")["status"])
}

func TestHostFormEndpoint(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	_, err := s.AddPool(Pool{Name: "second"})
	require.NoError(t, err)
	c := newRaw(t, s)
	c.endpoint = s.PoolHostEndpoint("second")
	assert.True(t, strings.HasPrefix(c.endpoint, "https://second.localhost:"))
	sid := newSID()
	r := c.exec(sid, map[string]any{"shellCommand": "echo host form"}, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.Equal(t, "host form\n", stdout(r.json(t)))
	assert.True(t, strings.HasPrefix(r.header.Get("Operation-Location"), c.endpoint+"/executions/"))
	assert.Equal(t, 1, s.SessionCount("second"))
	assert.Equal(t, 0, s.SessionCount(DefaultPoolName))
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	cases := []struct {
		name     string
		endpoint string
		method   string
		op       string
		noAPI    bool
		status   int
		code     string
		inMsg    string
	}{
		{"unknown operation", s.PoolEndpoint(), http.MethodGet, "/nope", false, 404, "NotFound", "GET /"},
		{"wrong method", s.PoolEndpoint(), http.MethodPut, "/executions", false, 404, "NotFound", "PUT"},
		{"unknown pool", s.PoolEndpointFor("missing"), http.MethodGet, "/metadata", false, 404, "SessionPoolNotFound", "missing"},
		{"unknown host-form pool", s.PoolHostEndpoint("missing"), http.MethodGet, "/metadata", false, 404, "SessionPoolNotFound", "missing"},
		{"missing api-version", s.PoolEndpoint(), http.MethodGet, "/metadata", true, 400, "MissingApiVersionParameter", "api-version"},
		{"unknown api-version", s.PoolEndpoint(), http.MethodGet, "/metadata?api-version=2099-01-01", true, 400, "InvalidApiVersionParameter", "'2099-01-01'"},
		{"missing identifier", s.PoolEndpoint(), http.MethodGet, "/session", false, 400, "InvalidRequest", "identifier"},
		{"post to a file name", s.PoolEndpoint(), http.MethodPost, "/files/x.txt", false, 404, "NotFound", "POST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.endpoint + tc.op
			if !tc.noAPI {
				u += "?api-version=" + apiVersion
			}
			req, err := http.NewRequest(tc.method, u, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := s.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var body struct{ Error errorBody }
			require.NoError(t, jsonDecode(resp.Body, &body))
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.code, resp.Header.Get("x-ms-error-code"))
			assert.Equal(t, tc.code, body.Error.Code)
			assert.Contains(t, body.Error.Message, tc.inMsg)
		})
	}
	// A message names the method and path.
	r := c.do(http.MethodPatch, "/files", "x1234", nil, nil, nil)
	assert.Contains(t, r.errorMessage(t), "PATCH /subscriptions/")
}

func TestServerAccessors(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	assert.True(t, strings.HasPrefix(s.URL(), "https://127.0.0.1:"))
	assert.Equal(t, s.URL()+"/subscriptions/"+DefaultSubscriptionID+"/resourceGroups/"+DefaultResourceGroup+"/sessionPools/"+DefaultPoolName, s.PoolEndpoint())
	assert.Equal(t, DefaultSubscriptionID, s.SubscriptionID())
	assert.Equal(t, DefaultResourceGroup, s.ResourceGroup())

	block, _ := pem.Decode(s.CACertPEM())
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"localhost", "*.localhost"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 2)
	assert.NoError(t, cert.VerifyHostname("127.0.0.1"))
	assert.NoError(t, cert.VerifyHostname("::1"))
	assert.NoError(t, cert.VerifyHostname("mypool.localhost"))

	co := s.ClientOptions()
	assert.Same(t, s.Client(), co.Transport)
	assert.Equal(t, s.URL()+"/", co.Cloud.ActiveDirectoryAuthorityHost)
	rm := co.Cloud.Services[cloud.ResourceManager]
	assert.Equal(t, s.URL(), rm.Endpoint)
	assert.Equal(t, "https://management.azure.com", rm.Audience)

	// A plain client that does not trust the certificate is refused.
	_, err = http.Get(s.URL() + "/")
	assert.Error(t, err)
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	s := setup(t, roomy())
	c := newRaw(t, s)

	t.Run("status with Retry-After, then normal", func(t *testing.T) {
		s.InjectFault(Fault{Method: http.MethodGet, Path: "/metadata", Count: 2, Status: 503, RetryAfter: 1500 * time.Millisecond})
		for range 2 {
			r := c.do(http.MethodGet, "/metadata", "", nil, nil, nil)
			assert.Equal(t, 503, r.status)
			assert.Equal(t, "2", r.header.Get("Retry-After"))
			assert.Equal(t, "InjectedFault", r.errorCode(t))
		}
		assert.Equal(t, 200, c.do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
	})
	t.Run("method must match", func(t *testing.T) {
		s.InjectFault(Fault{Method: http.MethodPost, Path: "/metadata", Status: 500})
		assert.Equal(t, 200, c.do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
		s.mu.Lock()
		s.faults = nil
		s.mu.Unlock()
	})
	t.Run("custom body", func(t *testing.T) {
		s.InjectFault(Fault{Path: "/metadata", Status: 429, Body: "slow down"})
		r := c.do(http.MethodGet, "/metadata", "", nil, nil, nil)
		assert.Equal(t, 429, r.status)
		assert.Equal(t, "slow down", string(r.body))
	})
	t.Run("delay", func(t *testing.T) {
		s.InjectFault(Fault{Path: "/metadata", Delay: 150 * time.Millisecond})
		start := time.Now()
		assert.Equal(t, 200, c.do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
		assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	})
	t.Run("drop before run", func(t *testing.T) {
		sid := newSID()
		c.sh(sid, "true")
		s.InjectFault(Fault{Method: http.MethodPost, Path: "/executions", Drop: true})
		_, err := doErr(s, c, sid, "echo ran >> log.txt", "op-drop")
		require.Error(t, err)
		assert.Equal(t, "", stdout(c.sh(sid, "cat log.txt 2>/dev/null")), "a dropped request does not run")
	})
	t.Run("drop after run, retry returns the first result", func(t *testing.T) {
		sid := newSID()
		s.InjectFault(Fault{Method: http.MethodPost, Path: "/executions", DropAfterRun: true})
		_, err := doErr(s, c, sid, "echo ran >> log.txt; wc -l < log.txt", "op-after")
		require.Error(t, err)
		r := c.exec(sid, map[string]any{"shellCommand": "echo ran >> log.txt; wc -l < log.txt"}, map[string]string{"operation-id": "op-after"})
		require.Equal(t, 200, r.status)
		assert.Equal(t, "1\n", stdout(r.json(t)))
		assert.Equal(t, "ran\n", stdout(c.sh(sid, "cat log.txt")), "the command ran exactly once")
	})
}

func doErr(s *Server, c *raw, sid, script, opID string) (*http.Response, error) {
	body := strings.NewReader(`{"shellCommand":` + strconv.Quote(script) + `}`)
	req, _ := http.NewRequest(http.MethodPost, s.PoolEndpoint()+"/executions?api-version="+apiVersion+"&identifier="+sid, body)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("operation-id", opID)
	resp, err := s.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestRequestsAreRecordedWithTokensRedacted(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	c.sh(sid, "echo recorded")
	c.upload(sid, "", "f.txt", []byte("file body"))
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.True(t, strings.HasSuffix(reqs[0].Path, "/executions"))
	assert.Equal(t, sid, reqs[0].Query.Get("identifier"))
	assert.Equal(t, "Bearer REDACTED", reqs[0].Header.Get("Authorization"))
	assert.Contains(t, string(reqs[0].Body), "echo recorded")
	assert.Nil(t, reqs[1].Body, "upload bodies are not recorded")
	for _, r := range reqs {
		for _, vs := range r.Header {
			for _, v := range vs {
				assert.NotContains(t, v, c.token)
			}
		}
	}
	s.ResetRequests()
	assert.Empty(t, s.Requests())
}

// TestCloseLeavesNothingBehind starts long-running processes and checks
// that Close kills them, removes the files and stops every goroutine.
func TestCloseLeavesNothingBehind(t *testing.T) {
	needUnix(t)
	// Not parallel: it counts goroutines.
	settle := func() int {
		n := runtime.NumGoroutine()
		for range 500 {
			time.Sleep(2 * time.Millisecond)
			if m := runtime.NumGoroutine(); m == n {
				return m
			} else {
				n = m
			}
		}
		return n
	}
	before := settle()

	s, err := Start(nil)
	require.NoError(t, err)
	c := newRaw(t, s)
	sid := newSID()
	// An execution still running at Close, and one that left a background
	// process behind.
	r := c.exec(sid, map[string]any{"shellCommand": "echo $$ > pid; exec sleep 1000", "executionType": "Asynchronous"}, nil)
	require.Equal(t, http.StatusAccepted, r.status)
	c.sh(sid, "sleep 1000 > /dev/null 2>&1 & echo $! > bg.pid")
	_, _, err = s.IdentityEndpoint()
	require.NoError(t, err)
	dir, ok := s.SessionDir(DefaultPoolName, sid)
	require.True(t, ok)
	readPID := func(name string) int {
		var pid int
		require.True(t, eventually(2*time.Minute, func() bool {
			b, err := os.ReadFile(filepath.Join(dir, name))
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			return err == nil && pid > 0
		}))
		return pid
	}
	pid, bg := s.HostPID(DefaultPoolName, sid, readPID("pid")), s.HostPID(DefaultPoolName, sid, readPID("bg.pid"))
	require.True(t, processAlive(pid))
	assert.Equal(t, 2, s.ProcessCount())

	s.Close()
	s.Close() // idempotent
	assert.False(t, processAlive(pid), "the running command was killed")
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(bg) }), "the background process was killed")
	assert.Equal(t, 0, s.ProcessCount())
	assert.NoDirExists(t, s.root)
	_, err = s.AddPool(Pool{Name: "late"})
	assert.Error(t, err)

	after := settle()
	assert.LessOrEqual(t, after, before, "goroutines leaked: %d before, %d after", before, after)
	assert.Empty(t, zombieChildren(), "every command the server started was reaped")
}

// zombieChildren lists this process's children that exited and were never
// waited for (Linux only; nil elsewhere).
func zombieChildren() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		i := strings.LastIndex(st, ")")
		if i < 0 {
			continue
		}
		f := strings.Fields(st[i+1:]) // state, ppid, ...
		if len(f) >= 2 && f[0] == "Z" && f[1] == strconv.Itoa(self) {
			out = append(out, pid)
		}
	}
	return out
}

// TestRequestRecordIsBoundedAndGoroutineSafe records from many goroutines
// while reading, and keeps only the most recent MaxRecordedRequests.
func TestRequestRecordIsBoundedAndGoroutineSafe(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{MaxRecordedRequests: 5})
	c := newRaw(t, s)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				req, err := http.NewRequest(http.MethodGet, s.PoolEndpoint()+"/metadata?api-version="+apiVersion+"&n="+strconv.Itoa(i*10+j), nil)
				if !assert.NoError(t, err) {
					return
				}
				req.Header.Set("Authorization", "Bearer "+c.token)
				if resp, err := s.Client().Do(req); assert.NoError(t, err) {
					resp.Body.Close()
				}
				assert.LessOrEqual(t, len(s.Requests()), 5)
			}
		}()
	}
	wg.Wait()
	require.Len(t, s.Requests(), 5)
	for i := range 3 {
		c.do(http.MethodGet, "/metadata", "", url.Values{"last": {strconv.Itoa(i)}}, nil, nil)
	}
	reqs := s.Requests()
	require.Len(t, reqs, 5)
	assert.Equal(t, []string{"0", "1", "2"}, []string{reqs[2].Query.Get("last"), reqs[3].Query.Get("last"), reqs[4].Query.Get("last")}, "the most recent are kept, oldest first")

	off := setup(t, &Options{MaxRecordedRequests: -1})
	newRaw(t, off).do(http.MethodGet, "/metadata", "", nil, nil, nil)
	assert.Empty(t, off.Requests())
}

// TestRemovedPoolAllocatesNoSession covers a request that found its pool
// just before the pool was deleted: it must not create a session nobody
// would ever clean up.
func TestRemovedPoolAllocatesNoSession(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	sp, ok := s.engine.Pool(s.SubscriptionID(), s.ResourceGroup(), DefaultPoolName)
	require.True(t, ok)
	p := s.poolNamed(DefaultPoolName)
	require.NotNil(t, p)
	require.True(t, s.RemovePool(DefaultPoolName))
	late := s.served(sp, true) // the engine answered just before the removal
	assert.True(t, late.removed, "a pool deleted after the engine answered is served as removed")
	s.mu.Lock()
	_, kept := s.pools[sp.Serial]
	s.mu.Unlock()
	assert.False(t, kept, "and no state is kept for it")
	s.mu.Lock()
	ss, err := s.getOrCreateSessionLocked(p, newSID())
	s.mu.Unlock()
	assert.Nil(t, ss)
	require.ErrorIs(t, err, errPoolRemoved)
	if s.iso.Sandboxed {
		s.spares.mu.Lock()
		defer s.spares.mu.Unlock()
		assert.Empty(t, s.spares.ready, "no sandbox was taken")
		assert.Empty(t, s.spares.filling, "no sandbox was taken")
		return
	}
	entries, err := os.ReadDir(s.root)
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, strings.HasPrefix(e.Name(), "."), "no session directory was created: %s", e.Name())
	}
}

// TestFakeClockKeepsTokensValid: Options.Now moves session time, not token
// time, so ARM and data-plane requests with real tokens keep working.
func TestFakeClockKeepsTokensValid(t *testing.T) {
	t.Parallel()
	past := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := setup(t, &Options{Now: func() time.Time { return past }})
	req, err := http.NewRequest(http.MethodGet, s.URL()+"/subscriptions/"+s.SubscriptionID()+"/resourceGroups/"+s.ResourceGroup()+"?api-version=2021-04-01", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.Token(azname.ARMAudience, s.PrincipalID()))
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, http.StatusOK, newRaw(t, s).do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
}

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping the
// goroutine, so the test can see NewServer report through Options.TB.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestNewServerFailsTheTestWhenItCannotStart(t *testing.T) {
	t.Parallel()
	rec := &fatalRecorder{TB: t}
	assert.Panics(t, func() { // a real testing.T's Fatalf would have stopped here
		NewServer(&Options{Addr: "256.0.0.1:0", TB: rec})
	})
	assert.Contains(t, rec.msg, "sessionstest:", "the failure is reported through Options.TB")
	assert.Contains(t, rec.msg, "256.0.0.1")
}

func TestDataPlaneAPIVersionsIsACopy(t *testing.T) {
	t.Parallel()
	v := DataPlaneAPIVersions()
	require.Contains(t, v, "2025-02-02-preview", "the tutorial's version is accepted")
	v[0] = "mutated"
	assert.NotContains(t, DataPlaneAPIVersions(), "mutated", "callers cannot change what the emulator accepts")
}

// TestGrantBeforeThePoolExists covers a grant for a pool that is added
// later: the role assignment lives in the engine from the start and
// authorises the pool once it is served.
func TestGrantBeforeThePoolExists(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{RBAC: true})
	s.GrantSessionExecutor(s.PrincipalID(), "later")
	endpoint, err := s.AddPool(Pool{Name: "later"})
	require.NoError(t, err)
	c := newRaw(t, s)
	c.endpoint = endpoint
	assert.Equal(t, "0", c.sh(newSID(), "true")["status"])
	assert.Equal(t, 1, s.SessionCount("later"))

	other := newRaw(t, s) // the default pool: no grant there
	assert.Equal(t, http.StatusForbidden, other.do(http.MethodGet, "/metadata", "", nil, nil, nil).status)
}
