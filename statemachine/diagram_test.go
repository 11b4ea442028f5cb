package statemachine

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the diagrams in docs/statemachine from the transition tables")

// mermaid renders a transition table as a Mermaid stateDiagram-v2, one
// arrow per pair of states with the triggers that lead along it.
func mermaid(title, machine string, table []Transition, initial State) string {
	type edge struct{ from, to State }
	var order []edge
	labels := map[edge][]string{}
	terminal := map[State]bool{}
	for _, t := range table {
		e := edge{t.From, t.To}
		if labels[e] == nil {
			order = append(order, e)
		}
		labels[e] = append(labels[e], t.On.String())
		if t.To.Terminal() && !terminal[t.To] {
			terminal[t.To] = true
		}
	}
	var b strings.Builder
	b.WriteString("# " + title + "\n\n")
	b.WriteString("<!-- Generated from " + machine + " by `go test ./statemachine -run TestDiagrams -update`. Do not edit. -->\n\n")
	b.WriteString("```mermaid\nstateDiagram-v2\n")
	b.WriteString("    [*] --> " + initial.String() + "\n")
	for _, e := range order {
		b.WriteString("    " + e.from.String() + " --> " + e.to.String() + " : " + strings.Join(labels[e], ", ") + "\n")
	}
	for _, s := range []State{Done, Closed, Failed} {
		if terminal[s] {
			b.WriteString("    " + s.String() + " --> [*]\n")
		}
	}
	b.WriteString("```\n")
	return b.String()
}

func TestDiagrams(t *testing.T) {
	diagrams := []struct {
		file string
		text string
	}{
		{"client.md", mermaid("statemachine.Client", "ClientTransitions", ClientTransitions(), Connecting)},
		{"server.md", mermaid("statemachine.ServerConn", "ServerTransitions", ServerTransitions(), Open)},
	}
	for _, d := range diagrams {
		path := filepath.Join("..", "docs", "statemachine", d.file)
		if *update {
			if err := os.WriteFile(path, []byte(d.text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v; run go test ./statemachine -run TestDiagrams -update", err)
		}
		if string(got) != d.text {
			t.Errorf("%s is stale: it does not match the transition table; run go test ./statemachine -run TestDiagrams -update", path)
		}
	}
}
