package fleet_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
)

// goldenID is the identifier of goldenUser under testKey, epoch 7. It was
// computed once (and matches an independent computation with Python's hmac
// module); if it changes, identifiers changed across versions and
// every deployed user would lose their session.
const goldenID = "spf-7-1cae7c614c1b6772d039b5de02cf4d4cd68d953c85b12ef7"

var goldenUser = fleet.User{Tenant: "acme", ID: "alice", Purpose: "shell"}

func TestIDsAreStableAcrossProcesses(t *testing.T) {
	t.Parallel()
	ids := fleet.IDs{Key: testKey, Epoch: 7}
	id, err := ids.ID(goldenUser)
	require.NoError(t, err)
	assert.Equal(t, goldenID, id, "same key, epoch and user give the same identifier in every process and version")
	again := fleet.IDs{Key: bytes.Clone(testKey), Epoch: 7}
	id2, err := again.ID(goldenUser)
	require.NoError(t, err)
	assert.Equal(t, id, id2)
}

func TestIDsDifferForEveryOtherInput(t *testing.T) {
	t.Parallel()
	base := fleet.IDs{Key: testKey, Epoch: 7}
	otherKey := bytes.Repeat([]byte{0x5b}, 32)
	cases := []struct {
		name string
		ids  fleet.IDs
		u    fleet.User
	}{
		{"base", base, goldenUser},
		{"other key", fleet.IDs{Key: otherKey, Epoch: 7}, goldenUser},
		{"other epoch", fleet.IDs{Key: testKey, Epoch: 8}, goldenUser},
		{"other prefix", fleet.IDs{Key: testKey, Epoch: 7, Prefix: "svc2"}, goldenUser},
		{"other tenant", base, fleet.User{Tenant: "acme2", ID: "alice", Purpose: "shell"}},
		{"other user", base, fleet.User{Tenant: "acme", ID: "alicf", Purpose: "shell"}},
		{"other purpose", base, fleet.User{Tenant: "acme", ID: "alice", Purpose: "build"}},
		{"no tenant", base, fleet.User{ID: "alice", Purpose: "shell"}},
		{"no purpose", base, fleet.User{Tenant: "acme", ID: "alice"}},
		// Field boundaries are encoded: moving characters between fields
		// changes the identifier.
		{"shifted 1", base, fleet.User{Tenant: "acmea", ID: "lice", Purpose: "shell"}},
		{"shifted 2", base, fleet.User{Tenant: "acme", ID: "aliceshell"}},
		{"shifted 3", base, fleet.User{Tenant: "", ID: "acmealice", Purpose: "shell"}},
	}
	seen := map[string]string{}
	for _, c := range cases {
		id, err := c.ids.ID(c.u)
		require.NoError(t, err, c.name)
		require.NoError(t, sessions.ValidateSessionID(id), "%s: %s", c.name, sessions.RedactSessionID(id))
		assert.Regexp(t, `^[A-Za-z0-9]+-[0-9]+-[0-9a-f]{48}$`, id, "letters, digits and '-' only: valid under every documented identifier rule")
		if prev, dup := seen[id]; dup {
			t.Errorf("%s and %s give the same identifier", prev, c.name)
		}
		seen[id] = c.name
	}
}

func TestIDsOwnsOnlyItsOwn(t *testing.T) {
	t.Parallel()
	old := bytes.Repeat([]byte{0x11}, 32)
	prev := fleet.IDs{Key: old, Epoch: 3}
	ids := fleet.IDs{Key: testKey, Epoch: 4, RetiredKeys: [][]byte{old}}
	mine, err := ids.ID(goldenUser)
	require.NoError(t, err)
	retired, err := prev.ID(goldenUser)
	require.NoError(t, err)
	otherEpoch, err := (&fleet.IDs{Key: testKey, Epoch: 99}).ID(goldenUser)
	require.NoError(t, err)
	assert.True(t, ids.Owns(mine))
	assert.True(t, ids.Owns(retired), "identifiers of a retired key stay recognised, so the reaper cleans them up")
	assert.True(t, ids.Owns(otherEpoch), "every epoch is recognised")

	foreignKey, err := (&fleet.IDs{Key: bytes.Repeat([]byte{0x22}, 32)}).ID(goldenUser)
	require.NoError(t, err)
	tampered := []byte(mine)
	tampered[len(tampered)-10] ^= 1
	for name, id := range map[string]string{
		"uuid":         sessions.NewSessionID(),
		"same prefix":  "spf-0-" + strings.Repeat("ab", 24),
		"another key":  foreignKey,
		"tampered":     string(tampered),
		"other prefix": strings.Replace(mine, "spf-", "spg-", 1),
		"leading zero": strings.Replace(mine, "-4-", "-04-", 1),
		"truncated":    mine[:len(mine)-1],
		"empty":        "",
		"prefix only":  "spf-",
	} {
		assert.False(t, ids.Owns(id), name)
	}
}

func TestIDsRefuseBadConfiguration(t *testing.T) {
	t.Parallel()
	for name, ids := range map[string]fleet.IDs{
		"short key":         {Key: []byte("short")},
		"prefix with dash":  {Key: testKey, Prefix: "a-b"},
		"prefix too long":   {Key: testKey, Prefix: strings.Repeat("a", 17)},
		"prefix underscore": {Key: testKey, Prefix: "a_b"},
		"short retired key": {Key: testKey, RetiredKeys: [][]byte{{1}}},
	} {
		_, err := ids.ID(goldenUser)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument, name)
	}
	_, err := (&fleet.IDs{Key: testKey}).ID(fleet.User{Tenant: "t"})
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "a user needs an ID")
	assert.EqualError(t, err, "fleet: invalid User.ID: is empty; pass the user's stable identifier in your service")
}
