package armemu

import (
	"net/http"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/jwt"
)

var managementAudiences = map[string]bool{
	"https://management.azure.com":        true,
	"https://management.core.windows.net": true,
}

func (e *Engine) authenticate(r *http.Request) (string, *armError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format: expected 'Bearer <token>'.")
	}
	c, err := jwt.Verify(e.cfg.SigningKey, strings.TrimSpace(tok))
	if err != nil {
		return "", errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid: %v.", err)
	}
	if !managementAudiences[strings.TrimRight(c.Audience, "/")] {
		return "", errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token has an invalid audience %q; request a token for https://management.azure.com/.default.", c.Audience)
	}
	now := time.Now()
	if c.ExpiresAt.IsZero() || !now.Before(c.ExpiresAt) {
		return "", errf(http.StatusUnauthorized, "ExpiredAuthenticationToken", "The access token expiry UTC time '%s' is earlier than current UTC time '%s'; get a new token.", c.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Add(5*time.Minute).Before(c.NotBefore) {
		return "", errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is not yet valid (nbf %s).", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return c.ObjectID, nil
}
