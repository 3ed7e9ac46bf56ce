package armemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/jwt"
)

// entraTokenLifetime is how long Entra ID client credentials tokens last
// (Azure's last 60 to 90 minutes).
const entraTokenLifetime = time.Hour

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ServicePrincipal returns the client ID and secret of the emulator's
// service principal. Entra ID's token endpoint (POST
// /{tenant}/oauth2/v2.0/token, client credentials) grants tokens for them
// whose oid is the system identity's principal ID, so azidentity's
// ClientSecretCredential (with the emulator as authority host) acts as the
// same principal as the managed identity endpoint without a selector. The
// authority /adfs serves the same credentials (az login --service-principal
// with a cloud whose activeDirectory endpoint ends in /adfs).
func (e *Engine) ServicePrincipal() (clientID, clientSecret string) {
	return e.cfg.ClientID, e.cfg.ClientSecret
}

// serveUnauthenticated serves the routes Azure serves without a bearer
// token, and Microsoft Graph (which checks its own audience). It reports
// whether it served the request.
func (e *Engine) serveUnauthenticated(w http.ResponseWriter, r *http.Request) bool {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	ls := make([]string, len(segs))
	for i, s := range segs {
		ls[i] = strings.ToLower(s)
	}
	n := len(ls)
	switch {
	case n == 2 && ls[0] == "metadata" && ls[1] == "endpoints":
		e.serveMetadata(w, r)
	case n >= 1 && (ls[0] == "v1.0" || ls[0] == "beta"):
		e.serveGraph(w, r, segs[1:])
	case n == 3 && ls[0] == "common" && ls[1] == "discovery" && ls[2] == "instance":
		e.serveInstanceDiscovery(w, r)
	case n == 3 && ls[1] == ".well-known" && ls[2] == "openid-configuration",
		n == 4 && ls[1] == "v2.0" && ls[2] == ".well-known" && ls[3] == "openid-configuration":
		e.serveOpenID(w, r, segs[0], n == 4)
	case n == 3 && ls[1] == "oauth2" && ls[2] == "token",
		n == 4 && ls[1] == "oauth2" && ls[2] == "v2.0" && ls[3] == "token":
		e.serveEntraToken(w, r, segs[0], n == 4)
	default:
		return false
	}
	return true
}

// serveMetadata answers GET /metadata/endpoints: the 2015-01-01 object az
// cloud register reads, or (2019-05-01 and later) the list of clouds.
func (e *Engine) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeErr(w, errf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The method %s is not allowed on /metadata/endpoints; use GET.", r.Method))
		return
	}
	base := e.base(r)
	v := r.URL.Query().Get("api-version")
	auth := map[string]any{
		"loginEndpoint":    base + "/",
		"audiences":        []string{"https://management.core.windows.net/", "https://management.azure.com/"},
		"tenant":           "common",
		"identityProvider": "AAD",
	}
	switch v {
	case "2015-01-01":
		writeJSON(w, http.StatusOK, map[string]any{
			"galleryEndpoint": base + "/",
			"graphEndpoint":   base + "/",
			"portalEndpoint":  base + "/",
			"authentication":  auth,
		})
	case "2019-05-01", "2020-06-01", "2022-09-01":
		writeJSON(w, http.StatusOK, []any{map[string]any{
			"name":                     "ShellpoolEmulator",
			"resourceManager":          base + "/",
			"gallery":                  base + "/",
			"graph":                    base + "/",
			"microsoftGraphResourceId": base + "/",
			"portal":                   base + "/",
			"authentication":           auth,
			"suffixes":                 map[string]any{},
		}})
	default:
		writeErr(w, errf(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '2022-09-01,2020-06-01,2019-05-01,2015-01-01'.", v))
	}
}

// knownTenant reports whether an authority's tenant segment names the
// emulator's tenant.
func (e *Engine) knownTenant(t string) bool {
	switch strings.ToLower(t) {
	case strings.ToLower(e.cfg.TenantID), "organizations", "common", "adfs":
		return true
	}
	return false
}

type entraError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
}

func writeEntraErr(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, entraError{
		Error: code, ErrorDescription: "AADSTS" + strconv.Itoa(aadsts) + ": " + msg,
		ErrorCodes: []int{aadsts}, Timestamp: time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		TraceID: uuid.NewString(), CorrelationID: uuid.NewString(),
	})
}

func (e *Engine) tenantNotFound(w http.ResponseWriter, t string) {
	writeEntraErr(w, http.StatusBadRequest, "invalid_tenant", 90002,
		"Tenant '"+t+"' not found. Use the emulator's tenant ID "+e.cfg.TenantID+" (Server.TenantID) as the tenant.")
}

// serveInstanceDiscovery answers MSAL's instance discovery for the
// emulator's host.
func (e *Engine) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	base := e.base(r)
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	tenant := e.cfg.TenantID
	if u, err := url.Parse(r.URL.Query().Get("authorization_endpoint")); err == nil {
		if t, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/"); t != "" {
			tenant = t
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": base + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []any{map[string]any{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

// serveOpenID answers OpenID Connect discovery for the tenant (v2 when v2).
func (e *Engine) serveOpenID(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if r.Method != http.MethodGet {
		writeEntraErr(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET requests.")
		return
	}
	if !e.knownTenant(tenant) {
		e.tenantNotFound(w, tenant)
		return
	}
	base := e.base(r) + "/" + tenant
	ver, issuer := "", "https://sts.windows.net/"+e.cfg.TenantID+"/"
	if v2 {
		ver, issuer = "/v2.0", e.base(r)+"/"+e.cfg.TenantID+"/v2.0"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2" + ver + "/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"authorization_endpoint":                base + "/oauth2" + ver + "/authorize",
		"device_authorization_endpoint":         base + "/oauth2" + ver + "/devicecode",
		"end_session_endpoint":                  base + "/oauth2" + ver + "/logout",
		"jwks_uri":                              base + "/discovery" + ver + "/keys",
		"issuer":                                issuer,
		"response_types_supported":              []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"HS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"grant_types_supported":                 []string{"client_credentials"},
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "shellpool.emulator",
	})
}

// serveEntraToken is Entra ID's token endpoint for the client credentials
// grant with a client secret (v2: scope=AUD/.default; v1: resource=AUD).
// The tenant "adfs" serves the ADFS form of the authority, which MSAL
// clients (the Azure CLI) use without asking login.microsoftonline.com
// about it: scope is accepted there too, and expires_in is a number.
func (e *Engine) serveEntraToken(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if r.Method != http.MethodPost {
		writeEntraErr(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests; send the form body of an OAuth 2.0 token request.")
		return
	}
	if !strings.EqualFold(tenant, e.cfg.TenantID) && !strings.EqualFold(tenant, "adfs") {
		if e.knownTenant(tenant) {
			writeEntraErr(w, http.StatusBadRequest, "invalid_request", 900023,
				"The client credentials grant needs a tenant: use /"+e.cfg.TenantID+"/ instead of /"+tenant+"/.")
			return
		}
		e.tenantNotFound(w, tenant)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeEntraErr(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded: "+err.Error())
		return
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		writeEntraErr(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '"+gt+"'. The emulator grants client_credentials with a client secret only.")
		return
	}
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, secret = u, p
	}
	if clientID == "" {
		writeEntraErr(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the parameter 'client_id'.")
		return
	}
	if !strings.EqualFold(clientID, e.cfg.ClientID) {
		writeEntraErr(w, http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '"+clientID+"' was not found in the directory '"+e.cfg.TenantID+"'. Use the client ID of the emulator's service principal (Server.ServicePrincipal).")
		return
	}
	if f.Get("client_assertion") != "" && secret == "" {
		writeEntraErr(w, http.StatusUnauthorized, "invalid_client", 700027, "Client assertions are not supported by the emulator; send client_secret.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(e.cfg.ClientSecret)) != 1 {
		writeEntraErr(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value of the emulator's service principal (Server.ServicePrincipal).")
		return
	}
	var aud string
	if v2 {
		scopes := strings.Fields(f.Get("scope"))
		for _, s := range scopes {
			if strings.HasSuffix(s, "/.default") {
				aud = strings.TrimSuffix(s, "/.default")
				break
			}
		}
		if aud == "" {
			writeEntraErr(w, http.StatusBadRequest, "invalid_scope", 1002012,
				"The provided value for scope '"+f.Get("scope")+"' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
			return
		}
	} else {
		aud = strings.TrimSuffix(f.Get("resource"), "/.default")
		if aud == "" { // ADFS clients (MSAL with an /adfs authority) send scope
			for _, s := range strings.Fields(f.Get("scope")) {
				if strings.HasSuffix(s, "/.default") {
					aud = strings.TrimSuffix(s, "/.default")
				}
			}
		}
		if aud == "" {
			writeEntraErr(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the parameter 'resource'.")
			return
		}
	}
	now := time.Now()
	exp := now.Add(entraTokenLifetime)
	tok := e.mintToken(aud, e.system, now, exp)
	w.Header().Set("Cache-Control", "no-store")
	secs := int64(entraTokenLifetime / time.Second)
	if v2 || strings.EqualFold(tenant, "adfs") { // ADFS answers numbers, as v2 does
		if !v2 {
			writeJSON(w, http.StatusOK, map[string]any{
				"token_type": "Bearer", "expires_in": secs, "resource": aud, "access_token": tok,
			})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": strconv.FormatInt(secs, 10), "ext_expires_in": strconv.FormatInt(secs, 10),
		"expires_on": strconv.FormatInt(exp.Unix(), 10), "not_before": strconv.FormatInt(now.Unix(), 10),
		"resource": aud, "access_token": tok,
	})
}

// mintToken signs an access token for the identity and audience.
func (e *Engine) mintToken(aud string, id Identity, now, exp time.Time) string {
	return jwt.Sign(e.cfg.SigningKey, jwt.Claims{
		Audience:  aud,
		ObjectID:  id.PrincipalID,
		Subject:   id.PrincipalID,
		TenantID:  id.TenantID,
		AppID:     id.ClientID,
		Issuer:    "https://sts.windows.net/" + id.TenantID + "/",
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: exp,
	})
}

// --- subscriptions and tenants ---

func (e *Engine) subscriptionBody(sub string) map[string]any {
	return map[string]any{
		"id":                   "/subscriptions/" + sub,
		"subscriptionId":       sub,
		"tenantId":             e.cfg.TenantID,
		"displayName":          "Shellpool emulator",
		"state":                "Enabled",
		"authorizationSource":  "RoleBased",
		"managedByTenants":     []any{},
		"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
	}
}

// subscriptions lists Config.SubscriptionID and every subscription a
// resource group or pool lives in. The caller holds e.mu.
func (e *Engine) subscriptions() []string {
	seen := map[string]bool{strings.ToLower(e.cfg.SubscriptionID): true}
	subs := []string{e.cfg.SubscriptionID}
	add := func(s string) {
		if !seen[strings.ToLower(s)] {
			seen[strings.ToLower(s)] = true
			subs = append(subs, s)
		}
	}
	for _, k := range sortedKeys(e.rgs) {
		add(e.rgs[k].sub)
	}
	for _, k := range sortedKeys(e.pools) {
		add(e.pools[k].sub)
	}
	return subs
}

func (e *Engine) serveSubscriptionList(q *req) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	e.mu.Lock()
	subs := e.subscriptions()
	e.mu.Unlock()
	items := make([]any, 0, len(subs))
	for _, s := range subs {
		items = append(items, e.subscriptionBody(s))
	}
	e.writePage(q, items)
	return nil
}

func (e *Engine) serveSubscription(q *req, sub string) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	e.mu.Lock()
	subs := e.subscriptions()
	e.mu.Unlock()
	for _, s := range subs {
		if strings.EqualFold(s, sub) {
			writeJSON(q.w, http.StatusOK, e.subscriptionBody(s))
			return nil
		}
	}
	return errf(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found. The emulator serves subscription %s and those its resource groups live in.", sub, e.cfg.SubscriptionID)
}

func (e *Engine) serveTenants(q *req) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	e.writePage(q, []any{map[string]any{
		"id": "/tenants/" + e.cfg.TenantID, "tenantId": e.cfg.TenantID, "tenantCategory": "Home",
		"displayName": "Shellpool emulator", "defaultDomain": "shellpool.emulator", "domains": []string{"shellpool.emulator"}, "tenantType": "AAD",
	}})
	return nil
}
