package shellpool_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// api is what the module's packages export: for each package name, its
// exported top-level names, and for each exported type, its fields and
// methods.
type api struct {
	names   map[string]map[string]bool            // package -> name
	members map[string]map[string]map[string]bool // package -> type -> member
	all     map[string]bool                       // every exported name, field and method, and test function
}

// loadAPI parses every non-test Go file of the module (every platform's).
func loadAPI(t *testing.T) api {
	t.Helper()
	a := api{names: map[string]map[string]bool{}, members: map[string]map[string]map[string]bool{}, all: map[string]bool{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, "_test.go") { // tests and benchmarks the docs name
			for _, decl := range f.Decls {
				if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.IsExported() {
					a.all[fn.Name.Name] = true
				}
			}
			return nil
		}
		pkg := f.Name.Name
		if pkg == "main" {
			return nil
		}
		if a.names[pkg] == nil {
			a.names[pkg], a.members[pkg] = map[string]bool{}, map[string]map[string]bool{}
		}
		member := func(typ, name string) {
			if a.members[pkg][typ] == nil {
				a.members[pkg][typ] = map[string]bool{}
			}
			a.members[pkg][typ][name] = true
			a.all[name] = true
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					a.names[pkg][d.Name.Name], a.all[d.Name.Name] = true, true
					continue
				}
				typ := d.Recv.List[0].Type
				for {
					switch x := typ.(type) {
					case *ast.StarExpr:
						typ = x.X
						continue
					case *ast.IndexExpr:
						typ = x.X
						continue
					case *ast.IndexListExpr:
						typ = x.X
						continue
					}
					break
				}
				if id, ok := typ.(*ast.Ident); ok {
					member(id.Name, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								a.names[pkg][n.Name], a.all[n.Name] = true, true
							}
						}
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						a.names[pkg][s.Name.Name], a.all[s.Name.Name] = true, true
						switch st := s.Type.(type) {
						case *ast.StructType:
							for _, fld := range st.Fields.List {
								if len(fld.Names) == 0 { // embedded: the field is named by its type
									typ := fld.Type
									if x, ok := typ.(*ast.StarExpr); ok {
										typ = x.X
									}
									switch x := typ.(type) {
									case *ast.Ident:
										member(s.Name.Name, x.Name)
									case *ast.SelectorExpr:
										member(s.Name.Name, x.Sel.Name)
										member(s.Name.Name, promoted) // another package's fields and methods
									}
								}
								for _, n := range fld.Names {
									member(s.Name.Name, n.Name)
								}
							}
						case *ast.InterfaceType:
							for _, m := range st.Methods.List {
								for _, n := range m.Names {
									member(s.Name.Name, n.Name)
								}
							}
						}
					}
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	return a
}

// external are names the docs use that are not this module's: Azure SDK
// types and options, and values of the wire protocol (error codes, states).
// Add a name here when a doc names such a value in backquotes.
var external = map[string]bool{
	"DefaultAzureCredential": true, "ManagedIdentityCredential": true, "ClientSecretCredential": true,
	"DisableInstanceDiscovery": true, "Authorization": true, "Succeeded": true,
	"MaxConcurrentSessionsReached": true, "PrincipalNotFound": true, "SessionMCPServerNotEnabled": true,
}

// promoted marks a type that embeds another package's type, whose fields
// and methods this test does not know.
const promoted = "*"

var (
	spanRE  = regexp.MustCompile("`([^`\n]+)`")
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
)

// check returns what is wrong with a reference in backquotes, or "" when
// it names something that exists or is not a reference to this module's
// Go API. qualifiedOnly checks only pkg.Name references.
func (a api) check(span string, qualifiedOnly bool) string {
	ref := span
	if i := strings.IndexByte(ref, '('); i > 0 { // Client.NewSessionClient(id), Close()
		ref = ref[:i]
	}
	ref = strings.TrimPrefix(ref, "*")
	ref = strings.TrimPrefix(ref, "&")
	if !identRE.MatchString(ref) {
		return ""
	}
	parts := strings.Split(ref, ".")
	if names, ok := a.names[parts[0]]; ok && len(parts) > 1 {
		if !ast.IsExported(parts[1]) {
			return "" // a span attribute such as sessions.session_id
		}
		if !names[parts[1]] {
			return "package " + parts[0] + " has no " + parts[1]
		}
		if len(parts) > 2 {
			if ms, isType := a.members[parts[0]][parts[1]]; isType && !ms[promoted] && !ms[parts[2]] {
				return parts[0] + "." + parts[1] + " has no field or method " + parts[2]
			}
		}
		return ""
	}
	if qualifiedOnly || !ast.IsExported(parts[0]) {
		return ""
	}
	if len(parts) == 1 {
		if a.all[ref] || external[ref] || !strings.ContainsAny(ref[1:], "abcdefghijklmnopqrstuvwxyz") {
			return ""
		}
		return "no package of the module has " + ref
	}
	// Type.Member: the type must be one of the module's, with that member.
	found := false
	for pkg := range a.members {
		if ms, ok := a.members[pkg][parts[0]]; ok {
			found = true
			if ms[parts[1]] || ms[promoted] {
				return ""
			}
		}
	}
	if !found {
		return "" // not one of the module's types (an Azure SDK type, a JSON path)
	}
	return parts[0] + " has no field or method " + parts[1]
}

// currentChangelog returns the CHANGELOG's sections up to the first released
// version, with what they name as gone dropped: the old side of each
// "old -> new", "(was ...)" asides, clauses saying something was removed,
// and every other mention of a name that one of those calls old (an entry
// of an earlier unreleased section that a later rename superseded).
func currentChangelog(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	text := string(data)
	released := regexp.MustCompile(`(?m)^## v\d+\.\d+\.\d+\s*$`).FindStringIndex(text)
	require.NotNil(t, released, "CHANGELOG.md has a released version")
	text = text[:released[0]]
	old := map[string]bool{}
	note := func(s string) {
		for _, m := range spanRE.FindAllStringSubmatch(s, -1) {
			old[m[1]] = true
			if i := strings.IndexByte(m[1], '.'); i > 0 { // Client.Run also names Run of Client
				old[m[1][i+1:]] = true
			}
		}
	}
	was := regexp.MustCompile(`(?s)\(was [^)]*\)`)
	arrow := regexp.MustCompile("`[^`\n]+`(\\s*(,|and|or|/)\\s*`[^`\n]+`)*\\s*->")
	for _, m := range was.FindAllString(text, -1) {
		note(m)
	}
	for _, m := range arrow.FindAllString(text, -1) {
		note(m)
	}
	text = arrow.ReplaceAllString(was.ReplaceAllString(text, ""), "->")
	var kept []string
	for _, clause := range regexp.MustCompile(`;|\. |\n- `).Split(text, -1) {
		lower := strings.ToLower(clause)
		if strings.Contains(lower, "removed") || strings.Contains(lower, "gone") || strings.Contains(lower, " was ") ||
			strings.Contains(lower, "no longer") || strings.Contains(lower, "instead of") || strings.Contains(lower, "renamed") {
			note(clause)
			continue
		}
		kept = append(kept, clause)
	}
	out := strings.Join(kept, "\n")
	return spanRE.ReplaceAllStringFunc(out, func(span string) string {
		if old[strings.Trim(span, "`")] {
			return ""
		}
		return span
	})
}

// Every Go identifier of this module that the README, the docs and the
// changelog's current section name exists: a rename that forgets the docs
// fails here.
func TestDocsNameOnlyWhatExists(t *testing.T) {
	t.Parallel()
	a := loadAPI(t)
	require.Contains(t, a.names, "sessions")
	require.True(t, a.names["sessions"]["Audience"], "the parser found sessions.Audience")

	docs := map[string]string{"CHANGELOG.md (current section)": currentChangelog(t)}
	for _, name := range []string{"README.md", "examples/README.md", "docs/API.md", "docs/benchmarks.md"} {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		docs[name] = string(data)
	}
	for name, text := range docs {
		var problems []string
		for _, m := range spanRE.FindAllStringSubmatch(text, -1) {
			if p := a.check(m[1], name == "docs/API.md"); p != "" && !slices.Contains(problems, "`"+m[1]+"`: "+p) {
				problems = append(problems, "`"+m[1]+"`: "+p)
			}
		}
		assert.Empty(t, problems, "%s names what does not exist", name)
	}
}

// The checker itself: it flags a removed name and passes a present one.
func TestDocsCheckerFlagsStaleNames(t *testing.T) {
	t.Parallel()
	a := loadAPI(t)
	assert.Empty(t, a.check("sessions.Audience", false))
	assert.Empty(t, a.check("sessions.NewClient(endpoint, cred, nil)", false))
	assert.Empty(t, a.check("Execution.RedactedSessionID", false))
	assert.NotEmpty(t, a.check("sessions.DefaultAudience", false))
	assert.NotEmpty(t, a.check("sessionstest.Server.PoolControlOf", false))
	assert.NotEmpty(t, a.check("Execution.SessionID", false))
	assert.Empty(t, a.check("Microsoft.App", false), "not a module type")
}

// Every section of docs/API.md that the code and the docs cite exists.
func TestCitedAPISectionsExist(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("docs/API.md")
	require.NoError(t, err)
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (\d+(?:\.\d+)*)[ .]`).FindAllStringSubmatch(string(data), -1) {
		sections[m[1]] = true
	}
	require.True(t, sections["1.9.1"], "docs/API.md has §1.9.1 (live measurements)")
	cite := regexp.MustCompile(`(RFC \d+ )?§\s?(\d+(?:\.\d+)*)`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range cite.FindAllStringSubmatch(line, -1) {
				if m[1] == "" && !sections[m[2]] {
					t.Errorf("%s:%d cites §%s, which docs/API.md does not have", path, i+1, m[2])
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// The docs link only to files the project has.
func TestDocLinksExist(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), target)); err != nil {
				t.Errorf("%s links to %s, which the project does not have", path, target)
			}
		}
		return nil
	})
	require.NoError(t, err)
}
