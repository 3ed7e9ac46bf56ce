package armemu

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

const identityType = "Microsoft.ManagedIdentity/userAssignedIdentities"

// Identity is a user-assigned managed identity of the emulator.
type Identity struct {
	// ID is the identity's ARM resource ID (empty for the system-assigned
	// identity).
	ID string
	// SubscriptionID, ResourceGroup, Name and Location are where the
	// identity lives and what it is called.
	SubscriptionID string
	ResourceGroup  string
	Name           string
	Location       string
	// PrincipalID is the object ID: the value role assignments name and the
	// oid claim of the identity's tokens.
	PrincipalID string
	// ClientID selects the identity at the token endpoint (client_id=).
	ClientID string
	// TenantID is the directory the identity belongs to.
	TenantID string
	// Created is when the identity was created; role assignments naming it
	// fail with PrincipalNotFound until Config.PrincipalNotFoundFor has passed.
	Created time.Time
}

type identity struct {
	Identity
	tags any
}

func identityID(sub, rg, name string) string {
	return "/subscriptions/" + sub + "/resourcegroups/" + rg + "/providers/" + identityType + "/" + name
}

func (e *Engine) identityBody(id *identity, apiVersion string) map[string]any {
	props := map[string]any{"tenantId": id.TenantID, "principalId": id.PrincipalID, "clientId": id.ClientID}
	if apiVersion >= "2024-11-30" { // isolationScope came with 2024-11-30
		props["isolationScope"] = "None"
	}
	b := map[string]any{
		"id": id.ID, "name": id.Name, "type": identityType, "location": id.Location, "properties": props,
	}
	if id.tags != nil {
		b["tags"] = id.tags
	}
	return b
}

var identityNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`)

// CreateIdentity creates (or returns the existing) user-assigned identity,
// creating the resource group when missing. Use it to seed the emulator.
func (e *Engine) CreateIdentity(sub, rg, name, location string) Identity {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureRG(sub, rg, location)
	id, _ := e.putIdentity(sub, rg, name, location, nil)
	return id.Identity
}

// SystemIdentity returns the emulator's system-assigned identity: the one
// the token endpoint issues tokens for when no client_id, principal_id,
// object_id or mi_res_id selects a user-assigned identity.
func (e *Engine) SystemIdentity() Identity { return e.system }

// putIdentity creates or updates an identity; the caller holds e.mu and has
// checked the resource group.
func (e *Engine) putIdentity(sub, rg, name, location string, tags any) (*identity, bool) {
	k := key(sub, rg, name)
	if id := e.idents[k]; id != nil {
		if tags != nil {
			id.tags = tags
		}
		return id, false
	}
	id := &identity{Identity: Identity{
		ID: identityID(sub, rg, name), SubscriptionID: sub, ResourceGroup: rg, Name: name, Location: location,
		PrincipalID: uuid.NewString(), ClientID: uuid.NewString(), TenantID: e.cfg.TenantID, Created: e.cfg.Now(),
	}, tags: tags}
	e.idents[k] = id
	return id, true
}

func (e *Engine) createIdentityChecked(sub, rg, name string, body map[string]any) (*identity, bool, *armError) {
	if !identityNameRE.MatchString(name) {
		return nil, false, &armError{Status: http.StatusBadRequest, Code: "InvalidResourceName", Target: "name",
			Message: "The identity name '" + name + "' is invalid: use 3-128 letters, digits, '-' or '_', starting with a letter or digit."}
	}
	if e.rgs[key(sub, rg)] == nil {
		return nil, false, e.rgNotFound(rg)
	}
	location, _ := lookupString(body, "location")
	if strings.TrimSpace(location) == "" {
		return nil, false, &armError{Status: http.StatusBadRequest, Code: "LocationRequired", Target: "location", Message: "The location property is required for this definition."}
	}
	tags, _ := lookup(body, "tags")
	id, created := e.putIdentity(sub, rg, name, location, tags)
	return id, created, nil
}

func (e *Engine) serveIdentity(q *req, sub, rg, name string) *armError {
	k := key(sub, rg, name)
	switch q.r.Method {
	case http.MethodPut:
		var body map[string]any
		if err := decodeBody(q.r, &body); err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		id, created, err := e.createIdentityChecked(sub, rg, name, body)
		if err != nil {
			return err
		}
		writeJSON(q.w, putStatus(created), e.identityBody(id, q.apiVersion))
		return nil
	case http.MethodPatch:
		var body map[string]any
		if err := decodeBody(q.r, &body); err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		id := e.idents[k]
		if id == nil {
			return identityNotFound(name)
		}
		if tags, ok := lookup(body, "tags"); ok {
			id.tags = tags
		}
		writeJSON(q.w, http.StatusOK, e.identityBody(id, q.apiVersion))
		return nil
	case http.MethodGet:
		e.mu.Lock()
		defer e.mu.Unlock()
		id := e.idents[k]
		if id == nil {
			return identityNotFound(name)
		}
		writeJSON(q.w, http.StatusOK, e.identityBody(id, q.apiVersion))
		return nil
	case http.MethodDelete:
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.idents[k] == nil {
			q.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		delete(e.idents, k)
		q.w.WriteHeader(http.StatusOK)
		return nil
	}
	return methodNotAllowed(q)
}

func identityNotFound(name string) *armError {
	return errf(http.StatusNotFound, "ResourceNotFound", "The Resource '%s/%s' was not found.", identityType, name)
}

func (e *Engine) serveIdentityList(q *req, sub, rg string) *armError {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rgs[key(sub, rg)] == nil {
		return e.rgNotFound(rg)
	}
	var items []any
	for _, k := range sortedKeys(e.idents) {
		id := e.idents[k]
		if strings.EqualFold(id.SubscriptionID, sub) && strings.EqualFold(id.ResourceGroup, rg) {
			items = append(items, e.identityBody(id, q.apiVersion))
		}
	}
	e.writePage(q, items)
	return nil
}

// identityByResourceID finds an identity by its resource ID; the caller holds e.mu.
func (e *Engine) identityByResourceID(rid string) *identity {
	for _, id := range e.idents {
		if strings.EqualFold(id.ID, strings.TrimRight(rid, "/")) {
			return id
		}
	}
	return nil
}

// identityBy finds an identity by principal (object) ID or client ID; the
// caller holds e.mu.
func (e *Engine) identityBy(principalID, clientID string) *identity {
	for _, id := range e.idents {
		if principalID != "" && strings.EqualFold(id.PrincipalID, principalID) ||
			clientID != "" && strings.EqualFold(id.ClientID, clientID) {
			return id
		}
	}
	return nil
}
