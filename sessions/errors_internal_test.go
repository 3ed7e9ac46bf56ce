package sessions

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shellpool/shellpool/internal/sdkerr"
)

// TestServiceErrorFormatWithoutResponse: a sessions *ServiceError that holds
// an operation and a cause but no response still reads as sessions' text.
func TestServiceErrorFormatWithoutResponse(t *testing.T) {
	t.Parallel()
	err := sdkerr.NewService(pkgName, "Run", ErrPoolAtCapacity, "delete sessions", nil, context.DeadlineExceeded)
	assert.EqualError(t, err, "sessions: Run: session pool at capacity (maxConcurrentSessions reached); stopped: context deadline exceeded: delete sessions")
	assert.EqualError(t, newServiceErrorOf(nil, "", nil), "sessions: request failed")
	assert.EqualError(t, newArgumentError("cmd", "is empty"), "sessions: invalid cmd: is empty")
}
