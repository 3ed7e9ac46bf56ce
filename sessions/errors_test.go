package sessions_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
)

// TestArgumentErrorIsTheModulesOne: sessions refuses input with the module's
// one ArgumentError, so a check written against pool or identity matches it,
// while its message still names sessions.
func TestArgumentErrorIsTheModulesOne(t *testing.T) {
	t.Parallel()
	assert.Same(t, pool.ErrInvalidArgument, sessions.ErrInvalidArgument)
	assert.Same(t, identity.ErrInvalidArgument, sessions.ErrInvalidArgument)

	err := sessions.ValidateSessionID("abc")
	require.Error(t, err)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.ErrorIs(t, err, pool.ErrInvalidArgument)
	var ae *pool.ArgumentError
	require.ErrorAs(t, err, &ae, "pool's ArgumentError is the same type")
	assert.Equal(t, "sessionID", ae.Name)
	assert.True(t, strings.HasPrefix(err.Error(), "sessions: invalid sessionID: "), err.Error())
	assert.Contains(t, err.Error(), "(use NewSessionID)")
}

// TestServiceErrorText pins the message of a sessions *ServiceError: the
// kind, HTTP status and code, the advice, then the service's answer.
func TestServiceErrorText(t *testing.T) {
	t.Parallel()
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		writeServiceError(rw, http.StatusNotFound, "SessionNotFound")
	})
	_, err := w.client.GetSession(t.Context(), testSessionID, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, sessions.ErrSessionNotFound)
	var se *sessions.ServiceError
	require.ErrorAs(t, err, &se)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	first, rest, ok := strings.Cut(err.Error(), "\n")
	require.True(t, ok, "the service's answer follows on the next line: %q", err.Error())
	assert.Equal(t, "sessions: session not found (HTTP 404 Not Found, SessionNotFound): "+se.Advice, first)
	assert.NotEmpty(t, se.Advice)
	assert.Contains(t, rest, "SessionNotFound")
	assert.NotContains(t, err.Error(), testSessionID)

	// Fields sessions does not set itself still show when a caller sets them.
	withCause := &sessions.ServiceError{Kind: sessions.ErrPoolAtCapacity, Response: re, Cause: context.Canceled}
	assert.ErrorIs(t, withCause, context.Canceled)
	assert.True(t, errors.Is(withCause, sessions.ErrPoolAtCapacity))
}
