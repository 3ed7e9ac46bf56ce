package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmulatorRun(t *testing.T) {
	s, err := loadSettings([]string{"-emulator", "-users", "5", "-commands", "2"}, func(string) string { return "" })
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), s, &out))
	text := out.String()
	t.Log(text)
	assert.Regexp(t, `^Using the built-in emulator at https://127\.0\.0\.1:\d+ with pools eastpool and westpool of 3 slots each\n`, text)
	for u := 1; u <= 5; u++ {
		for k := 1; k <= 2; k++ {
			// Each user sees only their own notes (1 or 2, depending on
			// whether their session was kept between the commands).
			assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(`(?m)^user%d command %d on (east|west)pool after waiting \S+: [12] note\(s\), all by user%d$`, u, k, u)), text)
		}
	}
	assert.Regexp(t, `(?m)^Reaper: listed \d+ sessions, deleted [1-9]\d* of this service's \(one leaked by the crashed run\), left 1 foreign one\(s\) untouched$`, text)
	assert.NotContains(t, text, "multiuser-0-", "no session identifier is printed")
}

func TestFailsClosedWithoutSettings(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	_, err := loadSettings(nil, getenv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pass -emulator")
	for _, want := range []string{"AZURE_SUBSCRIPTION_ID", "SHELLPOOL_RESOURCE_GROUP", "SHELLPOOL_POOLS", "SHELLPOOL_FLEET_KEY"} {
		assert.Contains(t, err.Error(), want)
	}
	env["AZURE_SUBSCRIPTION_ID"] = "11111111-2222-3333-4444-555555555555"
	env["SHELLPOOL_RESOURCE_GROUP"] = "rg"
	env["SHELLPOOL_POOLS"] = "a, b"
	env["SHELLPOOL_FLEET_KEY"] = "00ff"
	_, err = loadSettings(nil, getenv)
	require.Error(t, err, "a short key is refused")
	assert.Contains(t, err.Error(), "openssl rand -hex 32")
	env["SHELLPOOL_FLEET_KEY"] = strings.Repeat("ab", 32)
	s, err := loadSettings(nil, getenv)
	require.NoError(t, err)
	assert.False(t, s.emulator)
	assert.Equal(t, []string{"a", "b"}, s.pools)
}
