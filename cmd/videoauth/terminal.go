package main

import (
	"bufio"
	"context"
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
	return ok && term.IsTerminal(int(file.Fd()))
}

// termCols returns how to read the width of the terminal f is, in
// columns (0 when f is no terminal or its size cannot be read).
func termCols(f any) func() int {
	file, ok := f.(*os.File)
	if !ok {
		return nil
	}
	return func() int {
		w, _, err := term.GetSize(int(file.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}

// prompter reads answers from the user: a line, or a secret without echo
// when the input is a terminal. Piped input (scripts, tests) is read a line at
// a time, so `printf 'user\npass\n' | videoauth login viki --password` works.
// A read gives up when ctx is done (Ctrl-C), leaving the terminal as it was.
type prompter struct {
	in  io.Reader
	out io.Writer
	br  *bufio.Reader
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{in: in, out: out, br: bufio.NewReader(in)}
}

// line asks for a visible answer.
func (p *prompter) line(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	s, err := p.readLine(ctx)
	if err == nil && !isTerminal(p.in) {
		fmt.Fprintln(p.out) // piped input is not echoed: end the prompt's line
	}
	return s, err
}

// secret asks for an answer that is not echoed. On a terminal, echo is
// turned off before the prompt is shown.
func (p *prompter) secret(ctx context.Context, prompt string) (string, error) {
	f, ok := p.in.(*os.File)
	if !ok || !isTerminal(f) {
		return p.line(ctx, prompt)
	}
	restore, err := echoOff(int(f.Fd()))
	if err != nil { // a platform without termios: x/term's own way
		fmt.Fprint(p.out, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.out)
		if err != nil {
			return "", p.inputErr(err)
		}
		return string(b), nil
	}
	defer func() { _ = restore() }() // nothing better to do if the terminal cannot be restored
	fmt.Fprint(p.out, prompt)
	s, err := p.readLine(ctx)
	fmt.Fprintln(p.out) // the user's Enter was not echoed either
	return s, err
}

// readLine reads one line, or gives up when ctx is done.
func (p *prompter) readLine(ctx context.Context) (string, error) {
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		s, err := p.br.ReadString('\n')
		ch <- answer{s, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case a := <-ch:
		if a.err != nil && (a.s == "" || !errors.Is(a.err, io.EOF)) {
			return "", p.inputErr(a.err)
		}
		return strings.TrimRight(a.s, "\r\n"), nil
	}
}

func (p *prompter) inputErr(err error) error {
	if errors.Is(err, io.EOF) {
		return usageErr("Type the answer at the prompt, or pipe it on standard input.", "no input")
	}
	return &cliError{code: exitFailure, msg: "cannot read the input", err: err}
}
