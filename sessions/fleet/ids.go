package fleet

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// DefaultPrefix is the prefix of the session identifiers IDs makes when
// IDs.Prefix is empty.
const DefaultPrefix = "spf"

// MinKeyLen is the shortest key IDs accepts, in bytes. Use 32 random bytes.
const MinKeyLen = 16

const (
	bodyBytes  = 20 // 160 bits of the keyed hash: unguessable, collision-free in practice
	checkBytes = 4  // tag that lets Owns recognise identifiers made with the key
	maxPrefix  = 16
	maxReplica = 64
)

// User names who a session belongs to. Two Users get the same session
// identifier exactly when all three fields are equal.
type User struct {
	// Tenant is the customer or organisation; it may be empty.
	Tenant string
	// ID is the user's stable identifier in your service (required).
	ID string
	// Purpose separates sessions of one user, such as "shell" and "build";
	// it may be empty. Calls with different purposes can run in parallel.
	Purpose string
}

// String returns a loggable form of the user (the fields, not the session
// identifier, which is a secret).
func (u User) String() string {
	return fmt.Sprintf("fleet.User{Tenant:%q ID:%q Purpose:%q}", u.Tenant, u.ID, u.Purpose)
}

// IDs derives session identifiers from a key that only your service holds,
// so that each (tenant, user, purpose) always lands in its own session and
// nobody without the key can guess another user's identifier.
//
// An identifier has the form
//
//	{Prefix}-{Epoch}-{40 hex digits of HMAC-SHA256}{8 hex digits of check}
//
// for example "spf-0-3f1c…9a02e4b7c1" (54 characters for epoch 0). It uses
// only lower-case letters, digits and '-', so it satisfies every identifier
// rule the service documents (API.md §1.3, sessions.ValidateSessionID). The
// hash covers the epoch, the three User fields and Replica (when set) with unambiguous
// (length-prefixed) encoding; the check covers the prefix, the epoch and
// the hash, so Owns recognises this layer's identifiers without a table and
// never mistakes a foreign identifier that merely shares the prefix.
//
// Rotation: change Epoch (for example monthly) to give every user a fresh
// identifier; change Key (moving the old one to RetiredKeys) when a key may
// have leaked. Identifiers made with a retired key or another epoch are
// still recognised by Owns, so the reaper can delete them.
type IDs struct {
	// Key is the secret the identifiers are derived from: at least
	// MinKeyLen bytes, ideally 32 random bytes kept in a secret store.
	Key []byte
	// Epoch is mixed into every identifier; changing it rotates them all.
	Epoch uint32
	// Prefix starts every identifier: 1 to 16 lower-case letters and
	// digits. Default DefaultPrefix. Give each service its own prefix.
	Prefix string
	// RetiredKeys are former keys: Owns still recognises identifiers made
	// with them (so the reaper cleans them up); ID never uses them.
	RetiredKeys [][]byte
	// Replica, when set, is mixed into every identifier, so that fleets
	// with the same key but different replicas never share a session (see
	// "Running several replicas" in the package doc). Owns recognises the
	// identifiers of every replica. Give each replica of a service a stable
	// name (such as its pod name) to find its sessions again after a
	// restart; New picks a random one when it is empty. At most 64 bytes.
	Replica string
}

func (ids *IDs) prefix() string {
	if ids.Prefix == "" {
		return DefaultPrefix
	}
	return ids.Prefix
}

// validate reports a configuration error as a *sessions.ArgumentError.
func (ids *IDs) validate() error {
	if len(ids.Key) < MinKeyLen {
		return argumentError("IDs.Key", fmt.Sprintf("has %d bytes; use at least %d (32 random bytes from crypto/rand, kept secret)", len(ids.Key), MinKeyLen))
	}
	for i, k := range ids.RetiredKeys {
		if len(k) < MinKeyLen {
			return argumentError(fmt.Sprintf("IDs.RetiredKeys[%d]", i), fmt.Sprintf("has %d bytes; a key has at least %d", len(k), MinKeyLen))
		}
	}
	p := ids.prefix()
	if len(p) > maxPrefix {
		return argumentError("IDs.Prefix", fmt.Sprintf("has %d characters; use 1 to %d letters and digits", len(p), maxPrefix))
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' {
			return argumentError("IDs.Prefix", fmt.Sprintf("has the upper-case letter %q at byte %d; use lower-case letters and digits (identifiers are lower-case, like the UUIDs the service's tools make)", c, i))
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return argumentError("IDs.Prefix", fmt.Sprintf("has %q at byte %d; use only lower-case letters and digits (the identifier rules allow no other character everywhere)", c, i))
		}
	}
	if len(ids.Replica) > maxReplica {
		return argumentError("IDs.Replica", fmt.Sprintf("has %d bytes; use at most %d (a pod or host name)", len(ids.Replica), maxReplica))
	}
	return nil
}

// ID returns the session identifier of u. It fails with a
// *sessions.ArgumentError if the IDs are misconfigured or u.ID is empty.
// The result is a secret: log sessions.RedactSessionID of it, if anything.
func (ids *IDs) ID(u User) (string, error) {
	if err := ids.validate(); err != nil {
		return "", err
	}
	if u.ID == "" {
		return "", argumentError("User.ID", "is empty; pass the user's stable identifier in your service")
	}
	return ids.make(ids.Key, u), nil
}

func (ids *IDs) make(key []byte, u User) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("shellpool/fleet id v1\x00"))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], ids.Epoch)
	m.Write(b[:])
	fields := []string{u.Tenant, u.ID, u.Purpose}
	if ids.Replica != "" {
		// Only when set, so that identifiers without a replica stay what
		// they were.
		fields = append(fields, "replica", ids.Replica)
	}
	for _, f := range fields {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	body := hex.EncodeToString(m.Sum(nil)[:bodyBytes])
	head := ids.prefix() + "-" + strconv.FormatUint(uint64(ids.Epoch), 10) + "-"
	return head + body + check(key, head, body)
}

func check(key []byte, head, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("shellpool/fleet check v1\x00"))
	m.Write([]byte(head))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil)[:checkBytes])
}

// Owns reports whether id was made by IDs with this prefix and the current
// key or a retired one, in any epoch. The reaper deletes only sessions
// whose identifier Owns recognises.
func (ids *IDs) Owns(id string) bool {
	p := ids.prefix()
	rest, ok := strings.CutPrefix(id, p+"-")
	if !ok {
		return false
	}
	epoch, tail, ok := strings.Cut(rest, "-")
	if !ok || epoch == "" || len(tail) != 2*(bodyBytes+checkBytes) {
		return false
	}
	if _, err := strconv.ParseUint(epoch, 10, 32); err != nil || (len(epoch) > 1 && epoch[0] == '0') {
		return false
	}
	head := p + "-" + epoch + "-"
	body, tag := tail[:2*bodyBytes], tail[2*bodyBytes:]
	for _, k := range append([][]byte{ids.Key}, ids.RetiredKeys...) {
		if len(k) >= MinKeyLen && hmac.Equal([]byte(check(k, head, body)), []byte(tag)) {
			return true
		}
	}
	return false
}
