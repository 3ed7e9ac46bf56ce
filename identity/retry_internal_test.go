package identity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestPrincipalNotFoundBudgetDefault: the documented default bound applies
// when the option is zero (or negative), and the option widens it.
func TestPrincipalNotFoundBudgetDefault(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 5*time.Minute, DefaultPrincipalNotFoundTimeout, "the documented five minutes")
	assert.Equal(t, DefaultPrincipalNotFoundTimeout, principalNotFoundBudget(nil))
	assert.Equal(t, DefaultPrincipalNotFoundTimeout, principalNotFoundBudget(&AssignRoleOptions{}))
	assert.Equal(t, DefaultPrincipalNotFoundTimeout, principalNotFoundBudget(&AssignRoleOptions{PrincipalNotFoundTimeout: -time.Second}))
	assert.Equal(t, time.Hour, principalNotFoundBudget(&AssignRoleOptions{PrincipalNotFoundTimeout: time.Hour}))
}
