// Package jwt reads and writes the small subset of JSON Web Tokens this module
// needs: reading the claims of an Entra ID access token without verifying it
// (to explain a 401), and minting and verifying the HS256 tokens of the
// emulator in sessions/sessionstest. It is not a general JWT library.
package jwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims are the access-token claims this module looks at. Unknown claims are
// ignored when parsing.
type Claims struct {
	// Audience is the "aud" claim. Entra ID writes a single string; the JSON
	// array form is accepted and its first element kept.
	Audience string `json:"-"`
	// ObjectID is the "oid" claim: the principal's object ID, the value role
	// assignments name as principalId.
	ObjectID string `json:"oid,omitempty"`
	// TenantID is the "tid" claim.
	TenantID string `json:"tid,omitempty"`
	// AppID is the "appid" claim (v1 tokens) or "azp" (v2 tokens).
	AppID string `json:"appid,omitempty"`
	// Subject is the "sub" claim.
	Subject string `json:"sub,omitempty"`
	// Issuer is the "iss" claim.
	Issuer string `json:"iss,omitempty"`
	// ExpiresAt is the "exp" claim.
	ExpiresAt time.Time `json:"-"`
	// NotBefore is the "nbf" claim; zero when absent.
	NotBefore time.Time `json:"-"`
	// IssuedAt is the "iat" claim; zero when absent.
	IssuedAt time.Time `json:"-"`
}

type wireClaims struct {
	Aud   json.RawMessage `json:"aud,omitempty"`
	OID   string          `json:"oid,omitempty"`
	TID   string          `json:"tid,omitempty"`
	AppID string          `json:"appid,omitempty"`
	AZP   string          `json:"azp,omitempty"`
	Sub   string          `json:"sub,omitempty"`
	Iss   string          `json:"iss,omitempty"`
	Exp   json.Number     `json:"exp,omitempty"`
	Nbf   json.Number     `json:"nbf,omitempty"`
	Iat   json.Number     `json:"iat,omitempty"`
}

// ErrMalformed reports a string that is not a JWT in compact serialization.
var ErrMalformed = errors.New("not a JWT: expected three base64url segments separated by dots")

// ErrSignature reports a token whose signature does not verify.
var ErrSignature = errors.New("JWT signature does not verify")

// Parse decodes the claims of a compact JWT without verifying its signature.
// The error never contains the token.
func Parse(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, ErrMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var w wireClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return Claims{}, fmt.Errorf("JWT payload is not a JSON object: %w", ErrMalformed)
	}
	c := Claims{ObjectID: w.OID, TenantID: w.TID, AppID: w.AppID, Subject: w.Sub, Issuer: w.Iss}
	if c.AppID == "" {
		c.AppID = w.AZP
	}
	if len(w.Aud) > 0 {
		var s string
		if json.Unmarshal(w.Aud, &s) == nil {
			c.Audience = s
		} else {
			var list []string
			if json.Unmarshal(w.Aud, &list) == nil && len(list) > 0 {
				c.Audience = list[0]
			}
		}
	}
	c.ExpiresAt = unix(w.Exp)
	c.NotBefore = unix(w.Nbf)
	c.IssuedAt = unix(w.Iat)
	return c, nil
}

func unix(n json.Number) time.Time {
	if n == "" {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// Sign mints an HS256 JWT carrying c, signed with key.
func Sign(key []byte, c Claims) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	w := map[string]any{}
	if c.Audience != "" {
		w["aud"] = c.Audience
	}
	for k, v := range map[string]string{"oid": c.ObjectID, "tid": c.TenantID, "appid": c.AppID, "sub": c.Subject, "iss": c.Issuer} {
		if v != "" {
			w[k] = v
		}
	}
	for k, v := range map[string]time.Time{"exp": c.ExpiresAt, "nbf": c.NotBefore, "iat": c.IssuedAt} {
		if !v.IsZero() {
			w[k] = v.Unix()
		}
	}
	payload, _ := json.Marshal(w) // a map of strings and ints always marshals
	signing := header + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac(key, signing))
}

// Verify checks an HS256 signature made by Sign with key and returns the
// claims. It does not check expiry or audience; callers decide what to accept.
func Verify(key []byte, token string) (Claims, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return Claims{}, ErrMalformed
	}
	c, err := Parse(token)
	if err != nil {
		return Claims{}, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || !hmac.Equal(sig, mac(key, token[:i])) {
		return Claims{}, ErrSignature
	}
	return c, nil
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}
