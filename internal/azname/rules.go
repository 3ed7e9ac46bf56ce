package azname

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The functions below return the rule a value breaks, as a phrase that
// completes "<value> ...", or "" when the value is valid. Packages wrap the
// phrase in their own error type.

// RegionRule checks an Azure region, given as a short name ("eastus2") or a
// display name ("East US 2"): ASCII letters, digits and spaces only, with at
// least one letter, and at most 64 characters. Its normalised form
// (NormalizeRegion) is then [a-z0-9]+, which is what host names and ARM's
// location field accept.
func RegionRule(region string) string {
	switch {
	case strings.TrimSpace(region) == "":
		return `is required (an Azure region such as "eastus" or "North Central US")`
	case len(region) > 64:
		return fmt.Sprintf("is %d characters long; a region name has at most 64", len(region))
	case strings.TrimSpace(region) != region:
		return "has leading or trailing white space; pass the region without it"
	}
	letter := false
	for _, r := range region {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9', r == ' ':
		default:
			return fmt.Sprintf(`contains %q: a region is letters, digits and spaces, such as "eastus" or "North Central US" (az account list-locations lists them)`, r)
		}
	}
	if !letter {
		return `has no letter: pass a region such as "eastus"`
	}
	return ""
}

// ResourceGroupRule checks a resource group name with ARM's rule: 1-90
// characters of letters, digits, '_', '-', '.', '(' and ')', not ending with
// a period. Letters and digits may be non-ASCII, as ARM allows.
func ResourceGroupRule(name string) string {
	switch {
	case name == "":
		return "is empty; pass the resource group's name"
	case utf8.RuneCountInString(name) > 90:
		return fmt.Sprintf("is %d characters long; a resource group name has 1-90", utf8.RuneCountInString(name))
	case strings.HasSuffix(name, "."):
		return "ends with '.'; a resource group name must not"
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return fmt.Sprintf("contains %q; use letters, digits, '_', '-', '.', '(' and ')' only", r)
		}
	}
	return ""
}

// SubscriptionRule checks a subscription ID. Azure's are GUIDs; any
// 1-64 ASCII letters, digits and hyphens are accepted so that emulators and
// tests may use short IDs, but nothing that could change the request path.
func SubscriptionRule(id string) string {
	switch {
	case id == "":
		return "is empty; pass the GUID of your subscription (az account show --query id)"
	case len(id) > 64:
		return "is longer than 64 characters; pass the GUID of your subscription (az account show --query id)"
	}
	for _, r := range id {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Sprintf("contains %q; pass the GUID of your subscription (az account show --query id)", r)
		}
	}
	return ""
}

// NamespaceRule checks a resource provider namespace such as "Microsoft.App":
// two or more segments of ASCII letters and digits separated by single
// periods, at most 64 characters.
func NamespaceRule(ns string) string {
	if ns == "" {
		return `is empty; pass a namespace such as "Microsoft.App"`
	}
	if len(ns) > 64 {
		return `is longer than 64 characters; pass a namespace such as "Microsoft.App"`
	}
	segs := strings.Split(ns, ".")
	if len(segs) < 2 {
		return `has no '.'; a provider namespace looks like "Microsoft.App"`
	}
	for _, s := range segs {
		if s == "" {
			return `has an empty segment; a provider namespace looks like "Microsoft.App"`
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return fmt.Sprintf(`contains %q; a provider namespace is letters and digits separated by '.', such as "Microsoft.App"`, r)
			}
		}
	}
	return ""
}

// SegmentRule checks a value that becomes one segment of a request path,
// where no stricter rule is known: not empty, not "." or "..", no '/', '\',
// '?', '#' or '%', no control characters and no leading or trailing space.
func SegmentRule(v string) string {
	switch {
	case v == "":
		return "is empty"
	case v == "." || v == "..":
		return fmt.Sprintf("is %q, which would change the request path", v)
	case strings.TrimSpace(v) != v:
		return "has leading or trailing white space"
	}
	for _, r := range v {
		if r == '/' || r == '\\' || r == '?' || r == '#' || r == '%' || unicode.IsControl(r) {
			return fmt.Sprintf("contains %q, which cannot be part of one path segment", r)
		}
	}
	return ""
}

// ScopeRule checks an ARM scope: an absolute resource ID such as
// /subscriptions/{sub}, /subscriptions/{sub}/resourceGroups/{rg},
// /subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}...]
// or /providers/{namespace}/{type}/{name} (a management group or another
// tenant-level resource). It returns the rule the scope breaks, or "".
func ScopeRule(scope string) string {
	const want = "; pass an absolute resource ID such as /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/sessionPools/{pool}"
	if scope == "" {
		return "is empty" + want
	}
	if !strings.HasPrefix(scope, "/") {
		return "is not absolute (it must start with /subscriptions/ or /providers/)" + want
	}
	segs := strings.Split(strings.TrimSuffix(scope[1:], "/"), "/")
	for i, s := range segs {
		if r := SegmentRule(s); r != "" {
			return fmt.Sprintf("segment %d %s", i+1, r) + want
		}
	}
	rest := segs
	switch {
	case strings.EqualFold(rest[0], "subscriptions"):
		if len(rest) < 2 {
			return "has no subscription ID after /subscriptions" + want
		}
		if r := SubscriptionRule(rest[1]); r != "" {
			return "subscription ID " + r
		}
		rest = rest[2:]
		if len(rest) > 0 && strings.EqualFold(rest[0], "resourceGroups") {
			if len(rest) < 2 {
				return "has no resource group name after /resourceGroups" + want
			}
			if r := ResourceGroupRule(rest[1]); r != "" {
				return "resource group name " + r
			}
			rest = rest[2:]
		}
		if len(rest) == 0 {
			return ""
		}
	case strings.EqualFold(rest[0], "providers"):
	default:
		return fmt.Sprintf("starts with %q (it must start with /subscriptions/ or /providers/)", "/"+rest[0]) + want
	}
	if !strings.EqualFold(rest[0], "providers") || len(rest) < 4 {
		return "must continue with /providers/{namespace}/{type}/{name}" + want
	}
	if r := NamespaceRule(rest[1]); r != "" {
		return "provider namespace " + r
	}
	if len(rest[2:])%2 != 0 {
		return "ends with a resource type without a name" + want
	}
	return ""
}

// Session pool name limits: the specification's pattern ^[a-z][a-z0-9]*$
// with 3 to 63 characters (docs/API.md §2.2). Hyphens are not allowed,
// although some Azure documentation shows hyphenated pool names.
const (
	PoolNamePattern = `^[a-z][a-z0-9]*$`
	poolNameMin     = 3
	poolNameMax     = 63
)

// PoolNameRule checks a session pool name against the specification's rule:
// 3-63 characters, lower-case ASCII letters and digits, starting with a
// letter (PoolNamePattern). The phrase names what is wrong with this name
// (upper case, a hyphen, other characters, its length, its first character)
// and, when lower-casing and dropping the other characters gives a valid
// name, suggests it.
func PoolNameRule(name string) string {
	const rule = "a session pool name is 3-63 lower-case letters and digits, starting with a letter (" + PoolNamePattern + ")"
	if name == "" {
		return "is empty; " + rule
	}
	var upper, hyphen bool
	var others []string
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 'A' && r <= 'Z':
			upper = true
		case r == '-':
			hyphen = true
		default:
			if q := fmt.Sprintf("%q", r); !slices.Contains(others, q) {
				others = append(others, q)
			}
		}
	}
	var problems []string
	if upper {
		problems = append(problems, "upper-case letters")
	}
	if hyphen {
		problems = append(problems, "'-' (hyphens are not allowed, although some Azure documentation shows hyphenated pool names)")
	}
	if len(others) > 0 {
		problems = append(problems, strings.Join(others, ", "))
	}
	var msg string
	n := utf8.RuneCountInString(name)
	switch {
	case len(problems) > 0:
		msg = "contains " + strings.Join(problems, " and ")
	case n < poolNameMin || n > poolNameMax:
		msg = fmt.Sprintf("is %d characters long", n)
	case name[0] < 'a' || name[0] > 'z':
		msg = fmt.Sprintf("starts with %q", name[0])
	default:
		return ""
	}
	if s := suggestPoolName(name); s != "" && s != name {
		return fmt.Sprintf("%s; %s, such as %q", msg, rule, s)
	}
	return msg + "; " + rule
}

// suggestPoolName lower-cases name and drops what a pool name cannot hold;
// it returns "" when that does not give a valid name.
func suggestPoolName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) < poolNameMin || len(s) > poolNameMax || s[0] < 'a' || s[0] > 'z' {
		return ""
	}
	return s
}
