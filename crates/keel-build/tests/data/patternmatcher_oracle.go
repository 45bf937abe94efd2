// The oracle of keel's differential test (crates/keel-build/tests/context.rs): moby/patternmatcher
// itself. Reads "pattern\x1fpattern...\tpath" lines; prints "<walk><orparent>" as 0/1
// (MatchesUsingParentResults fed from the root, MatchesOrParentMatches), or "E" when a pattern
// is refused.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
)

// Current Go's filepath.Match also reports a malformed chunk after a mismatch; Debian 12's Go
// 1.19 does not. Docker is built with a current Go, so validate every chunk here as it does.
func chunksValid(p string) bool {
	for len(p) > 0 {
		p = strings.TrimLeft(p, "*")
		inRange, i := false, 0
	scan:
		for ; i < len(p); i++ {
			switch p[i] {
			case '\\':
				if i+1 < len(p) {
					i++
				}
			case '[':
				inRange = true
			case ']':
				inRange = false
			case '*':
				if !inRange {
					break scan
				}
			}
		}
		if _, err := filepath.Match(p[:i], ""); err != nil {
			return false
		}
		p = p[i:]
	}
	return true
}

// Whether keel should accept the pattern: it compiles every pattern up front, moby only those
// it gets to evaluate, so force the evaluation (an exception is evaluated after a match).
func compiles(raw string) bool {
	p := strings.TrimSpace(raw)
	if p == "" {
		return true
	}
	p = filepath.Clean(p)
	list := []string{raw}
	text := p
	if p[0] == '!' {
		list = []string{"**", raw}
		text = p[1:]
	}
	if !chunksValid(text) {
		return false
	}
	pm, err := patternmatcher.New(list)
	if err != nil {
		return false
	}
	_, err = pm.MatchesOrParentMatches("x")
	return err == nil
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		line := in.Text()
		tab := strings.LastIndex(line, "\t")
		patterns := strings.Split(line[:tab], "\x1f")
		path := line[tab+1:]
		ok := true
		for _, p := range patterns {
			ok = ok && compiles(p)
		}
		pm, err := patternmatcher.New(patterns)
		if !ok || err != nil {
			fmt.Fprintln(out, "E")
			continue
		}
		info := patternmatcher.MatchInfo{}
		parts := strings.Split(path, "/")
		var walk bool
		for i := range parts {
			walk, info, err = pm.MatchesUsingParentResults(strings.Join(parts[:i+1], "/"), info)
			if err != nil {
				break
			}
		}
		orp, err2 := pm.MatchesOrParentMatches(path)
		if err != nil || err2 != nil {
			fmt.Fprintln(out, "E")
			continue
		}
		b := func(v bool) string {
			if v {
				return "1"
			}
			return "0"
		}
		fmt.Fprintln(out, b(walk)+b(orp))
	}
}
