package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/jwt"
)

const redacted = "REDACTED"

// GetTokenOptions contains the optional parameters for GetToken.
type GetTokenOptions struct {
	// TenantID requests the token from this tenant instead of the
	// credential's default.
	TenantID string
}

// Token is an access token obtained by GetToken. Printing it in any way
// (fmt verbs, %#v, log/slog, encoding/json) shows its audience and expiry but
// never the token itself; call Value for the Authorization header.
type Token struct {
	// secret is behind a pointer so that fmt, printing a struct that holds a
	// Token in an unexported field, shows an address instead of the token.
	secret    *string
	audience  string
	expiresOn time.Time
}

// GetToken gets an access token for audience from cred: the tutorial's "Get a
// bearer token" step, with the audience the data plane needs.
//
//   - cred - any credential, such as the one NewCredential returns.
//   - audience - sessions.Audience for the dynamic sessions data plane. The
//     resource form ("https://dynamicsessions.io") and the scope form
//     (".../.default") are both accepted.
//   - options - nil for defaults.
//
// The error never contains a token.
func GetToken(ctx context.Context, cred azcore.TokenCredential, audience string, options *GetTokenOptions) (Token, error) {
	if options == nil {
		options = &GetTokenOptions{}
	}
	if cred == nil {
		return Token{}, argErr("cred", "must not be nil; pass a credential such as the one identity.NewCredential returns")
	}
	aud, scope, err := normalizeAudience(audience)
	if err != nil {
		return Token{}, err
	}
	at, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}, TenantID: options.TenantID})
	if err != nil {
		return Token{}, fmt.Errorf("identity: get a token for %s: %w", scope, err)
	}
	v := at.Token
	return Token{secret: &v, audience: aud, expiresOn: at.ExpiresOn}, nil
}

// normalizeAudience accepts "https://x", "https://x/" or "https://x/.default"
// and returns the audience and the scope.
func normalizeAudience(audience string) (aud, scope string, err error) {
	a := strings.TrimSpace(audience)
	a = strings.TrimSuffix(a, "/.default")
	a = strings.TrimRight(a, "/")
	if a == "" {
		return "", "", argErr("audience", "must not be empty; pass sessions.Audience for the dynamic sessions data plane")
	}
	if strings.ContainsAny(a, " \t\n") {
		return "", "", argErr("audience", fmt.Sprintf("%q is one audience, such as sessions.Audience, not a list", audience))
	}
	return a, a + "/.default", nil
}

// Value returns the raw access token, for an "Authorization: Bearer ..."
// header. Do not log it or hand it to end users: any holder of a dynamic
// sessions token can run code in every session of the pool.
func (t Token) Value() string {
	if t.secret == nil {
		return ""
	}
	return *t.secret
}

// Audience returns the audience the token was requested for (not read from
// the token; see Claims for what it really says).
func (t Token) Audience() string { return t.audience }

// ExpiresOn returns when the token expires, as the credential reported it.
func (t Token) ExpiresOn() time.Time { return t.expiresOn }

// Claims returns the token's claims (audience, object ID, tenant, app ID,
// expiry) without verifying its signature. Entra ID tokens are JWTs; an
// opaque token gives an error matching ErrMalformedToken.
func (t Token) Claims() (Claims, error) { return InspectToken(t.Value()) }

// Check explains why a service expecting the audience GetToken was asked for
// would reject the token (401): wrong audience, expired, not valid yet. It
// returns nil when none applies. See Claims.Check.
func (t Token) Check() error {
	c, err := t.Claims()
	if err != nil {
		return err
	}
	return c.Check(t.audience)
}

// String returns a description without the token value, such as
// "identity.Token{audience: https://dynamicsessions.io, expiresOn: 2025-01-01T00:00:00Z, value: REDACTED}".
func (t Token) String() string {
	exp := "unknown"
	if !t.expiresOn.IsZero() {
		exp = t.expiresOn.UTC().Format(time.RFC3339)
	}
	return "identity.Token{audience: " + t.audience + ", expiresOn: " + exp + ", value: " + redacted + "}"
}

// GoString implements fmt.GoStringer (%#v) with the same redacted text as String.
func (t Token) GoString() string { return t.String() }

// Format implements fmt.Formatter: every verb prints the redacted String.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", t.String())
		return
	}
	_, _ = f.Write([]byte(t.String()))
}

// LogValue implements slog.LogValuer with the redacted String.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON implements json.Marshaler without the token value:
// {"audience": ..., "expiresOn": ..., "value": "REDACTED"}.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Audience  string    `json:"audience"`
		ExpiresOn time.Time `json:"expiresOn"`
		Value     string    `json:"value"`
	}{t.audience, t.expiresOn, redacted})
}

// Claims are the claims of an access token that explain who it is for and
// whether it is usable. None of them is secret.
type Claims struct {
	// Audience is the "aud" claim: the service the token is for. The dynamic
	// sessions data plane requires sessions.Audience.
	Audience string `json:"audience,omitempty"`
	// ObjectID is the "oid" claim: the principal's object ID, the principalId
	// a role assignment names.
	ObjectID string `json:"objectId,omitempty"`
	// TenantID is the "tid" claim.
	TenantID string `json:"tenantId,omitempty"`
	// AppID is the "appid" (v1) or "azp" (v2) claim: the client application,
	// for a managed identity its client ID.
	AppID string `json:"appId,omitempty"`
	// Subject is the "sub" claim.
	Subject string `json:"subject,omitempty"`
	// Issuer is the "iss" claim.
	Issuer string `json:"issuer,omitempty"`
	// ExpiresAt is the "exp" claim; zero when absent.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// NotBefore is the "nbf" claim; zero when absent.
	NotBefore time.Time `json:"notBefore,omitzero"`
	// IssuedAt is the "iat" claim; zero when absent.
	IssuedAt time.Time `json:"issuedAt,omitzero"`
}

// InspectToken decodes the claims of a JWT access token without verifying its
// signature, so a user can see why a call would get 401. A leading "Bearer "
// is ignored. The error matches ErrMalformedToken and never contains the token.
func InspectToken(raw string) (Claims, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	c, err := jwt.Parse(raw)
	if err != nil {
		if errors.Is(err, jwt.ErrMalformed) {
			return Claims{}, fmt.Errorf("%w: expected three base64url segments separated by dots with a JSON payload; pass the access token itself", ErrMalformedToken)
		}
		return Claims{}, fmt.Errorf("%w: %s", ErrMalformedToken, err.Error())
	}
	return Claims{
		Audience: c.Audience, ObjectID: c.ObjectID, TenantID: c.TenantID, AppID: c.AppID,
		Subject: c.Subject, Issuer: c.Issuer, ExpiresAt: c.ExpiresAt, NotBefore: c.NotBefore, IssuedAt: c.IssuedAt,
	}, nil
}

// Check explains why a service expecting audience would reject a token with
// these claims (HTTP 401), or returns nil. audience may be given in the
// resource or the scope (".../.default") form; sessions.Audience is the one
// the dynamic sessions data plane expects. The error matches ErrWrongAudience,
// ErrTokenExpired or ErrTokenNotYetValid and says what to do. Check does not
// verify the signature and cannot see role assignments (a missing Session
// Executor role gives 403, not 401).
func (c Claims) Check(audience string) error {
	want, _, err := normalizeAudience(audience)
	if err != nil {
		return err
	}
	got := strings.TrimRight(c.Audience, "/")
	if !strings.EqualFold(got, want) {
		hint := ""
		if isARMAudience(got) {
			hint = " (an Azure Resource Manager token, which `az account get-access-token` returns without --resource)"
		}
		return fmt.Errorf("%w: the token is for %q%s but the service expects %q; request it with scope %q (az account get-access-token --resource %s)",
			ErrWrongAudience, c.Audience, hint, want, want+"/.default", want)
	}
	now := time.Now()
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return fmt.Errorf("%w: it expired at %s (%s ago); request a new token", ErrTokenExpired,
			c.ExpiresAt.UTC().Format(time.RFC3339), now.Sub(c.ExpiresAt).Round(time.Second))
	}
	if !c.NotBefore.IsZero() && now.Before(c.NotBefore) {
		return fmt.Errorf("%w: it is valid from %s; check this machine's clock", ErrTokenNotYetValid,
			c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

func isARMAudience(aud string) bool {
	switch strings.ToLower(strings.TrimRight(aud, "/")) {
	case azname.ARMAudience, "https://management.core.windows.net",
		"https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net",
		"https://management.chinacloudapi.cn", "https://management.core.chinacloudapi.cn":
		return true
	}
	return false
}
