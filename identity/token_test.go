package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/internal/jwt"
	"github.com/shellpool/shellpool/sessions"
)

// mint returns a signed JWT (signature irrelevant: InspectToken does not verify).
func mint(c jwt.Claims) string { return jwt.Sign([]byte("test key"), c) }

func sessionsClaims() jwt.Claims {
	return jwt.Claims{
		Audience: "https://dynamicsessions.io", ObjectID: testPrincipal, TenantID: "33333333-3333-3333-3333-333333333333",
		AppID: "44444444-4444-4444-4444-444444444444", Subject: "sub-1", Issuer: "https://sts.windows.net/33333333-3333-3333-3333-333333333333/",
		ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second).UTC(), IssuedAt: time.Now().Add(-time.Minute).Truncate(time.Second).UTC(),
	}
}

// tokenCred is a credential returning a fixed token and recording the scopes
// it was asked for.
type tokenCred struct {
	token  string
	err    error
	mu     sync.Mutex
	scopes [][]string
	tenant []string
}

func (c *tokenCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, o.Scopes)
	c.tenant = append(c.tenant, o.TenantID)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, nil
}

func TestInspectToken(t *testing.T) {
	t.Parallel()
	want := sessionsClaims()
	raw := mint(want)
	for _, in := range []string{raw, "Bearer " + raw, "bearer  " + raw + "\n"} {
		c, err := identity.InspectToken(in)
		require.NoError(t, err)
		assert.Equal(t, want.Audience, c.Audience)
		assert.Equal(t, want.ObjectID, c.ObjectID)
		assert.Equal(t, want.TenantID, c.TenantID)
		assert.Equal(t, want.AppID, c.AppID)
		assert.Equal(t, want.Subject, c.Subject)
		assert.Equal(t, want.Issuer, c.Issuer)
		assert.True(t, want.ExpiresAt.Equal(c.ExpiresAt), "exp %v != %v", c.ExpiresAt, want.ExpiresAt)
		assert.True(t, want.IssuedAt.Equal(c.IssuedAt))
		assert.True(t, c.NotBefore.IsZero())
	}
}

func TestInspectTokenMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"opaque", "s3cr3t-opaque-value"},
		{"two segments", "aGVsbG8.d29ybGQ"},
		{"payload not JSON", "eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24tc2VjcmV0.c2ln"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := identity.InspectToken(tc.in)
			require.ErrorIs(t, err, identity.ErrMalformedToken)
			if tc.in != "" {
				assert.NotContains(t, err.Error(), tc.in, "the error never quotes the token")
			}
			assert.NotContains(t, err.Error(), "bm90LWpzb24tc2VjcmV0")
		})
	}
}

func TestClaimsCheck(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name     string
		claims   identity.Claims
		audience string
		want     error
		mention  []string
	}{
		{"right audience", identity.Claims{Audience: "https://dynamicsessions.io", ExpiresAt: now.Add(time.Hour)}, sessions.Audience, nil, nil},
		{"scope form and trailing slash", identity.Claims{Audience: "https://dynamicsessions.io/", ExpiresAt: now.Add(time.Hour)}, identity.SessionsScope, nil, nil},
		{"ARM token", identity.Claims{Audience: "https://management.azure.com/", ExpiresAt: now.Add(time.Hour)}, sessions.Audience, identity.ErrWrongAudience,
			[]string{"Azure Resource Manager", "https://dynamicsessions.io/.default", "--resource https://dynamicsessions.io"}},
		{"legacy ARM audience", identity.Claims{Audience: "https://management.core.windows.net/"}, sessions.Audience, identity.ErrWrongAudience, []string{"Azure Resource Manager"}},
		{"obsolete acasessions audience", identity.Claims{Audience: "https://acasessions.io"}, sessions.Audience, identity.ErrWrongAudience, []string{"https://acasessions.io"}},
		{"expired", identity.Claims{Audience: "https://dynamicsessions.io", ExpiresAt: now.Add(-10 * time.Minute)}, sessions.Audience, identity.ErrTokenExpired, []string{"request a new token"}},
		{"not yet valid", identity.Claims{Audience: "https://dynamicsessions.io", NotBefore: now.Add(10 * time.Minute)}, sessions.Audience, identity.ErrTokenNotYetValid, []string{"clock"}},
		{"ARM token for ARM", identity.Claims{Audience: "https://management.azure.com/", ExpiresAt: now.Add(time.Hour)}, identity.ARMScope, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.claims.Check(tc.audience)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			for _, m := range tc.mention {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
	assert.ErrorIs(t, identity.Claims{}.Check(""), identity.ErrInvalidArgument)
}

func TestGetToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, audience, wantScope string
	}{
		{"resource form", "https://dynamicsessions.io", "https://dynamicsessions.io/.default"},
		{"trailing slash", "https://dynamicsessions.io/", "https://dynamicsessions.io/.default"},
		{"scope form", identity.SessionsScope, "https://dynamicsessions.io/.default"},
		{"ARM", identity.ARMAudience, "https://management.azure.com/.default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := mint(sessionsClaims())
			cred := &tokenCred{token: raw}
			tok, err := identity.GetToken(t.Context(), cred, tc.audience, &identity.GetTokenOptions{TenantID: "t1"})
			require.NoError(t, err)
			assert.Equal(t, [][]string{{tc.wantScope}}, cred.scopes)
			assert.Equal(t, []string{"t1"}, cred.tenant)
			assert.Equal(t, raw, tok.Value())
			assert.Equal(t, strings.TrimSuffix(tc.wantScope, "/.default"), tok.Audience())
			assert.Equal(t, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), tok.ExpiresOn())
		})
	}
}

func TestGetTokenErrors(t *testing.T) {
	t.Parallel()
	t.Run("bad input sends nothing", func(t *testing.T) {
		t.Parallel()
		cred := &tokenCred{token: "x"}
		for _, aud := range []string{"", "  ", "/.default", "https://a https://b"} {
			_, err := identity.GetToken(t.Context(), cred, aud, nil)
			assert.ErrorIs(t, err, identity.ErrInvalidArgument, "audience %q", aud)
		}
		_, err := identity.GetToken(t.Context(), nil, sessions.Audience, nil)
		assert.ErrorIs(t, err, identity.ErrInvalidArgument)
		assert.Empty(t, cred.scopes)
	})
	t.Run("credential failure is wrapped", func(t *testing.T) {
		t.Parallel()
		cause := errors.New("no managed identity endpoint")
		_, err := identity.GetToken(t.Context(), &tokenCred{err: cause}, sessions.Audience, nil)
		require.ErrorIs(t, err, cause)
		assert.Contains(t, err.Error(), "https://dynamicsessions.io/.default")
	})
}

func TestTokenCheck(t *testing.T) {
	t.Parallel()
	arm := sessionsClaims()
	arm.Audience = "https://management.azure.com/"
	tests := []struct {
		name     string
		token    string
		audience string
		want     error
	}{
		{"sessions token", mint(sessionsClaims()), sessions.Audience, nil},
		{"ARM token asked for sessions", mint(arm), sessions.Audience, identity.ErrWrongAudience},
		{"opaque token", "opaque", sessions.Audience, identity.ErrMalformedToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := identity.GetToken(t.Context(), &tokenCred{token: tc.token}, tc.audience, nil)
			require.NoError(t, err)
			err = tok.Check()
			if tc.want == nil {
				require.NoError(t, err)
				c, err := tok.Claims()
				require.NoError(t, err)
				assert.Equal(t, testPrincipal, c.ObjectID)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), tc.token)
		})
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	raw := mint(sessionsClaims())
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	tok, err := identity.GetToken(t.Context(), &tokenCred{token: raw}, sessions.Audience, nil)
	require.NoError(t, err)

	type holder struct {
		Exported identity.Token
		hidden   identity.Token
		Ptr      *identity.Token
	}
	h := holder{Exported: tok, hidden: tok, Ptr: &tok}

	var outputs = map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v"} {
		outputs["Sprintf "+verb] = fmt.Sprintf(verb, tok)
		outputs["Sprintf pointer "+verb] = fmt.Sprintf(verb, &tok)
		outputs["Sprintf holder "+verb] = fmt.Sprintf(verb, h)
	}
	outputs["Sprint"] = fmt.Sprint(tok, []identity.Token{tok}, map[string]identity.Token{"k": tok})
	outputs["String"] = tok.String()
	outputs["GoString"] = tok.GoString()
	j, err := json.Marshal(h)
	require.NoError(t, err)
	outputs["json holder"] = string(j)
	j, err = json.Marshal(map[string]any{"t": tok, "p": &tok})
	require.NoError(t, err)
	outputs["json map"] = string(j)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("got token", "token", tok, "holder", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("got token", "token", tok)
	outputs["slog"] = buf.String()
	outputs["wrapped error"] = fmt.Errorf("call failed with %v", tok).Error()

	for name, out := range outputs {
		for i, p := range parts {
			assert.NotContains(t, out, p, "%s reveals token segment %d: %s", name, i, out)
		}
	}
	assert.Contains(t, outputs["Sprintf %v"], "REDACTED")
	assert.Contains(t, outputs["Sprintf %v"], "https://dynamicsessions.io")
	assert.Contains(t, outputs["json holder"], `"value":"REDACTED"`)
	assert.Equal(t, raw, tok.Value(), "Value is the only way to the token")
}
