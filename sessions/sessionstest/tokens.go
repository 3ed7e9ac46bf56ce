package sessionstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/jwt"
)

// PrincipalID returns the object ID of the principal Credential acts as. It
// is also the emulator's system-assigned managed identity: tokens from
// IdentityEndpoint requested without a client ID (what
// azidentity.DefaultAzureCredential gets with IDENTITY_ENDPOINT set) carry
// it, so GrantSessionExecutor(PrincipalID(), pool) authorises both.
func (s *Server) PrincipalID() string { return s.prinID }

// TenantID returns the tenant of the tokens the server mints.
func (s *Server) TenantID() string { return s.tenantID }

// Credential returns a token credential whose tokens the server accepts, for
// PrincipalID. The token's audience is the requested scope without
// "/.default".
func (s *Server) Credential() azcore.TokenCredential { return s.CredentialFor(s.prinID) }

// CredentialFor returns a token credential for another principal (object ID).
func (s *Server) CredentialFor(principalID string) azcore.TokenCredential {
	return &credential{s: s, oid: principalID}
}

// Token mints a bearer token for audience and principal, valid for an hour.
// Tokens are secrets: do not log them.
func (s *Server) Token(audience, principalID string) string {
	tok, _ := s.mint(audience, principalID, time.Hour)
	return tok
}

func (s *Server) mint(audience, principalID string, ttl time.Duration) (string, time.Time) {
	now := time.Now()
	exp := now.Add(ttl).Truncate(time.Second)
	return jwt.Sign(s.key, jwt.Claims{
		Audience:  audience,
		ObjectID:  principalID,
		TenantID:  s.tenantID,
		Subject:   principalID,
		Issuer:    "https://sts.windows.net/" + s.tenantID + "/",
		IssuedAt:  now.Truncate(time.Second),
		NotBefore: now.Add(-5 * time.Minute).Truncate(time.Second),
		ExpiresAt: exp,
	}), exp
}

type credential struct {
	s   *Server
	oid string
}

// GetToken implements azcore.TokenCredential.
func (c *credential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if err := ctx.Err(); err != nil {
		return azcore.AccessToken{}, err
	}
	if len(o.Scopes) == 0 {
		return azcore.AccessToken{}, errors.New("sessionstest: GetToken needs a scope, such as https://dynamicsessions.io/.default")
	}
	aud := strings.TrimSuffix(o.Scopes[0], "/.default")
	tok, exp := c.s.mint(aud, c.oid, time.Hour)
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, nil
}

// authenticate checks the bearer token and returns its principal's object ID.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	fail := func(msg string) (string, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+s.baseURL+`/`+s.tenantID+`", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return "", false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return fail("the request has no Authorization header; send \"Authorization: Bearer <token>\" with a token for " + azname.SessionsAudience)
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return fail("the Authorization header is not a bearer token; send \"Authorization: Bearer <token>\"")
	}
	c, err := jwt.Verify(s.key, strings.TrimSpace(tok))
	if err != nil {
		return fail("the bearer token was not issued by this emulator or is malformed (" + err.Error() + "); get tokens from Server.Credential or Server.Token")
	}
	if aud := strings.TrimSuffix(c.Audience, "/"); aud != azname.SessionsAudience {
		return fail(fmt.Sprintf("the token's audience is %q, but the dynamic sessions data plane needs %q; request the scope %s/.default", c.Audience, azname.SessionsAudience, azname.SessionsAudience))
	}
	now := time.Now()
	if c.ExpiresAt.IsZero() || !now.Before(c.ExpiresAt) {
		return fail("the token expired at " + c.ExpiresAt.UTC().Format(time.RFC3339) + "; get a new one")
	}
	if !c.NotBefore.IsZero() && now.Before(c.NotBefore) {
		return fail("the token is not valid before " + c.NotBefore.UTC().Format(time.RFC3339))
	}
	return c.ObjectID, true
}
