package sdkerr

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func responseError(t *testing.T, status int, body string) *azcore.ResponseError {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "https://management.azure.com/x", nil)
	require.NoError(t, err)
	resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}
	var re *azcore.ResponseError
	require.ErrorAs(t, runtime.NewResponseError(resp), &re)
	return re
}

func TestArgumentError(t *testing.T) {
	t.Parallel()
	err := NewArgument("pool", "resourceGroup", "is empty; pass the group's name")
	assert.EqualError(t, err, "pool: invalid resourceGroup: is empty; pass the group's name")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.NotErrorIs(t, err, errors.New("shellpool: invalid argument"), "only the sentinel matches")
	var ae *ArgumentError
	require.ErrorAs(t, error(err), &ae)
	assert.Equal(t, "resourceGroup", ae.Name)

	literal := &ArgumentError{Name: "x", Reason: "is bad"}
	assert.EqualError(t, literal, "shellpool: invalid x: is bad", "a literal without a package still says whose error it is")
	assert.ErrorIs(t, literal, ErrInvalidArgument)
}

func TestServiceError(t *testing.T) {
	t.Parallel()
	re := responseError(t, http.StatusForbidden, `{"error":{"code":"AuthorizationFailed","message":" no write access "}}`)
	err := NewService("identity", "AssignRole", nil, "Grant it", re, nil)
	assert.EqualError(t, err, "identity: AssignRole: HTTP Forbidden (AuthorizationFailed): no write access. Grant it")
	var got *azcore.ResponseError
	require.ErrorAs(t, error(err), &got)
	assert.Same(t, re, got)

	kind := errors.New("identity: thing not found")
	withCause := NewService("identity", "", kind, "", re, context.DeadlineExceeded)
	assert.EqualError(t, withCause, "identity: thing not found: HTTP Forbidden (AuthorizationFailed): no write access; stopped: context deadline exceeded")
	assert.ErrorIs(t, withCause, kind)
	assert.ErrorIs(t, withCause, context.DeadlineExceeded)
	assert.Len(t, withCause.Unwrap(), 3, "Kind, Response and Cause")

	bare := NewService("pool", "Get", nil, "", nil, nil)
	assert.EqualError(t, bare, "pool: Get: request failed")
	assert.Empty(t, bare.Unwrap())
	assert.Empty(t, ServiceMessage(nil))
	assert.Empty(t, ServiceMessage(responseError(t, 500, `not json`)))
}

func TestSetServiceFormat(t *testing.T) {
	t.Parallel()
	re := responseError(t, http.StatusNotFound, `{"error":{"code":"Gone","message":"m"}}`)
	SetServiceFormat("sdkerrtest", func(e *ServiceError) string { return "sdkerrtest: " + e.Advice + " " + e.Response.ErrorCode })
	assert.EqualError(t, NewService("sdkerrtest", "Op", nil, "advice", re, nil), "sdkerrtest: advice Gone")
	assert.EqualError(t, NewService("sdkerrtest2", "Op", nil, "advice", re, nil), "sdkerrtest2: Op: HTTP Not Found (Gone): m. advice",
		"another package keeps the common text")
}
