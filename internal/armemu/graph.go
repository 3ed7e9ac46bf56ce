package armemu

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/jwt"
)

// Microsoft Graph: the minimal part az role assignment create/list use to
// resolve principals. The directory holds the emulator's own service
// principal (the system identity) and its user-assigned identities.

// graphAudiences are the Graph audiences accepted besides the emulator's own
// base URL (what az cloud register's microsoftGraphResourceId names).
var graphAudiences = map[string]bool{
	"https://graph.microsoft.com":          true,
	"00000003-0000-0000-c000-000000000000": true,
}

func writeGraphErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format(time.RFC3339)},
	}})
}

func (e *Engine) graphAuthenticate(r *http.Request) (status int, code, msg string) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty: send Authorization: Bearer <token for Microsoft Graph>."
	}
	c, err := jwt.Verify(e.cfg.SigningKey, strings.TrimSpace(tok))
	if err != nil {
		return http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure: " + err.Error() + "."
	}
	aud := strings.TrimRight(c.Audience, "/")
	if !graphAudiences[aud] && !strings.EqualFold(aud, strings.TrimRight(e.base(r), "/")) {
		return http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience: request a token for https://graph.microsoft.com or for the emulator's URL."
	}
	if !time.Now().Before(c.ExpiresAt) {
		return http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired: get a new token."
	}
	return 0, "", ""
}

// directoryObject is one service principal in the emulator's directory.
type directoryObject struct {
	id, appID, name, spType string
	names                   []string
	alternative             []string
}

func (o directoryObject) body(withType bool) map[string]any {
	b := map[string]any{
		"id": o.id, "appId": o.appID, "displayName": o.name, "accountEnabled": true,
		"servicePrincipalNames": o.names, "servicePrincipalType": o.spType,
		"alternativeNames": o.alternative, "appOwnerOrganizationId": nil,
	}
	if withType {
		b["@odata.type"] = "#microsoft.graph.servicePrincipal"
	}
	return b
}

// directory lists the principals the emulator knows. The caller holds e.mu.
func (e *Engine) directory() []directoryObject {
	objs := []directoryObject{{
		id: e.system.PrincipalID, appID: e.system.ClientID, name: "shellpool-emulator",
		spType: "Application", names: []string{e.system.ClientID}, alternative: []string{},
	}}
	for _, k := range sortedKeys(e.idents) {
		id := e.idents[k]
		objs = append(objs, directoryObject{
			id: id.PrincipalID, appID: id.ClientID, name: id.Name, spType: "ManagedIdentity",
			names: []string{id.ClientID, "https://identity.azure.net/" + id.ClientID}, alternative: []string{"isExplicit=True", id.ID},
		})
	}
	return objs
}

var (
	spnFilterRE    = regexp.MustCompile(`(?i)^servicePrincipalNames/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'([^']*)'\s*\)$`)
	fieldFilterRE  = regexp.MustCompile(`(?i)^(id|appId|displayName|userPrincipalName)\s+eq\s+'([^']*)'$`)
	startsFilterRE = regexp.MustCompile(`(?i)^startswith\(\s*displayName\s*,\s*'([^']*)'\s*\)$`)
)

// serveGraph serves GET /v1.0/servicePrincipals[?$filter=...],
// /v1.0/servicePrincipals/{id}, /v1.0/users?$filter=... (no users) and
// POST /v1.0/directoryObjects/getByIds.
func (e *Engine) serveGraph(w http.ResponseWriter, r *http.Request, segs []string) {
	if status, code, msg := e.graphAuthenticate(r); status != 0 {
		writeGraphErr(w, status, code, msg)
		return
	}
	ls := make([]string, len(segs))
	for i, s := range segs {
		ls[i] = strings.ToLower(s)
	}
	ctx := "https://graph.microsoft.com/v1.0/$metadata#"
	switch {
	case len(ls) == 1 && (ls[0] == "serviceprincipals" || ls[0] == "users"):
		if r.Method != http.MethodGet {
			writeGraphErr(w, http.StatusMethodNotAllowed, "Request_BadRequest", "The emulator serves GET on /"+segs[0]+" only.")
			return
		}
		match, err := graphFilter(r.URL.Query().Get("$filter"))
		if err != "" {
			writeGraphErr(w, http.StatusBadRequest, "Request_UnsupportedQuery", err)
			return
		}
		items := []any{}
		if ls[0] == "serviceprincipals" {
			e.mu.Lock()
			for _, o := range e.directory() {
				if match(o) {
					items = append(items, o.body(false))
				}
			}
			e.mu.Unlock()
		}
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": ctx + segs[0], "value": items})
	case len(ls) == 2 && ls[0] == "serviceprincipals":
		if r.Method != http.MethodGet {
			writeGraphErr(w, http.StatusMethodNotAllowed, "Request_BadRequest", "The emulator serves GET on /servicePrincipals/{id} only.")
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, o := range e.directory() {
			if strings.EqualFold(o.id, segs[1]) {
				b := o.body(false)
				b["@odata.context"] = ctx + "servicePrincipals/$entity"
				writeJSON(w, http.StatusOK, b)
				return
			}
		}
		writeGraphErr(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+segs[1]+"' does not exist or one of its queried reference-property objects are not present.")
	case len(ls) == 2 && ls[0] == "directoryobjects" && ls[1] == "getbyids":
		if r.Method != http.MethodPost {
			writeGraphErr(w, http.StatusMethodNotAllowed, "Request_BadRequest", "getByIds takes POST with {\"ids\": [...]}.")
			return
		}
		var body struct {
			IDs   []string `json:"ids"`
			Types []string `json:"types"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			writeGraphErr(w, http.StatusBadRequest, "Request_BadRequest", "The body must be JSON {\"ids\": [...]}: "+err.Error())
			return
		}
		if len(body.IDs) > 1000 {
			writeGraphErr(w, http.StatusBadRequest, "Request_BadRequest", "You can specify up to 1000 IDs; split the request.")
			return
		}
		wantSP := len(body.Types) == 0
		for _, t := range body.Types {
			if strings.EqualFold(strings.TrimPrefix(t, "#microsoft.graph."), "servicePrincipal") || strings.EqualFold(t, "directoryObject") {
				wantSP = true
			}
		}
		items := []any{}
		e.mu.Lock()
		dir := e.directory()
		e.mu.Unlock()
		for _, id := range body.IDs {
			for _, o := range dir {
				if wantSP && strings.EqualFold(o.id, id) {
					items = append(items, o.body(true))
				}
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": ctx + "directoryObjects", "value": items})
	default:
		writeGraphErr(w, http.StatusNotFound, "Request_ResourceNotFound", "The emulator's Microsoft Graph serves GET /v1.0/servicePrincipals, GET /v1.0/servicePrincipals/{id} and POST /v1.0/directoryObjects/getByIds; not "+r.Method+" "+r.URL.Path+".")
	}
}

// graphFilter parses the $filter forms the Azure CLI sends.
func graphFilter(f string) (func(directoryObject) bool, string) {
	f = strings.TrimSpace(f)
	switch {
	case f == "":
		return func(directoryObject) bool { return true }, ""
	case spnFilterRE.MatchString(f):
		m := spnFilterRE.FindStringSubmatch(f)
		if !strings.EqualFold(m[1], m[2]) {
			break
		}
		return func(o directoryObject) bool {
			for _, n := range o.names {
				if strings.EqualFold(n, m[3]) {
					return true
				}
			}
			return false
		}, ""
	case fieldFilterRE.MatchString(f):
		m := fieldFilterRE.FindStringSubmatch(f)
		return func(o directoryObject) bool {
			switch strings.ToLower(m[1]) {
			case "id":
				return strings.EqualFold(o.id, m[2])
			case "appid":
				return strings.EqualFold(o.appID, m[2])
			case "displayname":
				return o.name == m[2]
			}
			return false // userPrincipalName: service principals have none
		}, ""
	case startsFilterRE.MatchString(f):
		p := strings.ToLower(startsFilterRE.FindStringSubmatch(f)[1])
		return func(o directoryObject) bool { return strings.HasPrefix(strings.ToLower(o.name), p) }, ""
	}
	return nil, "The filter '" + f + "' is not supported by the emulator: use servicePrincipalNames/any(c:c eq '...'), id, appId or displayName eq '...', or startswith(displayName,'...')."
}
