package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// isTerminal reports whether f (an io.Reader or io.Writer) is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && termIsTerminal(file)
}

// termIsTerminal reports whether f is a terminal.
func termIsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// prompter reads answers from the user: a line, or a secret without echo
// when the input is a terminal. Piped input (scripts, tests) is read a line at
// a time, so `printf 'user\npass\n' | videoauth login viki --password` works.
type prompter struct {
	in  io.Reader
	out io.Writer
	br  *bufio.Reader
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{in: in, out: out, br: bufio.NewReader(in)}
}

// line asks for a visible answer.
func (p *prompter) line(prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	s, err := p.br.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", p.inputErr(err)
	}
	if f, ok := p.in.(*os.File); !ok || !termIsTerminal(f) {
		fmt.Fprintln(p.out) // piped input is not echoed: end the prompt's line
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// secret asks for an answer that is not echoed on a terminal.
func (p *prompter) secret(prompt string) (string, error) {
	f, ok := p.in.(*os.File)
	if !ok || !termIsTerminal(f) || p.br.Buffered() > 0 {
		return p.line(prompt)
	}
	fmt.Fprint(p.out, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(p.out) // the user's Enter was not echoed either
	if err != nil {
		return "", p.inputErr(err)
	}
	return string(b), nil
}

func (p *prompter) inputErr(err error) error {
	if errors.Is(err, io.EOF) {
		return usageErr("Type the answer at the prompt, or pipe it on standard input.", "no input")
	}
	return &cliError{code: exitFailure, msg: "cannot read the input", err: err}
}
