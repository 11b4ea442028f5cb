package conformance

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/conformance.md from the list of checks")

// regenerate is the command that rewrites docs/conformance.md.
const regenerate = "go generate ./conformance"

// cell escapes what Markdown would read as a table's column or emphasis.
var cell = strings.NewReplacer("|", `\|`, "*", `\*`)

// checksPage returns docs/conformance.md: every check, by rule, with what
// it does.
func checksPage() string {
	var b strings.Builder
	b.WriteString("# The conformance checks\n\n")
	b.WriteString("<!-- Generated from the list of checks in conformance/checks.go by `" + regenerate + "`. Do not edit. -->\n\n")
	fmt.Fprintf(&b, "`conformance.Run` runs these %d checks, in this order, each on a fresh\n", len(checks))
	b.WriteString("Multiplexer, as subtests named like `TestConformance/rule04/never-early`.\n")
	b.WriteString("Run them with the race detector too (`go test -race`): some bugs only it\n")
	b.WriteString("sees. Rule 0 is the backend's self-description (`mux.Info`); rules 1 to 13\n")
	b.WriteString("are the contract, explained with the bugs behind each in\n")
	b.WriteString("[contract.md](contract.md). A check that does not apply to a backend, as\n")
	b.WriteString("its `mux.Info` says, is skipped, as are, off Unix, those that need signals\n")
	b.WriteString("or a thread's CPU clock. The test file that runs them on a backend is\n")
	b.WriteString("quoted whole in the package's documentation (`go doc\n")
	b.WriteString("github.com/muxkit/muxkit/conformance`).\n")
	for _, r := range ruleSummaries {
		fmt.Fprintf(&b, "\n## Rule %d: %s\n\n", r.Rule, r.Summary)
		b.WriteString("| check | what it does |\n| --- | --- |\n")
		for _, ck := range checks {
			if ck.rule == r.Rule {
				fmt.Fprintf(&b, "| `%s` | %s |\n", ck.name(), cell.Replace(ck.what))
			}
		}
	}
	return b.String()
}

func TestChecksPage(t *testing.T) {
	rules := map[int]bool{}
	for _, r := range ruleSummaries {
		rules[r.Rule] = true
	}
	names := map[string]bool{}
	for _, ck := range checks {
		switch {
		case ck.what == "" || !strings.HasSuffix(ck.what, "."):
			t.Errorf("check %s: what = %q; want a sentence saying what it does", ck.name(), ck.what)
		case !rules[ck.rule]:
			t.Errorf("check %s: rule %d is not in Rules()", ck.name(), ck.rule)
		case names[ck.name()]:
			t.Errorf("check %s: two checks have this name", ck.name())
		}
		names[ck.name()] = true
	}
	path := filepath.Join("..", "docs", "conformance.md")
	page := checksPage()
	if *update {
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run %s", err, regenerate)
	}
	if string(got) != page {
		t.Errorf("%s is stale: it does not match the list of checks; run %s", path, regenerate)
	}
}
