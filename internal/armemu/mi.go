package armemu

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/jwt"
)

// miTokenLifetime is how long managed identity tokens last (Azure's are
// valid for about a day).
const miTokenLifetime = 24 * time.Hour

// IdentityHeader returns the secret a caller of IdentityHandler must send in
// the X-IDENTITY-HEADER header: the value of IDENTITY_HEADER.
func (e *Engine) IdentityHeader() string { return e.idHeader }

// IdentityHandler returns the managed identity token endpoint in Azure App
// Service's protocol (api-version 2019-08-01), the one azidentity's
// ManagedIdentityCredential uses when IDENTITY_ENDPOINT and IDENTITY_HEADER
// are set. Serve it on a plain-HTTP loopback listener, as Azure does.
//
// GET ?api-version=2019-08-01&resource=AUD[&client_id=|principal_id=|object_id=|mi_res_id=]
// with X-IDENTITY-HEADER answers {access_token, expires_on, resource,
// token_type, client_id}. The token is signed with Config.SigningKey; its
// oid is the selected user-assigned identity's principal ID, or the
// emulator's system-assigned identity (SystemIdentity) when no selector is
// given.
func (e *Engine) IdentityHandler() http.Handler {
	return http.HandlerFunc(e.serveToken)
}

type miError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func (e *Engine) serveToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) { writeJSON(w, status, miError{StatusCode: status, Message: msg}) }
	if r.Method != http.MethodGet {
		fail(http.StatusMethodNotAllowed, "Only GET is supported.")
		return
	}
	h := r.Header.Get("X-IDENTITY-HEADER")
	if h == "" {
		fail(http.StatusBadRequest, "The X-IDENTITY-HEADER header is missing: send the value of the IDENTITY_HEADER environment variable.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(h), []byte(e.idHeader)) != 1 {
		fail(http.StatusUnauthorized, "The X-IDENTITY-HEADER value is wrong: send the value of the IDENTITY_HEADER environment variable.")
		return
	}
	qs := r.URL.Query()
	if v := qs.Get("api-version"); v != "2019-08-01" {
		fail(http.StatusBadRequest, "The api-version '"+v+"' is not supported: use 2019-08-01.")
		return
	}
	resource := strings.TrimSuffix(qs.Get("resource"), "/.default")
	if resource == "" {
		fail(http.StatusBadRequest, "The resource query parameter is required, e.g. resource=https://dynamicsessions.io.")
		return
	}
	var selectors []string
	for _, k := range []string{"client_id", "principal_id", "object_id", "mi_res_id"} {
		if qs.Get(k) != "" {
			selectors = append(selectors, k)
		}
	}
	if len(selectors) > 1 {
		fail(http.StatusBadRequest, "Only one of client_id, principal_id, object_id and mi_res_id may be given; got "+strings.Join(selectors, ", ")+".")
		return
	}
	e.mu.Lock()
	id := e.system
	if len(selectors) == 1 {
		var found *identity
		switch v := qs.Get(selectors[0]); selectors[0] {
		case "client_id":
			found = e.identityBy("", v)
		case "mi_res_id":
			found = e.identityByResourceID(v)
		default:
			found = e.identityBy(v, "")
		}
		if found == nil {
			e.mu.Unlock()
			fail(http.StatusBadRequest, "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId: create the identity first.")
			return
		}
		id = found.Identity
	}
	e.mu.Unlock()
	now := time.Now() // the client checks expires_on against its real clock
	exp := now.Add(miTokenLifetime)
	tok := jwt.Sign(e.cfg.SigningKey, jwt.Claims{
		Audience:  resource,
		ObjectID:  id.PrincipalID,
		Subject:   id.PrincipalID,
		TenantID:  id.TenantID,
		AppID:     id.ClientID,
		Issuer:    "https://sts.windows.net/" + id.TenantID + "/",
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: exp,
	})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(exp.Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    id.ClientID,
	})
}
