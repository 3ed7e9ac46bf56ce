package azname

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRules(t *testing.T) {
	t.Parallel()
	type rule func(string) string
	cases := []struct {
		name      string
		rule      rule
		good, bad []string
	}{
		{"region", RegionRule,
			[]string{"eastus", "North Central US", "eastus2", "East US 2"},
			[]string{"", " ", "Not A Region!!", "east-us", "east/us", " eastus", "eastus ", "..", "12", "eastus\n", strings.Repeat("a", 65)}},
		{"resource group", ResourceGroupRule,
			[]string{"rg", "my-rg_1", "rg(1).x", "Gruppe-Ä", strings.Repeat("a", 90)},
			[]string{"", ".", "..", "../x", "a/b", "rg.", "bad group", "rg?", "rg#", "rg%2F", strings.Repeat("a", 91)}},
		{"subscription", SubscriptionRule,
			[]string{"00000000-0000-0000-0000-000000000001", "sub1"},
			[]string{"", "..", "a/b", "sub 1", "sub%2F", strings.Repeat("a", 65)}},
		{"namespace", NamespaceRule,
			[]string{"Microsoft.App", "Microsoft.ManagedIdentity", "84codes.CloudAMQP"},
			[]string{"", "Microsoft", "../x", "..", "Microsoft..App", "Microsoft.App/x", "Microsoft.App?", ".App", "Micro-soft.App"}},
		{"segment", SegmentRule,
			[]string{"x", "dep(1)", "a.b"},
			[]string{"", ".", "..", "a/b", `a\b`, "a?b", "a#b", "a%2Fb", " a", "a\x00"}},
		{"scope", ScopeRule,
			[]string{
				"/subscriptions/sub1",
				"/subscriptions/sub1/",
				"/subscriptions/sub1/resourceGroups/rg",
				"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.App/sessionPools/pool",
				"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
				"/subscriptions/sub1/providers/Microsoft.Authorization/roleDefinitions/r",
				"/providers/Microsoft.Management/managementGroups/mg",
			},
			[]string{
				"", "/", "relative/scope", "subscriptions/sub1", "/subscriptions", "/subscriptions/..",
				"/subscriptions/sub1/resourceGroups", "/subscriptions/sub1/resourceGroups/../x",
				"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.App/sessionPools",
				"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.App/sessionPools/..",
				"/subscriptions/sub1/resourceGroups/rg/x", "/subscriptions/sub1//resourceGroups/rg",
				"/subscriptions/sub1/resourceGroups/rg?x=1", "/relative/scope", "/providers/Bad/x/y",
			}},
	}
	for _, tc := range cases {
		for _, v := range tc.good {
			assert.Empty(t, tc.rule(v), "%s %q is valid", tc.name, v)
		}
		for _, v := range tc.bad {
			assert.NotEmpty(t, tc.rule(v), "%s %q is invalid", tc.name, v)
		}
	}
	for _, v := range []string{"North Central US", "East US 2", "eastus"} {
		assert.Regexp(t, `^[a-z0-9]+$`, NormalizeRegion(v), "a valid region normalises to [a-z0-9]+")
	}
}

// One pool-name rule, with a message that fits the name it was given.
func TestPoolNameRule(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"myshellpool", "abc", "a1b2", strings.Repeat("a", 63)} {
		assert.Empty(t, PoolNameRule(good), good)
	}
	tests := map[string]string{
		"":                      "is empty; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$)",
		"My_Pool!":              `contains upper-case letters and '_', '!'; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$), such as "mypool"`,
		"my pool":               `contains ' '; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$), such as "mypool"`,
		"my-session-pool":       `contains '-' (hyphens are not allowed, although some Azure documentation shows hyphenated pool names); a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$), such as "mysessionpool"`,
		"MyPool":                `contains upper-case letters; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$), such as "mypool"`,
		"ab":                    "is 2 characters long; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$)",
		strings.Repeat("a", 64): "is 64 characters long; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$)",
		"1pool":                 "starts with '1'; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$)",
		"a/b":                   "contains '/'; a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$)",
	}
	for name, want := range tests {
		assert.Equal(t, want, PoolNameRule(name), "%q", name)
	}
}
