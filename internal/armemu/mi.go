package armemu

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// miTokenLifetime is how long managed identity tokens last (Azure's are
// valid for about a day).
const miTokenLifetime = 24 * time.Hour

// IdentityHeader returns the secret a caller of IdentityHandler must send in
// the X-IDENTITY-HEADER header: the value of IDENTITY_HEADER.
func (e *Engine) IdentityHeader() string { return e.idHeader }

// IdentityHandler returns the managed identity token endpoint, serving the
// three protocols Azure's hosts and clients speak. Serve it on a plain-HTTP
// loopback listener, as Azure does; any path is accepted.
//
//   - App Service 2019-08-01 (IDENTITY_ENDPOINT, IDENTITY_HEADER; azidentity's
//     ManagedIdentityCredential): GET ?api-version=2019-08-01&resource=AUD
//     [&client_id=|principal_id=|object_id=|mi_res_id=] with X-IDENTITY-HEADER.
//   - App Service 2017-09-01 (MSI_ENDPOINT, MSI_SECRET; the Azure CLI's az
//     login --identity when APPSETTING_WEBSITE_SITE_NAME is set): GET
//     ?resource=AUD&api-version=2017-09-01[&clientid=] with a secret header
//     carrying IdentityHeader.
//   - Cloud Shell (MSI_ENDPOINT alone; az login --identity otherwise): POST
//     with a form body resource=AUD[&client_id=|object_id=|msi_res_id=] and
//     Metadata: true. Like Cloud Shell's, it takes no secret: the listener
//     is reachable from loopback only.
//
// Each answers {access_token, expires_on, resource, token_type, client_id}
// in its protocol's form. The token is signed with Config.SigningKey; its oid
// is the selected user-assigned identity's principal ID, or the emulator's
// system-assigned identity (SystemIdentity) when no selector is given.
func (e *Engine) IdentityHandler() http.Handler {
	return http.HandlerFunc(e.serveToken)
}

type miError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func (e *Engine) serveToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) { writeJSON(w, status, miError{StatusCode: status, Message: msg}) }
	var (
		params   url.Values
		protocol string
		keys     []string // the selector parameters of the protocol
	)
	switch {
	case r.Method == http.MethodPost:
		if !strings.EqualFold(r.Header.Get("Metadata"), "true") {
			fail(http.StatusBadRequest, "The Metadata: true header is missing: the Cloud Shell protocol (POST) needs it.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			fail(http.StatusBadRequest, "The request body must be a form (resource=...): "+err.Error())
			return
		}
		params, protocol, keys = r.PostForm, "cloudshell", []string{"client_id", "object_id", "msi_res_id"}
	case r.Method != http.MethodGet:
		fail(http.StatusMethodNotAllowed, "Only GET (App Service protocols) and POST (Cloud Shell protocol) are supported.")
		return
	case r.URL.Query().Get("api-version") == "2017-09-01":
		h := r.Header.Get("secret")
		if h == "" {
			fail(http.StatusBadRequest, "The secret header is missing: api-version 2017-09-01 needs the value of the MSI_SECRET environment variable (the emulator's IDENTITY_HEADER).")
			return
		}
		if subtle.ConstantTimeCompare([]byte(h), []byte(e.idHeader)) != 1 {
			fail(http.StatusUnauthorized, "The secret header value is wrong: send the value of the MSI_SECRET environment variable (the emulator's IDENTITY_HEADER).")
			return
		}
		params, protocol, keys = r.URL.Query(), "2017-09-01", []string{"clientid"}
	default:
		h := r.Header.Get("X-IDENTITY-HEADER")
		if h == "" {
			fail(http.StatusBadRequest, "The X-IDENTITY-HEADER header is missing: send the value of the IDENTITY_HEADER environment variable.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(h), []byte(e.idHeader)) != 1 {
			fail(http.StatusUnauthorized, "The X-IDENTITY-HEADER value is wrong: send the value of the IDENTITY_HEADER environment variable.")
			return
		}
		if v := r.URL.Query().Get("api-version"); v != "2019-08-01" {
			fail(http.StatusBadRequest, "The api-version '"+v+"' is not supported: use 2019-08-01 (with X-IDENTITY-HEADER) or 2017-09-01 (with secret).")
			return
		}
		params, protocol, keys = r.URL.Query(), "2019-08-01", []string{"client_id", "principal_id", "object_id", "mi_res_id"}
	}
	resource := strings.TrimSuffix(params.Get("resource"), "/.default")
	if resource == "" {
		fail(http.StatusBadRequest, "The resource parameter is required, e.g. resource=https://dynamicsessions.io.")
		return
	}
	var selectors []string
	for _, k := range keys {
		if params.Get(k) != "" {
			selectors = append(selectors, k)
		}
	}
	if len(selectors) > 1 {
		fail(http.StatusBadRequest, "Only one of "+strings.Join(keys, ", ")+" may be given; got "+strings.Join(selectors, ", ")+".")
		return
	}
	e.mu.Lock()
	id := e.system
	if len(selectors) == 1 {
		var found *identity
		switch v := params.Get(selectors[0]); selectors[0] {
		case "client_id", "clientid":
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
	tok := e.mintToken(resource, id, now, exp)
	w.Header().Set("Cache-Control", "no-store")
	body := map[string]string{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(exp.Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    id.ClientID,
	}
	switch protocol {
	case "2017-09-01":
		// App Service's 2017-09-01 answer carries a date, not epoch seconds.
		body["expires_on"] = exp.UTC().Format("01/02/2006 15:04:05 +00:00")
	case "cloudshell":
		delete(body, "client_id")
		body["expires_in"] = strconv.FormatInt(int64(miTokenLifetime/time.Second), 10)
		body["not_before"] = strconv.FormatInt(now.Unix(), 10)
		body["refresh_token"] = ""
	}
	writeJSON(w, http.StatusOK, body)
}
