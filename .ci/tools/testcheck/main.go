// Command testcheck reads go test -json on its standard input, prints what
// go test without -json and -v would have printed (the output of failed
// tests and each package's result; -v prints everything), and fails when a package printed ok
// although none of its tests passed: every test skipped (a service the
// tests need was missing) or none ran. Such an ok hides that nothing was
// tested; a package of tests that need something absent must fail or run
// against a stand-in instead.
//
//	go test -json ./... | go -C .ci/tools run ./testcheck
//
// It exits 1 when a test or a build failed too, so a pipeline fails even
// without pipefail.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is the part of a test2json event testcheck reads.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	verbose := flag.Bool("v", false, "print every test's output, as go test -v does")
	flag.Parse()
	os.Exit(run(*verbose))
}

func run(verbose bool) int {
	passed := map[string]int{}  // package → top-level tests, examples and fuzz seeds that passed
	skipped := map[string]int{} // package → those that skipped
	var okPkgs []string
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	held := map[[2]string][]string{} // package and top-level test → its output, printed if it fails
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event: pass it on (go test's exit status tells
			// whether something failed).
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		top := e.Test != "" && !strings.Contains(e.Test, "/")
		k := [2]string{e.Package, strings.SplitN(e.Test, "/", 2)[0]}
		switch {
		case e.Output == "":
		case !verbose && e.Test == "" && e.Output == "PASS\n":
			// go test prints a passing package's PASS only with -v.
		case verbose || e.Test == "":
			out.WriteString(e.Output)
		default:
			held[k] = append(held[k], e.Output)
		}
		if top && e.Action != "output" {
			if e.Action == "fail" {
				for _, o := range held[k] {
					out.WriteString(o)
				}
			}
			if e.Action == "fail" || e.Action == "pass" || e.Action == "skip" {
				delete(held, k)
			}
		}
		switch {
		case e.Action == "fail", e.Action == "build-fail":
			failed = true
		case top && e.Action == "pass":
			passed[e.Package]++
		case top && e.Action == "skip":
			skipped[e.Package]++
		case e.Test == "" && e.Action == "pass":
			okPkgs = append(okPkgs, e.Package)
		}
		if e.Action != "output" {
			out.Flush()
		}
	}
	out.Flush()
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testcheck:", err)
		return 1
	}
	sort.Strings(okPkgs)
	var empty []string
	for _, p := range okPkgs {
		if passed[p] == 0 {
			empty = append(empty, fmt.Sprintf("%s (%d skipped, none passed)", p, skipped[p]))
		}
	}
	if len(empty) > 0 {
		fmt.Fprintln(os.Stderr, "testcheck: go test printed ok for packages in which no test passed:")
		for _, p := range empty {
			fmt.Fprintln(os.Stderr, "\t"+p)
		}
		return 1
	}
	if failed {
		return 1
	}
	if len(okPkgs) == 0 {
		fmt.Fprintln(os.Stderr, "testcheck: no package passed")
		return 1
	}
	return 0
}
