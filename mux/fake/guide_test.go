package fake_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuideQuotes: every Go block of docs/guide-testing-with-fake.md that
// begins with a comment naming a file of this repository is quoted from
// that file, word for word, so that the guide cannot drift from the code
// its test runs.
func TestGuideQuotes(t *testing.T) {
	root := filepath.Join("..", "..")
	guide, err := os.ReadFile(filepath.Join(root, "docs", "guide-testing-with-fake.md"))
	if err != nil {
		t.Fatalf("reading the guide: %v", err)
	}
	quotes := 0
	for i, block := range strings.Split(string(guide), "```go\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		name, body, _ := strings.Cut(block, "\n")
		path, ok := strings.CutPrefix(name, "// ")
		if !ok || !strings.HasSuffix(path, ".go") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("Go block %d quotes %s: %v", i+1, path, err)
			continue
		}
		if !strings.Contains(string(src), body) {
			t.Errorf("Go block %d of the guide, quoted from %s, is not in that file any more:\n%s", i+1, path, body)
		}
		quotes++
	}
	if quotes < 4 {
		t.Errorf("the guide quotes %d Go blocks from the repository; want the naive loop's 4 at least", quotes)
	}
}
