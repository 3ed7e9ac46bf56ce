package pool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/shellpool/shellpool/internal/armfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secretToken = "secret-arm-token-0123456789"

// countingCred hands out secretToken and counts how often it was asked.
type countingCred struct{ n atomic.Int32 }

func (c *countingCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.n.Add(1)
	return azcore.AccessToken{Token: secretToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// badNames are path segments that must never reach ARM.
var badNames = []string{"", "..", "../x", ".", "a/b", "bad name!", "x%2F..", "x?y", "x#y", `x\y`, " x"}

func TestEveryNameValidatedBeforeSending(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cred := &countingCred{}
	c, err := NewClient(testSub, cred, f.options())
	require.NoError(t, err)
	ctx := t.Context()
	type method struct {
		name string
		call func(v string) error
	}
	methods := []method{
		{"Get name", func(v string) error { _, err := c.Get(ctx, testRG, v, nil); return err }},
		{"Get group", func(v string) error { _, err := c.Get(ctx, v, "myshellpool", nil); return err }},
		{"BeginDelete name", func(v string) error { _, err := c.BeginDelete(ctx, testRG, v, nil); return err }},
		{"BeginDelete group", func(v string) error { _, err := c.BeginDelete(ctx, v, "myshellpool", nil); return err }},
		{"BeginUpdate name", func(v string) error {
			_, err := c.BeginUpdate(ctx, testRG, v, SessionPoolUpdate{Tags: map[string]string{"a": "b"}}, nil)
			return err
		}},
		{"BeginUpdate group", func(v string) error {
			_, err := c.BeginUpdate(ctx, v, "myshellpool", SessionPoolUpdate{Tags: map[string]string{"a": "b"}}, nil)
			return err
		}},
		{"BeginCreateOrUpdate name", func(v string) error {
			_, err := c.BeginCreateOrUpdate(ctx, testRG, v, *NewShellPool("", "eastus"), nil)
			return err
		}},
		{"BeginCreateOrUpdate group", func(v string) error {
			_, err := c.BeginCreateOrUpdate(ctx, v, "myshellpool", *NewShellPool("", "eastus"), nil)
			return err
		}},
		{"BeginCreateOrUpdate region", func(v string) error {
			_, err := c.BeginCreateOrUpdate(ctx, testRG, "myshellpool", *NewShellPool("", v), nil)
			return err
		}},
		{"GetDeployment name", func(v string) error { _, err := c.GetDeployment(ctx, testRG, v, nil); return err }},
		{"GetDeployment group", func(v string) error { _, err := c.GetDeployment(ctx, v, "dep1", nil); return err }},
		{"BeginDeploy group", func(v string) error {
			_, err := c.BeginDeploy(ctx, v, "dep1", NewTemplate(NewShellPool("myshellpool", "eastus")), nil)
			return err
		}},
		{"GetProvider", func(v string) error { _, err := c.GetProvider(ctx, v, nil); return err }},
		{"BeginRegisterProvider", func(v string) error { _, err := c.BeginRegisterProvider(ctx, v, nil); return err }},
		{"GetResourceGroup", func(v string) error { _, err := c.GetResourceGroup(ctx, v, nil); return err }},
		{"BeginDeleteResourceGroup", func(v string) error { _, err := c.BeginDeleteResourceGroup(ctx, v, nil); return err }},
		{"CreateOrUpdateResourceGroup name", func(v string) error {
			_, err := c.CreateOrUpdateResourceGroup(ctx, v, ResourceGroup{Location: "eastus"}, nil)
			return err
		}},
		{"CreateOrUpdateResourceGroup region", func(v string) error {
			_, err := c.CreateOrUpdateResourceGroup(ctx, testRG, ResourceGroup{Location: v}, nil)
			return err
		}},
		{"NewListByResourceGroupPager", func(v string) error {
			_, err := c.NewListByResourceGroupPager(v, nil).NextPage(ctx)
			return err
		}},
		{"ResourceID name", func(v string) error { _, err := ResourceID(testSub, testRG, v); return err }},
		{"ResourceID group", func(v string) error { _, err := ResourceID(testSub, v, "myshellpool"); return err }},
		{"ResourceID subscription", func(v string) error { _, err := ResourceID(v, testRG, "myshellpool"); return err }},
	}
	extra := map[string][]string{
		"GetProvider":                        {"Microsoft", "Microsoft..App", "Microsoft.App/x"},
		"BeginRegisterProvider":              {"Microsoft", "Microsoft..App"},
		"BeginCreateOrUpdate region":         {"Not A Region!!", "east-us"},
		"CreateOrUpdateResourceGroup region": {"Not A Region!!"},
		"Get name":                           {"my-pool", "UPPER"},
		"GetResourceGroup":                   {"group.", strings.Repeat("g", 91)},
	}
	for _, m := range methods {
		for _, v := range append(append([]string(nil), badNames...), extra[m.name]...) {
			err := m.call(v)
			require.Error(t, err, "%s(%q) must be refused", m.name, v)
			assert.ErrorIs(t, err, ErrInvalidArgument, "%s(%q)", m.name, v)
			if m.name == "BeginCreateOrUpdate name" || m.name == "BeginCreateOrUpdate region" {
				var ve *ValidationError
				assert.ErrorAs(t, err, &ve, "%s(%q) gives the pool's *ValidationError", m.name, v)
			} else {
				var ae *ArgumentError
				assert.ErrorAs(t, err, &ae, "%s(%q) gives an *ArgumentError", m.name, v)
			}
			assert.Contains(t, err.Error(), "pool:", "%s(%q) names the package", m.name, v)
		}
	}
	assert.Empty(t, f.Requests(), "nothing is sent for a bad name")
	assert.Zero(t, cred.n.Load(), "no token is fetched for a bad name")
}

func TestNewClientRefusesBadSubscription(t *testing.T) {
	t.Parallel()
	for _, v := range badNames {
		cred := &countingCred{}
		_, err := NewClient(v, cred, nil)
		assert.ErrorIs(t, err, ErrInvalidArgument, "NewClient(%q)", v)
		assert.Zero(t, cred.n.Load())
	}
}

func TestJSONErrorsReachableWithErrorsAs(t *testing.T) {
	t.Parallel()
	_, err := ParseTemplate([]byte(`{"resources": [}`), nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	var syn *json.SyntaxError
	assert.ErrorAs(t, err, &syn, "a broken document's *json.SyntaxError is reachable")

	_, err = ParseTemplate([]byte(`{"resources":[{"type":"Microsoft.App/sessionPools","name":"p","location":"eastus","properties":{"scaleConfiguration":{"maxConcurrentSessions":"five"}}}]}`), nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	var typ *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &typ, "a wrongly typed field's *json.UnmarshalTypeError is reachable")

	unencodable := NewTemplate(NewShellPool("myshellpool", "eastus"))
	unencodable.Variables = map[string]any{"v": make(chan int)}
	_, err = unencodable.Render()
	require.ErrorIs(t, err, ErrInvalidArgument)
	var unsup *json.UnsupportedTypeError
	assert.ErrorAs(t, err, &unsup, "an unencodable template's *json.UnsupportedTypeError is reachable")

	tmpl := NewTemplate(NewShellPool("myshellpool", "eastus"))
	err = tmpl.AddResources(TemplateResource{Type: "x/y", APIVersion: "1", Name: "n", Extra: map[string]any{"sku": make(chan int)}})
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorAs(t, err, &unsup, "AddResources keeps the encoding error")

	f := setup(t)
	f.On(http.MethodGet, testPoolPath, step{Status: 200, Body: `{"name": 5}`})
	_, err = f.client(t).Get(t.Context(), testRG, "myshellpool", nil)
	require.Error(t, err)
	assert.ErrorAs(t, err, &typ, "a response that does not decode keeps the decoding error")
}

func TestSpansCarryNamespace(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.On(http.MethodGet, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
	f.On(http.MethodDelete, testPoolPath, step{Status: 204})
	f.On(http.MethodGet, "/subscriptions/sub1/resourcegroups/rg1", step{Status: 200, Body: `{"name":"rg1","location":"eastus"}`})
	f.On(http.MethodGet, "/subscriptions/sub1/resourcegroups/rg1/providers/Microsoft.Resources/deployments/dep1",
		step{Status: 404, Body: sprintf(armError, "DeploymentNotFound", "no such deployment")})
	f.On(http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App", step{Status: 200, Body: `{"namespace":"Microsoft.App","registrationState":"Registered"}`})
	rec := &armfake.SpanRecorder{}
	opts := f.options()
	opts.TracingProvider = rec.Provider()
	c, err := NewClient(testSub, &countingCred{}, opts)
	require.NoError(t, err)
	ctx := t.Context()
	_, err = c.Get(ctx, testRG, "myshellpool", nil)
	require.NoError(t, err)
	p, err := c.BeginDelete(ctx, testRG, "myshellpool", nil)
	require.NoError(t, err)
	_, err = p.PollUntilDone(ctx, pollFast)
	require.NoError(t, err)
	_, err = c.GetResourceGroup(ctx, testRG, nil)
	require.NoError(t, err)
	_, err = c.GetDeployment(ctx, testRG, "dep1", nil)
	require.Error(t, err, "a failing call is traced too")
	_, err = c.GetProvider(ctx, ProviderNamespace, nil)
	require.NoError(t, err)
	_, err = c.Get(ctx, testRG, "..", nil)
	require.Error(t, err)

	spans := rec.ByName()
	for name, ns := range map[string]string{
		"Client.Get": "Microsoft.App", "Client.BeginDelete": "Microsoft.App",
		"Client.GetResourceGroup": "Microsoft.Resources", "Client.GetDeployment": "Microsoft.Resources",
		"Client.GetProvider": "Microsoft.Resources",
	} {
		require.NotEmpty(t, spans[name], "span %s is recorded", name)
		for _, s := range spans[name] {
			assert.Equal(t, ns, s.Attrs["az.namespace"], "span %s", name)
		}
	}
	var httpSpans int
	for _, s := range rec.Spans() {
		if strings.HasPrefix(s.Name, "HTTP ") {
			httpSpans++
			assert.Contains(t, []any{"Microsoft.App", "Microsoft.Resources"}, s.Attrs["az.namespace"], "the HTTP span %s carries its method's namespace", s.Name)
		}
		for k, v := range s.Attrs {
			assert.NotContains(t, fmt.Sprint(v), secretToken, "span %s attribute %s", s.Name, k)
		}
		assert.NotContains(t, s.Status, secretToken)
		assert.NotContains(t, strings.Join(s.Events, " "), secretToken)
	}
	assert.Positive(t, httpSpans, "HTTP spans are recorded")
	assert.True(t, errors.Is(err, ErrInvalidArgument))
}
